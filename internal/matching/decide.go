package matching

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// agreesOnDemographics is rule 3's test: family name, first name and date of birth all agree.
func (a Assessment) agreesOnDemographics() bool {
	return a.FamilyName == Agrees && a.GivenName == Agrees && a.DateOfBirth == Agrees
}

// given is Demographics normalised for comparing.
type given struct {
	nhs        string // valid and normalised, else ""
	nhsInvalid bool   // something was given for the NHS number but it is not valid
	family     string
	forenames  []string
	dob        string
	postcode   string
}

func prepare(d Demographics) given {
	g := given{nhs: validNHSNumber(d.NHSNumber), family: NormaliseName(d.FamilyName),
		forenames: nameWords(d.GivenName), dob: parseDate(d.DateOfBirth), postcode: NormalisePostcode(d.Postcode)}
	g.nhsInvalid = g.nhs == "" && strings.TrimSpace(d.NHSNumber) != ""
	return g
}

func compare(given, have string) Agreement {
	switch {
	case given == "" || have == "":
		return Missing
	case given == have:
		return Agrees
	}
	return Differs
}

func assess(g given, c Candidate) Assessment {
	a := Assessment{Candidate: c,
		NHSNumber:   compare(g.nhs, validNHSNumber(c.NHSNumber)),
		FamilyName:  compare(g.family, NormaliseName(c.FamilyName)),
		DateOfBirth: compare(g.dob, parseDate(c.DateOfBirth)),
		Postcode:    compare(g.postcode, NormalisePostcode(c.Postcode)),
		GivenName:   Missing,
	}
	if first := nameWords(c.FirstNames); len(g.forenames) > 0 && len(first) > 0 {
		a.GivenName = Differs
		if forenamesAgree(g.forenames, first) {
			a.GivenName = Agrees
		}
	}
	return a
}

// Decide applies the rules (see the package documentation) to the union of the candidates the
// searches returned. The same registration returned by two searches counts once; the order of
// cands does not matter. It links only when exactly one candidate fits and nothing contradicts it.
func Decide(d Demographics, cands []Candidate) Verdict {
	g := prepare(d)
	unique, consistent := dedupe(cands)
	as := make([]Assessment, len(unique))
	for i, c := range unique {
		as[i] = assess(g, c)
	}
	v := decide(g, as, consistent)
	for i := range as {
		if as[i].Reason == "" {
			as[i].Reason = describe(as[i])
		}
	}
	v.Assessments = as
	if g.nhsInvalid {
		v.Reason = strings.TrimSuffix(v.Reason, ".") + "; the NHS number given was not valid and was not used."
	}
	return v
}

