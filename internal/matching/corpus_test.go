package matching

import (
	"testing"
)

// The register the corpus draws on: the sandbox's hard cases (internal/emis/sandbox/people.go) and
// a few more. NHS numbers are valid numbers from the 999 test range.
var (
	chiamaka    = Candidate{500, "9990000018", "Okafor", "Chiamaka", "2009-03-14", "LS1 4AP"} // twin
	chinwe      = Candidate{501, "9990000026", "Okafor", "Chinwe", "2009-03-14", "LS1 4AP"}   // twin
	khanLeeds   = Candidate{502, "9990000034", "Khan", "Mohammed", "1984-07-02", "LS6 2AB"}   // same name and birthday...
	khanBradf   = Candidate{503, "9990000042", "Khan", "Mohammed", "1984-07-02", "BD7 1DP"}   // ...different person
	annaMaria   = Candidate{504, "9990000050", "Smith-Jones", "Anna Maria", "1971-11-30", "NE1 5EF"}
	sean        = Candidate{505, "9990000069", "O'Brien", "Seán", "1958-05-06", "L8 0TY"}
	zoe         = Candidate{506, "9990000077", "D'Souza", "Zoë", "1990-12-01", "E1 6AN"}
	emilyFeb    = Candidate{507, "9990000085", "Brown", "Emily", "1985-02-03", "S1 2GH"} // 3 February
	emilyMar    = Candidate{508, "9990000093", "Brown", "Emily", "1985-03-02", "S1 2GH"} // 2 March
	iain        = Candidate{509, "9990000107", "MacLeod", "Iain", "1966-08-19", "OX1 2JD"}
	ian         = Candidate{510, "9990000115", "McLeod", "Ian", "1966-08-19", "OX4 1AA"}
	minh        = Candidate{511, "9990000123", "Nguyen", "Minh", "2019-06-21", "NG1 1AA"} // triplets
	lan         = Candidate{512, "9990000131", "Nguyen", "Lan", "2019-06-21", "NG1 1AA"}
	mai         = Candidate{513, "9990000158", "Nguyen", "Mai", "2019-06-21", "NG1 1AA"}
	joanne      = Candidate{514, "9990000166", "Taylor", "Joanne", "1979-09-09", "YO1 7HH"} // née Walker
	maryAnne    = Candidate{520, "9990000174", "Wilson", "Mary Anne", "1962-04-05", "CB2 1TN"}
	piotr       = Candidate{521, "", "Nowak", "Piotr", "1995-07-15", "LE1 5WW"} // no NHS number on the record
	priyaA      = Candidate{522, "9990000182", "Patel", "Priya", "1990-01-01", "LE1 1AA"}
	priyaB      = Candidate{523, "9990000190", "Patel", "Priya", "1990-01-01", "LE1 1AA"} // same house
	jean        = Candidate{524, "9990000204", "Martin", "Jean", "2015-05-05", "B1 1AA"}  // twins
	jeanLuc     = Candidate{525, "9998765439", "Martin", "Jean-Luc", "2015-05-05", "B1 1AA"}
	thiMinh     = Candidate{527, "9991112227", "Nguyen", "Thi Minh", "1975-10-10", "M14 5RD"}
	shouting    = Candidate{528, "9993334448", "OKAFOR", "NGOZI", "1960-01-31", "LS9 9ZZ"} // a record kept in capitals
	walker      = Candidate{530, "9995556669", "Walker", "Joanne", "1979-09-09", "YO1 7HH"}
	robert      = Candidate{531, "9990000026", "Hughes", "Robert", "1950-06-30", "SW1A 1AA"} // NHS number as chinwe's: a bad record
	muller      = Candidate{532, "", "Müller", "Jürgen", "1944-02-29", "N1 9GU"}
	sloppyDate  = Candidate{533, "", "Evans", "Ruth", "14/03/1970", "CF10 1EP"} // not yyyy-mm-dd
	withoutEMIS = Candidate{0, "", "Hall", "Grace", "1988-08-08", "LS2 7EW"}
)

func demog(nhs, family, given, dob, postcode string) Demographics {
	return Demographics{NHSNumber: nhs, FamilyName: family, GivenName: given, DateOfBirth: dob, Postcode: postcode}
}

func cands(cs ...Candidate) []Candidate { return cs }

// corpusCase is one hard case. want, emis and rule are what the rules require; truth is the
// registration that really is the patient (0 when none of those returned is, or nobody could
// tell), so that a link to anything but truth counts as a wrong link and a refusal where truth is
// known counts against recall.
type corpusCase struct {
	name  string
	given Demographics
	cands []Candidate
	want  Outcome
	emis  int64
	rule  string
	truth int64
}

