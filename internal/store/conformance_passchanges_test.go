package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"herolink/internal/store"
)

// A first sync that stopped part way stored some sessions; the next attempt is a first sync
// too, and compares with what the first stored: a slot EMIS no longer lists is removed (and
// recorded as gone), one it still lists unchanged is not written or recorded again.
func TestAFirstSyncRunAgainAfterOneThatStoppedPartWayComparesWithWhatItStored(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		// The first attempt read session 901 but not 902.
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}}, Incomplete: "session 902 could not be read"})
		must(t, err)
		if done, err := st.FirstSyncDone(ctx, pid); err != nil || done {
			t.Fatalf("after a first sync that stopped part way: done %v, err %v", done, err)
		}
		// Reception cancelled slot 1001 in between; the second attempt reads everything.
		c.advance(time.Minute)
		changes, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true,
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0)}, 902: {slot(1, 2)}}})
		must(t, err)
		stored, err := st.DiarySlotsBetween(ctx, pid, slotAt(1, 0), slotAt(2, 0))
		must(t, err)
		var ids []int64
		for _, s := range stored {
			ids = append(ids, s.ID)
		}
		if want := []int64{1000, 1002}; !slices.Equal(ids, want) {
			t.Fatalf("stored slots after the second attempt: %v, want %v (1001 is gone from EMIS)", ids, want)
		}
		byID := map[int64]store.SlotChange{}
		for _, ch := range changes {
			byID[ch.SlotID] = ch
		}
		if len(changes) != 2 || byID[1001].OldStatus != "Available" || byID[1001].NewStatus != "" || byID[1002].NewStatus != "Available" {
			t.Fatalf("changes of the second attempt: %+v, want 1001 gone and 1002 new only", changes)
		}
	})
}

// A pass that removes a session EMIS no longer lists and writes another's slots reports both:
// the removed session's slots as gone and the other's changes (the feed, webhooks and bookings
// follow what it reports).
func TestAPassRemovingOneSessionAndChangingAnotherReportsBoth(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)
		c.advance(time.Minute)
		booked := slot(1, 1)
		booked.Status, booked.PatientID = "Booked", 6001
		changes, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Remove: []int64{902},
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), booked}}})
		must(t, err)
		byID := map[int64]store.SlotChange{}
		for _, ch := range changes {
			byID[ch.SlotID] = ch
		}
		if len(changes) != 2 || byID[1002].OldStatus != "Available" || byID[1002].NewStatus != "" || byID[1001].NewStatus != "Booked" {
			t.Fatalf("changes: %+v, want 1002 gone with its session and 1001 booked", changes)
		}
	})
}
