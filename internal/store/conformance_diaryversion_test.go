package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// Every write to a practice's slots moves its diary version, on its own, with no session
// written beside it: a slot added, changed (an upsert resolved as an update), taken away, and
// changed by herolink's own booking. The free-slot index and remembered passes rebuild only
// when it moves. A pass that finds its slots as stored moves nothing.
func TestEveryWriteToAPracticesSlotsMovesItsDiaryVersion(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		diary(t, st, pid, 1, slot(1, 0), slot(1, 1))
		version := func() int64 {
			t.Helper()
			v, err := st.DiaryVersion(ctx, pid)
			must(t, err)
			return v
		}
		pass := func(slots ...store.SlotRow) {
			t.Helper()
			for i := range slots {
				slots[i].SessionID = 901
			}
			_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{901: slots}})
			must(t, err)
		}
		booked := slot(1, 1)
		booked.Status, booked.PatientID = "Booked", 5001
		for _, step := range []struct {
			name  string
			write func()
			moves bool
		}{
			{"a pass finding every slot as stored", func() { pass(slot(1, 0), slot(1, 1)) }, false},
			{"a slot added", func() { pass(slot(1, 0), slot(1, 1), slot(1, 2)) }, true},
			{"a slot booked at reception", func() { pass(slot(1, 0), booked, slot(1, 2)) }, true},
			{"a slot taken away", func() { pass(slot(1, 0), booked) }, true},
			{"herolink's own booking recorded", func() {
				must(t, st.InTx(ctx, func(tx *store.Tx) error {
					return st.RecordSlotTx(ctx, tx, pid, slot(1, 0).ID, store.SlotState{Status: "Booked", TypeID: 1, PatientID: 5002})
				}))
			}, true},
		} {
			before := version()
			step.write()
			if moved := version() != before; moved != step.moves {
				t.Errorf("%s: the diary version moved = %v, want %v", step.name, moved, step.moves)
			}
		}
	})
}
