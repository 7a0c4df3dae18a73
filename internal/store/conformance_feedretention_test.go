package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"herolink/internal/store"
)

// The change feed keeps a week of changes, for consumers that were away; an older change is
// deleted by a pass that writes changes, at most a minute after it expired.
func TestTheChangeFeedKeepsAWeekAndDropsOlderChanges(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)
		booked := func(n int, patient int64) store.SlotRow {
			s := slot(1, n)
			if patient != 0 {
				s.Status, s.PatientID = "Booked", patient
			}
			return s
		}
		pass := func(slots ...store.SlotRow) {
			t.Helper()
			changes, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{901: slots}})
			must(t, err)
			if len(changes) != 1 {
				t.Fatalf("the pass made %d changes, want 1", len(changes))
			}
		}
		feed := func() []int64 {
			t.Helper()
			all, err := st.DiaryChangesAfter(ctx, 0, 100)
			must(t, err)
			var at []int64
			for _, ch := range all {
				at = append(at, ch.At.Sub(epoch).Milliseconds()/1000)
			}
			return at
		}
		c.advance(time.Minute)
		pass(booked(0, 0), booked(1, 6001)) // at 60 s
		c.advance(time.Minute)
		pass(booked(0, 0), booked(1, 0)) // at 120 s
		week := int64(7 * 24 * 60 * 60)
		c.advance(7*24*time.Hour - 30*time.Second)
		pass(booked(0, 6002), booked(1, 0)) // a week and 90 s: the first change is older than a week
		if got, want := feed(), []int64{120, week + 90}; !slices.Equal(got, want) {
			t.Fatalf("feed after a week (seconds from the start): %v, want %v", got, want)
		}
		c.advance(2 * time.Minute)
		pass(booked(0, 0), booked(1, 0)) // the second is now older than a week too
		if got, want := feed(), []int64{week + 90, week + 210}; !slices.Equal(got, want) {
			t.Fatalf("feed two minutes later: %v, want %v", got, want)
		}
	})
}