func decide(g given, as []Assessment, consistent bool) Verdict {
	refuse := func(rule, format string, args ...any) Verdict {
		return Verdict{Outcome: Unmatched, Rule: rule, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case !consistent:
		return refuse(RuleInconsistentCandidates, "The searches returned one EMIS number with two different sets of details, so nothing was linked.")
	case g.dob == "":
		return refuse(RuleDateOfBirthMissing, "No valid date of birth was given, and no rule links without one.")
	case g.nhs == "" && (g.family == "" || len(g.forenames) == 0):
		return refuse(RuleNotEnoughDetails, "Neither a valid NHS number nor both names were given.")
	case len(as) == 0:
		return refuse(RuleNoCandidates, "The EMIS searches found no registration.")
	}

	if g.nhs != "" {
		var holders []int
		for i, a := range as {
			if a.NHSNumber == Agrees {
				holders = append(holders, i)
			}
		}
		if len(holders) > 0 {
			return decideByNHSNumber(as, holders)
		}
		if g.family == "" || len(g.forenames) == 0 {
			return refuse(RuleNHSNumberNotFound, "No registration found holds the NHS number given, and without both names no other rule applies.")
		}
	}

	var fits []int
	for i, a := range as {
		if a.agreesOnDemographics() {
			fits = append(fits, i)
		}
	}
	rule := RuleDemographics
	switch {
	case len(fits) == 0:
		return refuse(RuleNoMatch, "No registration found agrees on family name, first name and date of birth.")
	case len(fits) > 1:
		var tied []int
		for _, i := range fits {
			if as[i].Postcode == Agrees {
				tied = append(tied, i)
			}
		}
		if len(tied) != 1 {
			ambiguous := fits
			if len(tied) > 1 {
				ambiguous = tied
			}
			for _, i := range ambiguous {
				as[i].Matched = true
				as[i].Reason = "Agrees on family name, first name and date of birth, as another registration does."
			}
			return Verdict{Outcome: Ambiguous, Rule: RuleSeveralCandidates, Reason: fmt.Sprintf(
				"%d registrations agree on family name, first name and date of birth and the postcode does not pick one, so nothing was linked.", len(fits))}
		}
		for _, i := range fits {
			if i != tied[0] {
				as[i].Reason = "Agrees on family name, first name and date of birth, but another registration also agrees on the postcode."
			}
		}
		fits, rule = tied, RuleDemographicsPostcode
	}

	w := &as[fits[0]]
	switch {
	case w.NHSNumber == Differs:
		w.Reason = "Agrees on family name, first name and date of birth but holds a different NHS number from the one given."
		return refuse(RuleDemographicsNHSConflict, "EMIS number %d agrees on family name, first name and date of birth but holds a different NHS number from the one given, so nothing was linked.", w.Candidate.EMISNumber)
	case w.Candidate.EMISNumber <= 0:
		return refuse(RuleCandidateWithoutEMISNumber, "The only registration that fits came back without an EMIS number, so nothing was linked.")
	}
	w.Matched = true
	if rule == RuleDemographicsPostcode {
		w.Reason = "Agrees on family name, first name and date of birth, and is the only such registration at the postcode given."
		return Verdict{Outcome: Linked, EMISNumber: w.Candidate.EMISNumber, Rule: rule, Reason: fmt.Sprintf(
			"Linked to EMIS number %d: several registrations agree on family name, first name and date of birth, and only this one on the postcode.", w.Candidate.EMISNumber)}
	}
	w.Reason = "The only registration agreeing on family name, first name and date of birth."
	return Verdict{Outcome: Linked, EMISNumber: w.Candidate.EMISNumber, Rule: rule, Reason: fmt.Sprintf(
		"Linked to EMIS number %d: the only registration agreeing on family name, first name and date of birth.", w.Candidate.EMISNumber)}
}

// decideByNHSNumber is rule 2: the NHS number given is held by the candidates at holders.
func decideByNHSNumber(as []Assessment, holders []int) Verdict {
	refuse := func(rule, reason string) Verdict { return Verdict{Outcome: Unmatched, Rule: rule, Reason: reason} }
	if len(holders) > 1 {
		for _, i := range holders {
			as[i].Matched = true
			as[i].Reason = "Holds the NHS number given, as another registration does."
		}
		return Verdict{Outcome: Ambiguous, Rule: RuleNHSNumberSeveral, Reason: fmt.Sprintf(
			"%d registrations hold the NHS number given, so nothing was linked.", len(holders))}
	}
	h := &as[holders[0]]
	n := h.Candidate.EMISNumber
	switch {
	case h.DateOfBirth != Agrees:
		h.Reason = "Holds the NHS number given, but the date of birth differs."
		return refuse(RuleNHSNumberDOBMismatch, fmt.Sprintf(
			"EMIS number %d holds the NHS number given but has a different date of birth, so nothing was linked.", n))
	case h.GivenName == Differs:
		h.Reason = "Holds the NHS number given and the date of birth agrees, but the first name differs."
		return refuse(RuleNHSNumberNameMismatch, fmt.Sprintf(
			"EMIS number %d holds the NHS number given and the date of birth, but another first name, so nothing was linked.", n))
	}
	if !h.agreesOnDemographics() {
		for i := range as {
			if i != holders[0] && as[i].agreesOnDemographics() {
				h.Reason = "Holds the NHS number given, but another registration agrees on family name, first name and date of birth."
				as[i].Reason = "Agrees on family name, first name and date of birth, but another registration holds the NHS number given."
				return refuse(RuleNHSNumberNamesConflict, fmt.Sprintf(
					"EMIS number %d holds the NHS number given but EMIS number %d agrees on the names and date of birth, so nothing was linked.",
					n, as[i].Candidate.EMISNumber))
			}
		}
	}
	if n <= 0 {
		return refuse(RuleCandidateWithoutEMISNumber, "The registration holding the NHS number came back without an EMIS number, so nothing was linked.")
	}
	h.Matched = true
	h.Reason = "Holds the NHS number given and the date of birth agrees."
	return Verdict{Outcome: Linked, EMISNumber: n, Rule: RuleNHSNumberAndDOB, Reason: fmt.Sprintf(
		"Linked to EMIS number %d: the NHS number and date of birth agree.", n)}
}

// dedupe sorts candidates into one order whatever order they came in and drops exact repeats (the
// same registration found by two searches). consistent is false when one EMIS number came with
// two different sets of details: the register changed between searches, or the data is wrong.
func dedupe(cands []Candidate) (unique []Candidate, consistent bool) {
	unique = slices.Clone(cands)
	slices.SortFunc(unique, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.EMISNumber, b.EMISNumber), cmp.Compare(a.NHSNumber, b.NHSNumber),
			cmp.Compare(a.FamilyName, b.FamilyName), cmp.Compare(a.FirstNames, b.FirstNames),
			cmp.Compare(a.DateOfBirth, b.DateOfBirth), cmp.Compare(a.Postcode, b.Postcode))
	})
	unique = slices.Compact(unique)
	consistent = true
	for i := 1; i < len(unique); i++ {
		if unique[i].EMISNumber == unique[i-1].EMISNumber {
			consistent = false
		}
	}
	return unique, consistent
}

// describe says why a candidate no rule picked does not fit, field by field.
func describe(a Assessment) string {
	var differs, missing []string
	for _, f := range []struct {
		name string
		a    Agreement
	}{{"NHS number", a.NHSNumber}, {"family name", a.FamilyName}, {"first name", a.GivenName},
		{"date of birth", a.DateOfBirth}} {
		switch f.a {
		case Differs:
			differs = append(differs, f.name)
		case Missing:
			if f.name != "NHS number" {
				missing = append(missing, f.name)
			}
		}
	}
	switch {
	case len(differs) > 0:
		return "Not a match: " + strings.Join(differs, ", ") + " differ" + plural(len(differs)) + "."
	case len(missing) > 0:
		return "Not a match: " + strings.Join(missing, ", ") + " missing."
	}
	return "Not picked: another rule decided."
}

func plural(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}