var corpus = []corpusCase{
	// Twins, triplets and namesakes.
	{"twins with the same birthday are told apart by first name",
		demog("", "Okafor", "Chinwe", "2009-03-14", ""), cands(chiamaka, chinwe), Linked, 501, RuleDemographics, 501},
	{"a twin's NHS number under the other twin's name links neither",
		demog("9990000018", "Okafor", "Chinwe", "2009-03-14", ""), cands(chiamaka, chinwe), Unmatched, 0, RuleNHSNumberNameMismatch, 0},
	{"a twin's NHS number under the other twin's name links neither even if only the holder was found",
		demog("9990000018", "Okafor", "Chinwe", "2009-03-14", ""), cands(chiamaka), Unmatched, 0, RuleNHSNumberNameMismatch, 0},
	{"a twin's own NHS number and name link",
		demog("9990000018", "Okafor", "Chiamaka", "2009-03-14", "LS1 4AP"), cands(chiamaka, chinwe), Linked, 500, RuleNHSNumberAndDOB, 500},
	{"triplets are told apart by first name",
		demog("", "Nguyen", "Lan", "2019-06-21", ""), cands(minh, lan, mai), Linked, 512, RuleDemographics, 512},
	{"twins named Jean and Jean-Luc are ambiguous for Jean",
		demog("", "Martin", "Jean", "2015-05-05", ""), cands(jean, jeanLuc), Ambiguous, 0, RuleSeveralCandidates, 524},
	{"twins named Jean and Jean-Luc are ambiguous for Jean-Luc too, since Jean may lack his second name",
		demog("", "Martin", "Jean-Luc", "2015-05-05", "B1 1AA"), cands(jean, jeanLuc), Ambiguous, 0, RuleSeveralCandidates, 525},
	{"same name and birthday are told apart by postcode",
		demog("", "Khan", "Mohammed", "1984-07-02", "ls6 2ab"), cands(khanLeeds, khanBradf), Linked, 502, RuleDemographicsPostcode, 502},
	{"same name and birthday without a postcode are ambiguous",
		demog("", "Khan", "Mohammed", "1984-07-02", ""), cands(khanLeeds, khanBradf), Ambiguous, 0, RuleSeveralCandidates, 503},
	{"same name and birthday with a postcode neither has are ambiguous",
		demog("", "Khan", "Mohammed", "1984-07-02", "M1 1AE"), cands(khanLeeds, khanBradf), Ambiguous, 0, RuleSeveralCandidates, 0},
	{"same name, birthday and postcode are ambiguous",
		demog("", "Patel", "Priya", "1990-01-01", "LE1 1AA"), cands(priyaA, priyaB), Ambiguous, 0, RuleSeveralCandidates, 523},
	{"same name and birthday are told apart by NHS number",
		demog("999 000 0042", "Khan", "Mohammed", "1984-07-02", ""), cands(khanLeeds, khanBradf), Linked, 503, RuleNHSNumberAndDOB, 503},
	{"a postcode never makes up for a misspelt first name",
		demog("", "Khan", "Mohamed", "1984-07-02", "LS6 2AB"), cands(khanLeeds, khanBradf), Unmatched, 0, RuleNoMatch, 502},

	// Dates.
	{"swapped day and month do not link to the namesake born on the swapped date",
		demog("", "Brown", "Emily", "1985-02-03", ""), cands(emilyFeb, emilyMar), Linked, 507, RuleDemographics, 507},
	{"swapped day and month do not link when only the real record was found",
		demog("", "Brown", "Emily", "1985-03-02", ""), cands(emilyFeb), Unmatched, 0, RuleNoMatch, 507},
	{"a right NHS number with swapped day and month links nothing, not even the namesake with that date",
		demog("9990000085", "Brown", "Emily", "1985-03-02", ""), cands(emilyFeb, emilyMar), Unmatched, 0, RuleNHSNumberDOBMismatch, 507},
	{"a right NHS number with a wrong year links nothing",
		demog("9990000026", "Okafor", "Chinwe", "2008-03-14", ""), cands(chinwe), Unmatched, 0, RuleNHSNumberDOBMismatch, 501},
	{"a date of birth written dd/mm/yyyy is not read",
		demog("", "Okafor", "Chinwe", "14/03/2009", ""), cands(chinwe), Unmatched, 0, RuleDateOfBirthMissing, 501},
	{"no date of birth, no link, even with the NHS number",
		demog("9990000026", "Okafor", "Chinwe", "", ""), cands(chinwe), Unmatched, 0, RuleDateOfBirthMissing, 501},
	{"a record whose date of birth EMIS sent in another form never matches",
		demog("", "Evans", "Ruth", "1970-03-14", ""), cands(sloppyDate), Unmatched, 0, RuleNoMatch, 533},
	{"a leap-day birthday links",
		demog("", "Muller", "Jurgen", "1944-02-29", ""), cands(muller), Linked, 532, RuleDemographics, 532},

	// Typos and name changes.
	{"a typo in the family name links nothing",
		demog("", "Okafr", "Chinwe", "2009-03-14", ""), cands(chiamaka, chinwe), Unmatched, 0, RuleNoMatch, 501},
	{"a typo in the first name links nothing",
		demog("", "Okafor", "Chinew", "2009-03-14", ""), cands(chiamaka, chinwe), Unmatched, 0, RuleNoMatch, 501},
	{"MacLeod and McLeod are different names",
		demog("", "McLeod", "Iain", "1966-08-19", ""), cands(iain, ian), Unmatched, 0, RuleNoMatch, 509},
	{"Ian McLeod links to McLeod Ian, not MacLeod Iain",
		demog("", "McLeod", "Ian", "1966-08-19", ""), cands(iain, ian), Linked, 510, RuleDemographics, 510},
	{"a maiden name does not link to the married record",
		demog("", "Walker", "Joanne", "1979-09-09", ""), cands(joanne), Unmatched, 0, RuleNoMatch, 514},
	{"a maiden name with the NHS number links: surnames change, NHS numbers do not",
		demog("9990000166", "Walker", "Joanne", "1979-09-09", ""), cands(joanne), Linked, 514, RuleNHSNumberAndDOB, 514},
	{"a maiden name with the NHS number links nothing when another record has that maiden name and birthday",
		demog("9990000166", "Walker", "Joanne", "1979-09-09", ""), cands(joanne, walker), Unmatched, 0, RuleNHSNumberNamesConflict, 0},
	{"a nickname links nothing",
		demog("", "Hughes", "Bob", "1950-06-30", ""), cands(robert), Unmatched, 0, RuleNoMatch, 531},
	{"a transliteration (Mueller for Müller) links nothing",
		demog("", "Mueller", "Juergen", "1944-02-29", ""), cands(muller), Unmatched, 0, RuleNoMatch, 532},
	{"an initial is not a first name",
		demog("", "Okafor", "C", "2009-03-14", ""), cands(chiamaka, chinwe), Unmatched, 0, RuleNoMatch, 0},
	{"a digit zero for the letter O links nothing",
		demog("", "0kafor", "Chinwe", "2009-03-14", ""), cands(chinwe), Unmatched, 0, RuleNoMatch, 501},

	// NHS numbers.
	{"an NHS number failing the check digit is ignored and the names still link",
		demog("9990000019", "Okafor", "Chinwe", "2009-03-14", ""), cands(chiamaka, chinwe), Linked, 501, RuleDemographics, 501},
	{"an NHS number whose check digit would be 10 is ignored, leaving too little to link",
		demog("9991234560", "", "", "2009-03-14", ""), cands(chinwe), Unmatched, 0, RuleNotEnoughDetails, 0},
	{"an NHS number written with spaces and hyphens links",
		demog("999-000 0026", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe), Linked, 501, RuleNHSNumberAndDOB, 501},
	{"the NHS number and date of birth link without names",
		demog("9990000026", "", "", "2009-03-14", ""), cands(chinwe), Linked, 501, RuleNHSNumberAndDOB, 501},
	{"an NHS number nobody holds, with no names, links nothing",
		demog("9990000026", "", "", "2009-03-14", ""), cands(chiamaka), Unmatched, 0, RuleNHSNumberNotFound, 0},
	{"a record agreeing on names and birthday but holding another NHS number is a conflict",
		demog("9998765439", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe), Unmatched, 0, RuleDemographicsNHSConflict, 0},
	{"a record without an NHS number links on names and birthday even when one was given",
		demog("9998765439", "Nowak", "Piotr", "1995-07-15", ""), cands(piotr), Linked, 521, RuleDemographics, 521},
	{"two records holding one NHS number are ambiguous",
		demog("9990000026", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe, robert), Ambiguous, 0, RuleNHSNumberSeveral, 0},

	// Spelling variants that are the same name.
	{"O'Brien typed OBrien links",
		demog("", "OBrien", "Seán", "1958-05-06", ""), cands(sean), Linked, 505, RuleDemographics, 505},
	{"O'Brien typed O Brien links",
		demog("", "O Brien", "Sean", "1958-05-06", ""), cands(sean), Linked, 505, RuleDemographics, 505},
	{"a curly apostrophe and capitals link",
		demog("", "O’BRIEN", "SEÁN", "1958-05-06", ""), cands(sean), Linked, 505, RuleDemographics, 505},
	{"Seán typed without the accent links",
		demog("", "O'Brien", "Sean", "1958-05-06", ""), cands(sean), Linked, 505, RuleDemographics, 505},
	{"Zoë D'Souza typed Zoe Dsouza links",
		demog("", "Dsouza", "Zoe", "1990-12-01", ""), cands(zoe), Linked, 506, RuleDemographics, 506},
	{"Vietnamese diacritics typed in full link to a record kept without them",
		demog("", "Nguyễn", "Thị Minh", "1975-10-10", ""), cands(thiMinh, minh), Linked, 527, RuleDemographics, 527},
	{"Smith-Jones typed with a space links",
		demog("", "Smith Jones", "Anna", "1971-11-30", ""), cands(annaMaria), Linked, 504, RuleDemographics, 504},
	{"Smith-Jones typed as one word links",
		demog("", "SmithJones", "Anna-Maria", "1971-11-30", ""), cands(annaMaria), Linked, 504, RuleDemographics, 504},
	{"half of a double-barrelled name links nothing",
		demog("", "Jones", "Anna", "1971-11-30", ""), cands(annaMaria), Unmatched, 0, RuleNoMatch, 504},
	{"extra spaces around the input link",
		demog(" 9990000026 ", "  okafor ", " chinwe  ", " 2009-03-14 ", ""), cands(chinwe), Linked, 501, RuleNHSNumberAndDOB, 501},
	{"a record kept in capitals links",
		demog("", "Okafor", "Ngozi", "1960-01-31", ""), cands(shouting), Linked, 528, RuleDemographics, 528},

	// Middle names.
	{"a first name links to a record holding a middle name too",
		demog("", "Smith-Jones", "Anna", "1971-11-30", ""), cands(annaMaria), Linked, 504, RuleDemographics, 504},
	{"a middle name alone is not a first name",
		demog("", "Smith-Jones", "Maria", "1971-11-30", ""), cands(annaMaria), Unmatched, 0, RuleNoMatch, 504},
	{"a middle name given that EMIS does not hold does not stop the link",
		demog("", "Okafor", "Chinwe Adaeze", "2009-03-14", ""), cands(chiamaka, chinwe), Linked, 501, RuleDemographics, 501},
	{"a different middle name links nothing",
		demog("", "Wilson", "Mary Jane", "1962-04-05", ""), cands(maryAnne), Unmatched, 0, RuleNoMatch, 0},
	{"Mary links to Mary Anne",
		demog("", "Wilson", "Mary", "1962-04-05", ""), cands(maryAnne), Linked, 520, RuleDemographics, 520},

	// What the searches hand over.
	{"no candidates, no link",
		demog("9990000026", "Okafor", "Chinwe", "2009-03-14", ""), nil, Unmatched, 0, RuleNoCandidates, 0},
	{"the same registration returned by two searches counts once",
		demog("9990000026", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe, chiamaka, chinwe, chinwe), Linked, 501, RuleNHSNumberAndDOB, 501},
	{"the same registration returned by two searches counts once when matching on names",
		demog("", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe, chinwe), Linked, 501, RuleDemographics, 501},
	{"one EMIS number returned with two sets of details links nothing",
		demog("", "Okafor", "Chinwe", "2009-03-14", ""), cands(chinwe, Candidate{501, "9990000026", "Okafor", "Chinwe", "2009-03-14", "LS2 1AA"}),
		Unmatched, 0, RuleInconsistentCandidates, 0},
	{"a candidate without an EMIS number is never linked",
		demog("", "Hall", "Grace", "1988-08-08", ""), cands(withoutEMIS), Unmatched, 0, RuleCandidateWithoutEMISNumber, 0},
	{"only family name and birthday link nothing",
		demog("", "Okafor", "", "2009-03-14", ""), cands(chinwe), Unmatched, 0, RuleNotEnoughDetails, 0},
}

