package bench

import "testing"

func TestChaosCountsLostDuplicatedAndStuckBookingsAgainstTheEMISBook(t *testing.T) {
	ack := func(ref, state string) chaosBooking {
		return chaosBooking{ID: "apt_" + ref, Reference: ref, Acked: true, State: state}
	}
	unacked := func(ref, state string) chaosBooking {
		return chaosBooking{ID: "apt_" + ref, Reference: ref, State: state}
	}
	cases := []struct {
		name     string
		bookings []chaosBooking
		emis     map[string]int
		want     chaosCounts
	}{
		{"a booking written once into EMIS is booked, nothing else",
			[]chaosBooking{ack("HL-AAAAAAAA", "booked")}, map[string]int{"HL-AAAAAAAA": 1},
			chaosCounts{Acknowledged: 1, Booked: 1}},
		{"a placeholder written once is a placeholder",
			[]chaosBooking{ack("HL-AAAAAAAA", "placeholder")}, map[string]int{"HL-AAAAAAAA": 1},
			chaosCounts{Acknowledged: 1, Placeholders: 1}},
		{"an acknowledged booking with nothing in EMIS is lost",
			[]chaosBooking{ack("HL-AAAAAAAA", "booked")}, map[string]int{},
			chaosCounts{Acknowledged: 1, Booked: 1, Lost: 1}},
		{"an acknowledged booking herolink forgot and EMIS never saw is lost",
			[]chaosBooking{ack("HL-AAAAAAAA", "")}, nil,
			chaosCounts{Acknowledged: 1, Lost: 1}},
		{"a failed booking with nothing in EMIS is not lost",
			[]chaosBooking{ack("HL-AAAAAAAA", "failed")}, nil,
			chaosCounts{Acknowledged: 1, Failed: 1}},
		{"a cancelled booking with nothing left in EMIS is neither lost nor stuck",
			[]chaosBooking{ack("HL-AAAAAAAA", "cancelled")}, nil,
			chaosCounts{Acknowledged: 1, Cancelled: 1}},
		{"two EMIS appointments for one booking are a duplicate",
			[]chaosBooking{ack("HL-AAAAAAAA", "booked")}, map[string]int{"HL-AAAAAAAA": 2},
			chaosCounts{Acknowledged: 1, Booked: 1, Duplicated: 1}},
		{"an EMIS appointment for a booking herolink says failed is a duplicate",
			[]chaosBooking{ack("HL-AAAAAAAA", "failed")}, map[string]int{"HL-AAAAAAAA": 1},
			chaosCounts{Acknowledged: 1, Failed: 1, Duplicated: 1}},
		{"an EMIS appointment whose reference herolink does not know is a duplicate",
			[]chaosBooking{ack("HL-AAAAAAAA", "booked")}, map[string]int{"HL-AAAAAAAA": 1, "HL-ZZZZZZZZ": 1},
			chaosCounts{Acknowledged: 1, Booked: 1, Duplicated: 1}},
		{"a booking still confirming after the settle time is stuck",
			[]chaosBooking{ack("HL-AAAAAAAA", "confirming")}, nil,
			chaosCounts{Acknowledged: 1, Stuck: 1}},
		{"a cancellation that never reached EMIS is stuck",
			[]chaosBooking{ack("HL-AAAAAAAA", "cancelled")}, map[string]int{"HL-AAAAAAAA": 1},
			chaosCounts{Acknowledged: 1, Cancelled: 1, Stuck: 1}},
		{"a confirmation whose answer was lost still counts when stuck, and its EMIS artefact is known",
			[]chaosBooking{unacked("HL-AAAAAAAA", "confirming"), unacked("HL-BBBBBBBB", "booked")},
			map[string]int{"HL-BBBBBBBB": 1},
			chaosCounts{Stuck: 1}},
		{"an unacknowledged hold with nothing in EMIS is not lost",
			[]chaosBooking{unacked("HL-AAAAAAAA", "expired")}, nil,
			chaosCounts{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := countChaos(tc.bookings, tc.emis); got != tc.want {
				t.Errorf("countChaos = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEMISArtefactsAreCountedByTheReferenceInTheNotes(t *testing.T) {
	got := emisArtefacts([]string{
		"herolink HL-ABCD2345: please bring a sample",
		"herolink HL-ABCD2345: unregistered patient booking. Patient: Sam Visitor",
		"herolink HL-WXYZ6789",
		"booked by reception",
		"",
	})
	if len(got) != 2 || got["HL-ABCD2345"] != 2 || got["HL-WXYZ6789"] != 1 {
		t.Errorf("emisArtefacts = %v, want HL-ABCD2345 twice and HL-WXYZ6789 once", got)
	}
}
