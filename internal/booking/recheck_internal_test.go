package booking

import (
	"strings"
	"testing"
)

func TestLinkedRecordAgreesOnlyOnSurnameDateOfBirthAndNHSNumberAfterNormalising(t *testing.T) {
	typed := Details{FamilyName: "O'Brien-Smith", GivenName: "Seán", DateOfBirth: "1984-07-02", NHSNumber: "9990000018"}
	cases := []struct {
		name   string
		record Details
		want   string
	}{
		{"same details", typed, ""},
		{"case, spacing, apostrophe and hyphen", Details{FamilyName: "obrien smith", DateOfBirth: "1984-07-02", NHSNumber: "999 000 0018"}, ""},
		{"accents", Details{FamilyName: "O'Brièn-Smith", DateOfBirth: "1984-07-02"}, ""},
		{"another first name is not a disagreement", Details{FamilyName: "O'Brien-Smith", GivenName: "John", DateOfBirth: "1984-07-02"}, ""},
		{"no NHS number on the record", Details{FamilyName: "O'Brien-Smith", DateOfBirth: "1984-07-02"}, ""},
		{"another surname", Details{FamilyName: "Smith", DateOfBirth: "1984-07-02"}, "family_name"},
		{"day and month swapped", Details{FamilyName: "O'Brien-Smith", DateOfBirth: "1984-02-07"}, "date_of_birth"},
		{"another NHS number", Details{FamilyName: "O'Brien-Smith", DateOfBirth: "1984-07-02", NHSNumber: "9990000026"}, "nhs_number"},
		{"another person", Details{FamilyName: "Demo", DateOfBirth: "1948-04-12", NHSNumber: "9990000026"}, "family_name,date_of_birth,nhs_number"},
	}
	for _, c := range cases {
		if got := strings.Join(disagreements(typed, c.record), ","); got != c.want {
			t.Errorf("%s: disagree on %q, want %q", c.name, got, c.want)
		}
	}
}

func TestPatientDetailsNeverPrintThemselves(t *testing.T) {
	d := Details{FamilyName: "Quill", DateOfBirth: "1979-11-30"}
	if s := d.String(); strings.Contains(s, "Quill") || strings.Contains(s, "1979") {
		t.Fatalf("details print %q", s)
	}
}

func TestAPlaceholdersReasonForThePartnerNamesNoOtherRecord(t *testing.T) {
	cases := []struct {
		state State
		rule  string
		want  string
	}{
		{StatePlaceholder, "nhs_number_dob_mismatch", LinkNoUniqueMatch},
		{StatePlaceholder, "nhs_number_several_candidates", LinkNoUniqueMatch},
		{StatePlaceholder, "demographics_nhs_number_conflict", LinkNoUniqueMatch},
		{StatePlaceholder, "no_candidates", LinkNoUniqueMatch},
		{StatePlaceholder, RuleEMISRecordChanged, PlaceholderLinkedRecordChanged},
		{StatePlaceholder, RuleEMISPatientNotFound, PlaceholderLinkedRecordChanged},
		{StatePlaceholder, RuleMatchTimedOut, LinkPracticeUnavailable},
		{StatePlaceholder, RuleStaff, ""},
		{StateBooked, "no_match", ""},
	}
	for _, c := range cases {
		if got := placeholderReason(c.state, c.rule); got != c.want {
			t.Errorf("%s with rule %s: %q, want %q", c.state, c.rule, got, c.want)
		}
	}
}