func TestCorpusOfHardCasesMakesNoWrongLink(t *testing.T) {
	t.Parallel()
	var links, rightLinks, wrongLinks, findable int
	for _, c := range corpus {
		v := Decide(c.given, c.cands)
		if v.Outcome != c.want || v.EMISNumber != c.emis || v.Rule != c.rule {
			t.Errorf("%s: got %s %d %s (%s); want %s %d %s", c.name, v.Outcome, v.EMISNumber, v.Rule, v.Reason, c.want, c.emis, c.rule)
		}
		if v.Reason == "" || len(v.Assessments) != len(uniqueNumbers(c.cands)) && v.Rule != RuleInconsistentCandidates {
			t.Errorf("%s: reason %q, %d assessments for %d candidates", c.name, v.Reason, len(v.Assessments), len(c.cands))
		}
		checkVerdict(t, c.name, c.given, v)
		if c.truth != 0 {
			findable++
		}
		if v.Outcome == Linked {
			links++
			if v.EMISNumber == c.truth {
				rightLinks++
			} else {
				wrongLinks++
				t.Errorf("WRONG LINK: %s: linked to %d, the patient is %d", c.name, v.EMISNumber, c.truth)
			}
		}
	}
	if len(corpus) < 40 {
		t.Errorf("the corpus has %d cases; keep at least 40", len(corpus))
	}
	precision := 1.0
	if links > 0 {
		precision = float64(rightLinks) / float64(links)
	}
	t.Logf("corpus: %d cases, %d links, %d wrong; precision %.3f, recall %.3f (%d of %d patients who were among the candidates)",
		len(corpus), links, wrongLinks, precision, float64(rightLinks)/float64(findable), rightLinks, findable)
	if wrongLinks != 0 {
		t.Fatalf("%d wrong links", wrongLinks)
	}
}

