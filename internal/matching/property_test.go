package matching

import (
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// Pools small enough that generated candidates often agree with what was given, with spelling
// variants, near misses and invalid values mixed in, and now and then anything at all.
var (
	familyPool   = []string{"Okafor", "OKAFOR", "Okafr", "O'Brien", "OBrien", "O Brien", "Smith-Jones", "Smith Jones", "Smith", "Khan", "MacLeod", "McLeod", ""}
	forenamePool = []string{"Chinwe", "Chiamaka", "Anna", "Anna Maria", "Anna-Maria", "Maria", "Seán", "Sean", "Mary", "Mary Anne", "Jean", "Jean-Luc", ""}
	dobPool      = []string{"2009-03-14", "1985-02-03", "1985-03-02", "1958-05-06", "2009-03-14", "1985-02-03", "2009-03-14", "1958-05-06", "", "14/03/2009"}
	nhsPool      = []string{"9990000018", "9990000026", "999 000 0034", "9990000042", "9990000019", "9991234560", "", ""}
	postcodePool = []string{"LS1 4AP", "ls14ap", "BD7 1DP", "NE1 5EF", ""}
)

func fieldGen(pool []string) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.IntRange(0, 7).Draw(t, "anything") == 0 {
			return rapid.StringN(0, 12, -1).Draw(t, "any")
		}
		return rapid.SampledFrom(pool).Draw(t, "pooled")
	})
}

var demographicsGen = rapid.Custom(func(t *rapid.T) Demographics {
	return Demographics{NHSNumber: fieldGen(nhsPool).Draw(t, "nhs"), FamilyName: fieldGen(familyPool).Draw(t, "family"),
		GivenName: fieldGen(forenamePool).Draw(t, "given"), DateOfBirth: fieldGen(dobPool).Draw(t, "dob"),
		Postcode: fieldGen(postcodePool).Draw(t, "postcode")}
})

// candidatesFor draws distinct registrations (EMIS numbers 1, 2, ...), half of them copies of
// what was given with some fields replaced, so that links, namesakes and conflicts are common.
func candidatesFor(d Demographics) *rapid.Generator[[]Candidate] {
	return rapid.Custom(func(t *rapid.T) []Candidate {
		n := rapid.IntRange(0, 6).Draw(t, "candidates")
		out := make([]Candidate, n)
		for i := range out {
			c := Candidate{EMISNumber: int64(i + 1), NHSNumber: d.NHSNumber, FamilyName: d.FamilyName,
				FirstNames: d.GivenName, DateOfBirth: d.DateOfBirth, Postcode: d.Postcode}
			copied := rapid.Bool().Draw(t, "copied")
			field := func(v *string, pool []string) {
				if !copied || rapid.IntRange(0, 2).Draw(t, "replace") == 0 {
					*v = fieldGen(pool).Draw(t, "field")
				}
			}
			field(&c.NHSNumber, nhsPool)
			field(&c.FamilyName, familyPool)
			field(&c.FirstNames, forenamePool)
			field(&c.DateOfBirth, dobPool)
			field(&c.Postcode, postcodePool)
			out[i] = c
		}
		return out
	})
}

// draw is one generated case: what was given and what the searches returned.
func draw(t *rapid.T) (Demographics, []Candidate) {
	d := demographicsGen.Draw(t, "given")
	return d, candidatesFor(d).Draw(t, "cands")
}

func linkedCandidate(v Verdict, cs []Candidate) (Candidate, bool) {
	if v.Outcome != Linked {
		return Candidate{}, false
	}
	for _, c := range cs {
		if c.EMISNumber == v.EMISNumber {
			return c, true
		}
	}
	return Candidate{}, false
}

func TestDecideNeverLinksACandidateWhoseDateOfBirthDiffers(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		v := Decide(d, cs)
		checkVerdict(t, "generated", d, v)
		if c, ok := linkedCandidate(v, cs); ok && (parseDate(d.DateOfBirth) == "" || parseDate(c.DateOfBirth) != parseDate(d.DateOfBirth)) {
			t.Fatalf("linked across dates of birth: %q and %q", d.DateOfBirth, c.DateOfBirth)
		} else if v.Outcome == Linked && !ok {
			t.Fatalf("linked to %d, which is not a candidate", v.EMISNumber)
		}
	})
}

func TestDecideLinksOnlyOnAnAgreeingNHSNumberOrAgreeingNames(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		v := Decide(d, cs)
		c, ok := linkedCandidate(v, cs)
		if !ok {
			return
		}
		g := prepare(d)
		byNHS := g.nhs != "" && validNHSNumber(c.NHSNumber) == g.nhs
		byNames := NormaliseName(d.FamilyName) != "" && NormaliseName(d.FamilyName) == NormaliseName(c.FamilyName) &&
			forenamesAgree(nameWords(d.GivenName), nameWords(c.FirstNames))
		if !byNHS && !byNames {
			t.Fatalf("linked %d (rule %s) on neither NHS number nor names", c.EMISNumber, v.Rule)
		}
		if other := validNHSNumber(c.NHSNumber); g.nhs != "" && other != "" && other != g.nhs {
			t.Fatalf("linked %d although it holds another NHS number", c.EMISNumber)
		}
		if len(g.forenames) > 0 && len(nameWords(c.FirstNames)) > 0 && !forenamesAgree(g.forenames, nameWords(c.FirstNames)) {
			t.Fatalf("linked %d although the first name differs", c.EMISNumber)
		}
	})
}

