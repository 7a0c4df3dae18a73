package matching

import "log/slog"

// Outcome is what Decide concluded. Only Linked lets a booking be written against a patient;
// Unmatched and Ambiguous both make the unregistered-patient placeholder.
type Outcome string

const (
	Linked    Outcome = "linked"    // exactly one registration fits, with nothing contradicting it
	Unmatched Outcome = "unmatched" // none fits, or what was given contradicts itself or the register
	Ambiguous Outcome = "ambiguous" // several registrations fit equally well
)

// Agreement is how one field given compares with one candidate's.
type Agreement string

const (
	Agrees  Agreement = "agrees"
	Differs Agreement = "differs"
	Missing Agreement = "missing" // not given, not valid, or absent from the registration
)

// Rules: the machine codes of Verdict.Rule.
const (
	RuleNHSNumberAndDOB            = "nhs_number_and_dob"               // linked: NHS number and date of birth agree
	RuleDemographics               = "demographics"                     // linked: the one candidate agreeing on names and date of birth
	RuleDemographicsPostcode       = "demographics_postcode_tiebreak"   // linked: the postcode picked one of several
	RuleNHSNumberDOBMismatch       = "nhs_number_dob_mismatch"          // the NHS number's holder has another date of birth
	RuleNHSNumberNameMismatch      = "nhs_number_given_name_mismatch"   // the NHS number's holder has another first name
	RuleNHSNumberNamesConflict     = "nhs_number_demographics_conflict" // the holder's names differ and another registration has them
	RuleNHSNumberSeveral           = "nhs_number_several_candidates"    // two registrations hold the NHS number
	RuleNHSNumberNotFound          = "nhs_number_not_found"             // NHS number only, and nobody holds it
	RuleDemographicsNHSConflict    = "demographics_nhs_number_conflict" // the one fitting on names holds another NHS number
	RuleSeveralCandidates          = "several_candidates"               // several fit on names and date of birth; no postcode tie-break
	RuleNoMatch                    = "no_match"                         // candidates, none fitting
	RuleNoCandidates               = "no_candidates"                    // the searches found nobody
	RuleDateOfBirthMissing         = "date_of_birth_missing"            // or not a valid yyyy-mm-dd date
	RuleNotEnoughDetails           = "not_enough_details"               // neither a valid NHS number nor both names
	RuleInconsistentCandidates     = "inconsistent_candidates"          // one EMIS number seen with two sets of details
	RuleCandidateWithoutEMISNumber = "candidate_without_emis_number"    // the one that fits has no usable EMIS number
	RuleSearchIncomplete           = "search_incomplete"                // set by Match: a search may have been cut short
)

// Verdict is Decide's answer. Rule and Reason carry no demographics and may be logged; the
// Assessments hold candidates and must not be.
type Verdict struct {
	Outcome     Outcome
	EMISNumber  int64  // set only when Linked
	Rule        string // one of the Rule constants: the rule that linked or refused
	Reason      string // one sentence for staff
	Assessments []Assessment
}

// LogValue logs the verdict without its assessments.
func (v Verdict) LogValue() slog.Value {
	return slog.GroupValue(slog.String("outcome", string(v.Outcome)), slog.String("rule", v.Rule),
		slog.Int64("emis_number", v.EMISNumber), slog.String("reason", v.Reason),
		slog.Int("candidates", len(v.Assessments)))
}

// Assessment is how one candidate compares with what was given. Matched is true for the
// candidate linked and, in an ambiguous verdict, for each of those Decide could not choose among.
type Assessment struct {
	Candidate   Candidate
	NHSNumber   Agreement
	FamilyName  Agreement
	GivenName   Agreement // the given forenames against the record's first and middle names
	DateOfBirth Agreement
	Postcode    Agreement
	Matched     bool
	Reason      string // why it matched or not, without demographics
}