func uniqueNumbers(cs []Candidate) map[int64]bool {
	m := map[int64]bool{}
	for _, c := range cs {
		m[c.EMISNumber] = true
	}
	return m
}

// reporter is what checkVerdict needs of *testing.T and *rapid.T.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// checkVerdict asserts what every verdict must satisfy whatever the case.
func checkVerdict(t reporter, name string, d Demographics, v Verdict) {
	t.Helper()
	matched := 0
	for _, a := range v.Assessments {
		if a.Reason == "" {
			t.Errorf("%s: candidate %d has no reason", name, a.Candidate.EMISNumber)
		}
		if a.Matched {
			matched++
		}
	}
	switch v.Outcome {
	case Linked:
		if v.EMISNumber <= 0 || matched != 1 {
			t.Errorf("%s: linked to %d with %d candidates matched", name, v.EMISNumber, matched)
		}
		for _, a := range v.Assessments {
			if a.Candidate.EMISNumber != v.EMISNumber {
				continue
			}
			if !a.Matched || a.DateOfBirth != Agrees || a.GivenName == Differs || a.NHSNumber == Differs {
				t.Errorf("%s: linked to a candidate that does not fit: %+v", name, a)
			}
			if parseDate(a.Candidate.DateOfBirth) != parseDate(d.DateOfBirth) {
				t.Errorf("%s: linked across dates of birth", name)
			}
		}
	case Ambiguous:
		if v.EMISNumber != 0 || matched < 2 {
			t.Errorf("%s: ambiguous with EMIS number %d and %d matched", name, v.EMISNumber, matched)
		}
	case Unmatched:
		if v.EMISNumber != 0 || matched != 0 {
			t.Errorf("%s: unmatched with EMIS number %d and %d matched", name, v.EMISNumber, matched)
		}
	default:
		t.Errorf("%s: outcome %q", name, v.Outcome)
	}
}

func TestAssessmentsSayWhyEachCandidateFitsOrNot(t *testing.T) {
	t.Parallel()
	v := Decide(demog("9990000085", "Brown", "Emily", "1985-03-02", "S1 2GH"), cands(emilyMar, emilyFeb))
	if len(v.Assessments) != 2 || v.Assessments[0].Candidate.EMISNumber != 507 {
		t.Fatalf("assessments not in EMIS number order: %+v", v.Assessments)
	}
	holder, namesake := v.Assessments[0], v.Assessments[1]
	want := Assessment{Candidate: emilyFeb, NHSNumber: Agrees, FamilyName: Agrees, GivenName: Agrees, DateOfBirth: Differs, Postcode: Agrees,
		Reason: "Holds the NHS number given, but the date of birth differs."}
	if holder != want {
		t.Errorf("holder: %+v", holder)
	}
	if namesake.NHSNumber != Differs || namesake.DateOfBirth != Agrees || namesake.Matched || namesake.Reason != "Not a match: NHS number differs." {
		t.Errorf("namesake: %+v", namesake)
	}
}