func TestAnExactDoubleOfTheLinkedRegistrationUndoesTheLink(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		c, ok := linkedCandidate(Decide(d, cs), cs)
		if !ok {
			return
		}
		double := c
		double.EMISNumber = int64(len(cs) + 1)
		if v := Decide(d, append(cs, double)); v.Outcome == Linked {
			t.Fatalf("still linked to %d (rule %s) beside an identical registration", v.EMISNumber, v.Rule)
		}
	})
}

func TestANamesakeBornTheSameDayAtTheSameAddressUndoesANameLink(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		v := Decide(d, cs)
		c, ok := linkedCandidate(v, cs)
		if !ok || v.Rule == RuleNHSNumberAndDOB {
			return // an NHS number tells namesakes apart: that is what it is for
		}
		namesake := c
		namesake.EMISNumber = int64(len(cs) + 1)
		namesake.NHSNumber = rapid.SampledFrom([]string{"", "9998765439"}).Draw(t, "namesake's NHS number")
		if v := Decide(d, append(cs, namesake)); v.Outcome == Linked {
			t.Fatalf("still linked to %d (rule %s) beside a namesake", v.EMISNumber, v.Rule)
		}
	})
}

func TestTheVerdictDoesNotDependOnCandidateOrderOrRepeats(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		want := Decide(d, cs)
		shuffled := rapid.Permutation(cs).Draw(t, "shuffled")
		if len(cs) > 0 {
			repeats := rapid.SliceOfN(rapid.SampledFrom(cs), 0, 4).Draw(t, "repeats")
			shuffled = append(shuffled, repeats...)
		}
		if got := Decide(d, shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("order or repeats changed the verdict:\n%+v\n%+v", got, want)
		}
	})
}

func TestAnInvalidNHSNumberCountsAsNoneGiven(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d, cs := draw(t)
		if validNHSNumber(d.NHSNumber) != "" {
			return
		}
		without := d
		without.NHSNumber = ""
		a, b := Decide(d, cs), Decide(without, cs)
		if a.Outcome != b.Outcome || a.EMISNumber != b.EMISNumber || a.Rule != b.Rule {
			t.Fatalf("an invalid NHS number changed the verdict: %s %d %s vs %s %d %s", a.Outcome, a.EMISNumber, a.Rule, b.Outcome, b.EMISNumber, b.Rule)
		}
	})
}

func TestNormalisationIsIdempotent(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		if n := NormaliseName(s); NormaliseName(n) != n {
			t.Fatalf("NormaliseName(%q) = %q, then %q", s, n, NormaliseName(n))
		}
		if p := NormalisePostcode(s); NormalisePostcode(p) != p {
			t.Fatalf("NormalisePostcode(%q) = %q, then %q", s, p, NormalisePostcode(p))
		}
	})
}

// respell writes a name the ways people and records do: other case, accents, apostrophes,
// hyphens and spaces between letters.
func respell(t *rapid.T, name string) string {
	accented := map[rune][]string{'a': {"á", "à", "ä", "a\u0301"}, 'e': {"é", "ë", "ê"}, 'o': {"ö", "ó", "ø"}, 'u': {"ü", "ú"}, 'i': {"í", "ï"}, 'n': {"ñ"}, 'c': {"ç"}}
	var b strings.Builder
	for i, r := range name {
		if i > 0 && rapid.IntRange(0, 4).Draw(t, "separate") == 0 {
			b.WriteString(rapid.SampledFrom([]string{"'", "’", "-", " ", " - "}).Draw(t, "separator"))
		}
		s := string(r)
		if forms := accented[r]; len(forms) > 0 && rapid.Bool().Draw(t, "accent") {
			s = rapid.SampledFrom(forms).Draw(t, "accented")
		}
		if rapid.Bool().Draw(t, "upper") {
			s = strings.ToUpper(s)
		}
		b.WriteString(s)
	}
	return b.String()
}

func TestRespelledNamesNormaliseAlikeAndStillLink(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		family := rapid.StringMatching(`[a-z]{2,10}`).Draw(t, "family")
		first := rapid.StringMatching(`[a-z]{2,8}`).Draw(t, "first")
		typed, kept := respell(t, family), respell(t, family)
		if NormaliseName(typed) != family || NormaliseName(kept) != family {
			t.Fatalf("%q and %q do not normalise to %q", typed, kept, family)
		}
		c := Candidate{EMISNumber: 7, FamilyName: kept, FirstNames: first, DateOfBirth: "1970-01-01"}
		v := Decide(Demographics{FamilyName: typed, GivenName: strings.ToUpper(first), DateOfBirth: "1970-01-01"}, []Candidate{c})
		if v.Outcome != Linked || v.EMISNumber != 7 {
			t.Fatalf("%q %q did not link to %q %q: %s", typed, first, kept, first, v.Reason)
		}
	})
}
