package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
)

// A practice's slots in a window are found through their sessions' London dates, whatever the
// window's UTC date: late on a summer evening London is already on the next day, and a session
// that runs past midnight holds slots of the day after its own date.
func TestSlotsBetweenFindSlotsWhateverTheirSessionsLondonDate(t *testing.T) {
	ctx := context.Background()
	london, err := time.LoadLocation("Europe/London")
	must(t, err)
	at := func(day string, hh, mm int) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, day, london)
		must(t, err)
		return d.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}
	for _, c := range []struct {
		name        string
		date        string    // the session's London date
		slot        time.Time // its one slot's start
		from, to    time.Time
		wantFound   bool
		sessionFrom time.Time
	}{
		{"a winter morning", "2026-12-01", at("2026-12-01", 9, 0), at("2026-12-01", 8, 0), at("2026-12-01", 10, 0), true, at("2026-12-01", 9, 0)},
		{"a summer evening before midnight", "2026-07-10", at("2026-07-10", 23, 30), at("2026-07-10", 23, 0), at("2026-07-10", 23, 50), true, at("2026-07-10", 23, 0)},
		// 23:00-23:45 UTC on 10 July is 00:00-00:45 on 11 July in London.
		{"just after midnight in London, still the day before in UTC", "2026-07-11", at("2026-07-11", 0, 30),
			time.Date(2026, 7, 10, 23, 0, 0, 0, time.UTC), time.Date(2026, 7, 10, 23, 45, 0, 0, time.UTC), true, at("2026-07-11", 0, 0)},
		{"a session of the evening before that runs past midnight", "2026-07-20", at("2026-07-21", 0, 10),
			at("2026-07-21", 0, 0), at("2026-07-21", 1, 0), true, at("2026-07-20", 23, 0)},
		{"a slot just before the window", "2026-12-01", at("2026-12-01", 7, 50), at("2026-12-01", 8, 0), at("2026-12-01", 10, 0), false, at("2026-12-01", 7, 0)},
		{"a slot at the window's end", "2026-12-01", at("2026-12-01", 10, 0), at("2026-12-01", 8, 0), at("2026-12-01", 10, 0), false, at("2026-12-01", 10, 0)},
	} {
		t.Run(c.name, func(t *testing.T) {
			each(t, func(t *testing.T, st *store.Store, _ *clock) {
				pid := setUp(t, st, "A81001").practice.ID
				_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true,
					Upsert: []store.SessionRow{{ID: 77, Date: c.date, StartAt: c.sessionFrom, EndAt: c.sessionFrom.Add(3 * time.Hour),
						SlotLength: 10, Name: "Late clinic", SiteID: 501, Hash: "h"}},
					Slots: map[int64][]store.SlotRow{77: {{ID: 7001, SessionID: 77, StartAt: c.slot, LengthMin: 10, TypeID: 1, Status: "Available"}}}})
				must(t, err)
				got, err := st.DiarySlotsBetween(ctx, pid, c.from, c.to)
				must(t, err)
				if found := len(got) == 1 && got[0].ID == 7001; found != c.wantFound || len(got) > 1 {
					t.Fatalf("slots between %s and %s: %+v, want the slot at %s found: %v", c.from, c.to, got, c.slot, c.wantFound)
				}
			})
		})
	}
}
