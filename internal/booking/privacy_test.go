package booking_test

import (
	"testing"

	"herolink/internal/booking"
	"herolink/internal/matching"
)

// A partner is told why a patient was not linked only in codes that cover many rules: telling
// "the NHS number's holder has another date of birth" from "nobody holds it" would say what the
// register holds.
func TestEveryWayALinkFailsReadsTheSameToAPartnerUnlessTheDetailsWereIncomplete(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want string
	}{
		{matching.RuleNHSNumberDOBMismatch, booking.LinkNoUniqueMatch},
		{matching.RuleNHSNumberNameMismatch, booking.LinkNoUniqueMatch},
		{matching.RuleNHSNumberNamesConflict, booking.LinkNoUniqueMatch},
		{matching.RuleNHSNumberSeveral, booking.LinkNoUniqueMatch},
		{matching.RuleNHSNumberNotFound, booking.LinkNoUniqueMatch},
		{matching.RuleDemographicsNHSConflict, booking.LinkNoUniqueMatch},
		{matching.RuleSeveralCandidates, booking.LinkNoUniqueMatch},
		{matching.RuleNoMatch, booking.LinkNoUniqueMatch},
		{matching.RuleNoCandidates, booking.LinkNoUniqueMatch},
		{matching.RuleInconsistentCandidates, booking.LinkNoUniqueMatch},
		{matching.RuleCandidateWithoutEMISNumber, booking.LinkNoUniqueMatch},
		{matching.RuleSearchIncomplete, booking.LinkNoUniqueMatch},
		{booking.RuleEMISPatientNotFound, booking.LinkNoUniqueMatch},
		{"a rule added later", booking.LinkNoUniqueMatch},
		{matching.RuleNotEnoughDetails, booking.LinkDetailsIncomplete},
		{matching.RuleDateOfBirthMissing, booking.LinkDetailsIncomplete},
		{booking.RuleMatchTimedOut, booking.LinkPracticeUnavailable},
	} {
		if got := booking.PartnerReason(tc.rule); got != tc.want {
			t.Errorf("%s reads %q to a partner, want %q", tc.rule, got, tc.want)
		}
	}
}
