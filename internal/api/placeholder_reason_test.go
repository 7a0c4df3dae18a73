package api

import (
	"testing"

	"herolink/internal/booking"
)

// Defence in depth: whatever reason the booking core gives a placeholder, the partner is told
// only one of the documented codes, never a matching rule's name.
func TestAPlaceholdersReasonReachesThePartnerOnlyAsADocumentedCode(t *testing.T) {
	cases := map[string]string{
		"":                                     "",
		booking.LinkNoUniqueMatch:              booking.LinkNoUniqueMatch,
		booking.LinkDetailsIncomplete:          booking.LinkDetailsIncomplete,
		booking.LinkPracticeUnavailable:        booking.LinkPracticeUnavailable,
		booking.PlaceholderLinkedRecordChanged: booking.PlaceholderLinkedRecordChanged,
		"nhs_number_dob_mismatch":              booking.LinkNoUniqueMatch,
		"demographics_postcode_tiebreak":       booking.LinkNoUniqueMatch,
	}
	for in, want := range cases {
		got := toAppointmentJSON(booking.Appointment{State: booking.StatePlaceholder, PlaceholderReason: in}).PlaceholderReason
		if (got == nil) != (want == "") || got != nil && *got != want {
			t.Errorf("core reason %q reaches the partner as %v, want %q", in, got, want)
		}
	}
}
