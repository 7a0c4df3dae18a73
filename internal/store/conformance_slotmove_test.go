package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
)

// twoSessions are sessions 901 and 902, at the same time on the same day.
func twoSessions() []store.SessionRow {
	return []store.SessionRow{
		{ID: 901, Date: "2026-03-03", StartAt: slotAt(1, 0), EndAt: slotAt(1, 18), SlotLength: 10, Name: "Morning", Hash: "a"},
		{ID: 902, Date: "2026-03-03", StartAt: slotAt(1, 0), EndAt: slotAt(1, 18), SlotLength: 10, Name: "Extra", Hash: "b"},
	}
}

// firstSyncOfTwoSessions stores a practice's first sync of twoSessions, 901 with two slots and
// 902 with one, under fence (nil: none).
func firstSyncOfTwoSessions(t *testing.T, st *store.Store, pid int64, fence *store.SyncFence) {
	t.Helper()
	_, err := st.ApplyDiary(context.Background(), store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
		Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}, 902: {slot(1, 2)}}, Fence: fence})
	must(t, err)
}

// syncedAtOf says when each stored session of 2026-03-03 (twoSessions' day) had its slots read.
func syncedAtOf(t *testing.T, st *store.Store, pid int64) map[int64]time.Time {
	t.Helper()
	ss, err := st.DiarySessions(context.Background(), pid, "2026-03-03", "2026-03-03")
	must(t, err)
	out := map[int64]time.Time{}
	for _, s := range ss {
		out[s.ID] = s.SlotsSyncedAt
	}
	return out
}

// A slot EMIS moved from one session to another in a single pass is kept, under its new
// session, whatever order the pass's sessions are applied in: the pass deletes what left a
// session before it writes what arrived in another (PostgreSQL sends each kind in one batch).
func TestASlotMovedBetweenSessionsInOnePassIsKeptUnderItsNewSession(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		moving := slot(1, 4)
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), moving}, 902: {slot(1, 1)}}})
		must(t, err)
		// Back and forth, many times: Go's map order varies, so both orders are met.
		for i := range 16 {
			from, to := int64(901), int64(902)
			if i%2 == 1 {
				from, to = 902, 901
			}
			stay := map[int64]store.SlotRow{901: slot(1, 0), 902: slot(1, 1)}
			_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid,
				Slots: map[int64][]store.SlotRow{from: {stay[from]}, to: {stay[to], moving}}})
			must(t, err)
			got, err := st.DiarySlotByID(ctx, pid, moving.ID)
			if err != nil {
				t.Fatalf("pass %d: the slot moved from session %d to %d was lost: %v", i, from, to, err)
			}
			if got.SessionID != to {
				t.Fatalf("pass %d: the moved slot is under session %d, want %d", i, got.SessionID, to)
			}
		}
	})
}

// A slot listed in two sessions of one pass (EMIS moved it between the two reads) is stored
// once, under one of them (which depends on the order the sessions are applied in): the pass
// writes many slots a statement, and PostgreSQL refuses a statement that writes one row twice.
func TestASlotListedInTwoSessionsOfOnePassIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		twice := slot(1, 4)
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), twice}, 902: {twice, slot(1, 1)}}})
		must(t, err)
		got, err := st.DiarySlotByID(ctx, pid, twice.ID)
		must(t, err)
		if got.SessionID != 901 && got.SessionID != 902 {
			t.Fatalf("the slot listed twice is under session %d", got.SessionID)
		}
		status, err := st.SyncStatus(ctx, pid)
		must(t, err)
		if status.Slots != 3 {
			t.Fatalf("%d slots stored, want 3", status.Slots)
		}
	})
}

// A pass writes a session's slots many a statement, in chunks of a few fixed sizes: every slot
// of sessions of every size up to 150 slots is stored as listed, field by field.
func TestEverySlotOfALargePassIsStoredAsListed(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		d := store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Slots: map[int64][]store.SlotRow{}}
		var want []store.SlotRow
		for k, n := range []int{1, 3, 5, 17, 63, 64, 65, 85, 150} {
			sid := int64(901 + k)
			d.Upsert = append(d.Upsert, store.SessionRow{ID: sid, Date: "2026-03-03", StartAt: slotAt(1, 0),
				EndAt: slotAt(1, n), SlotLength: 10, Name: "Morning", Hash: "h"})
			for i := range n {
				sl := store.SlotRow{ID: sid*1000 + int64(i), SessionID: sid, StartAt: slotAt(1, i), LengthMin: 5 + i%3,
					TypeID: 1 + i%4, Status: "Available"}
				if i%3 == 1 {
					sl.Status, sl.PatientID = "Booked", int64(5000+i)
				}
				d.Slots[sid] = append(d.Slots[sid], sl)
				want = append(want, sl)
			}
		}
		_, err := st.ApplyDiary(ctx, d)
		must(t, err)
		for _, w := range want {
			got, err := st.DiarySlotByID(ctx, pid, w.ID)
			if err != nil {
				t.Fatalf("slot %d: %v", w.ID, err)
			}
			if !got.StartAt.Equal(w.StartAt) {
				t.Fatalf("slot %d starts at %v, want %v", w.ID, got.StartAt, w.StartAt)
			}
			got.StartAt = w.StartAt
			if got.SlotRow != w {
				t.Fatalf("slot %d is stored as %+v, listed as %+v", w.ID, got.SlotRow, w)
			}
		}
		status, err := st.SyncStatus(ctx, pid)
		must(t, err)
		if status.Slots != len(want) {
			t.Fatalf("%d slots stored, want %d", status.Slots, len(want))
		}
	})
}
