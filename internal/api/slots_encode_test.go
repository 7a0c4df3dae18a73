package api

import (
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"

	"herolink/internal/booking"
)

func TestTheSlotListEncoderWritesWhatEncodingJSONWould(t *testing.T) {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`slt_[0-9a-z]{1,12}`), rapid.Just(""),
		rapid.SampledFrom([]string{"<a&b>", "\u2028\u2029", "\x00\x1f\"\\\n\r\t\b\f", "\xff\xfe", "é😀"}))
	instant := rapid.Custom(func(t *rapid.T) time.Time {
		if rapid.IntRange(0, 9).Draw(t, "zero") == 0 {
			return time.Time{}
		}
		return time.UnixMilli(rapid.Int64Range(0, 4102444800000).Draw(t, "ms")).In(time.UTC)
	})
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 5).Draw(rt, "slots")
		slots := make([]booking.Slot, n)
		for i := range slots {
			slots[i] = booking.Slot{ID: text.Draw(rt, "id"), PracticeID: rapid.Int64().Draw(rt, "practice"),
				StartAt: instant.Draw(rt, "start"), EndAt: instant.Draw(rt, "end"),
				AppointmentTypeID: text.Draw(rt, "type"), LocationID: text.Draw(rt, "location")}
			if rapid.Bool().Draw(rt, "practitioners") {
				slots[i].PractitionerIDs = rapid.SliceOfN(text, 0, 3).Draw(rt, "ids")
			}
		}
		next := text.Draw(rt, "next")
		want, err := json.Marshal(listOf(mapAll(slots, toSlotJSON), next))
		if err != nil {
			rt.Fatal(err)
		}
		if got := appendSlotList(nil, slots, next); string(got) != string(want) {
			rt.Fatalf("by hand:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}
