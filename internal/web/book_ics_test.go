package web

import (
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
)

// The calendar file is RFC 5545: CRLF lines, UTC times, and names from EMIS escaped so a comma,
// semicolon or line break in them cannot end a field or add one.
func TestTheCalendarFileEscapesNamesAndGivesUTCTimes(t *testing.T) {
	start := time.Date(2026, 7, 1, 9, 10, 0, 0, time.UTC) // 10:10 in London (BST)
	a := booking.Appointment{Reference: "HL-ABC123", StartAt: start, EndAt: start.Add(10 * time.Minute)}
	got := appointmentICS(a, "GP, routine; 10 min", "Main Surgery\nDTSTART:19700101T000000Z", start)
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "DTSTART:20260701T091000Z\r\n", "DTEND:20260701T092000Z\r\n",
		`SUMMARY:GP\, routine\; 10 min` + "\r\n", `LOCATION:Main Surgery\nDTSTART:19700101T000000Z` + "\r\n", "UID:HL-ABC123@herolink\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(got, want) {
			t.Fatalf("calendar file lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "DTSTART:") != 2 || strings.Count(got, "\nDTSTART:") != 1 {
		t.Fatalf("a name added a field:\n%s", got)
	}
}
