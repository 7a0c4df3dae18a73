package slotsync

import (
	"testing"

	"herolink/internal/emis"
	"herolink/internal/store"
)

func TestSlotsAgreeWithTheirSummaryOnlyWhenEveryTypesCountsMatch(t *testing.T) {
	slots := func(specs ...[2]any) []store.SlotRow {
		var out []store.SlotRow
		for _, sp := range specs {
			out = append(out, store.SlotRow{TypeID: sp[0].(int), Status: sp[1].(string)})
		}
		return out
	}
	read := slots([2]any{1, emis.SlotAvailable}, [2]any{1, emis.SlotBooked}, [2]any{2, emis.SlotBlocked}, [2]any{2, emis.SlotEmbargoed})
	cases := []struct {
		name    string
		summary []emis.SessionSlotCount
		want    bool
	}{
		{"the same counts", []emis.SessionSlotCount{{TypeID: 1, Total: 2, Booked: 1, Available: 1}, {TypeID: 2, Total: 2, Blocked: 1, Embargoed: 1}}, true},
		{"a type listed twice adds up", []emis.SessionSlotCount{{TypeID: 1, Total: 1, Booked: 1}, {TypeID: 1, Total: 1, Available: 1}, {TypeID: 2, Total: 2, Blocked: 1, Embargoed: 1}}, true},
		{"a type listed with no slots", []emis.SessionSlotCount{{TypeID: 1, Total: 2, Booked: 1, Available: 1}, {TypeID: 2, Total: 2, Blocked: 1, Embargoed: 1}, {TypeID: 3}}, true},
		{"booked in between", []emis.SessionSlotCount{{TypeID: 1, Total: 2, Available: 2}, {TypeID: 2, Total: 2, Blocked: 1, Embargoed: 1}}, false},
		{"blocked in between", []emis.SessionSlotCount{{TypeID: 1, Total: 2, Booked: 1, Available: 1}, {TypeID: 2, Total: 2, Embargoed: 1, Available: 1}}, false},
		{"a slot's type changed in between", []emis.SessionSlotCount{{TypeID: 1, Total: 1, Booked: 1}, {TypeID: 2, Total: 3, Blocked: 1, Embargoed: 1, Available: 1}}, false},
		{"a slot added in between", []emis.SessionSlotCount{{TypeID: 1, Total: 1, Booked: 1}, {TypeID: 2, Total: 2, Blocked: 1, Embargoed: 1}}, false},
		{"a type the summary does not list", []emis.SessionSlotCount{{TypeID: 1, Total: 2, Booked: 1, Available: 1}}, false},
	}
	for _, c := range cases {
		if got := slotsAgree(c.summary, read); got != c.want {
			t.Errorf("%s: slotsAgree = %v, want %v", c.name, got, c.want)
		}
	}
}
