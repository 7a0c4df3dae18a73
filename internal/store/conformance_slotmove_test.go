package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// A slot EMIS moved from one session to another in a single pass is kept, under its new
// session, whatever order the pass's sessions are applied in: the pass deletes what left a
// session before it writes what arrived in another (PostgreSQL sends each kind in one batch).
func TestASlotMovedBetweenSessionsInOnePassIsKeptUnderItsNewSession(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		sessions := []store.SessionRow{
			{ID: 901, Date: "2026-03-03", StartAt: slotAt(1, 0), EndAt: slotAt(1, 18), SlotLength: 10, Name: "Morning", Hash: "a"},
			{ID: 902, Date: "2026-03-03", StartAt: slotAt(1, 0), EndAt: slotAt(1, 18), SlotLength: 10, Name: "Extra", Hash: "b"},
		}
		moving := slot(1, 4)
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: sessions,
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
