package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// The practice's counts of stored sessions and slots (the admin page's "sessions, slots") stay
// exact through passes that only read slots again: such a pass skips counting unless it added
// or removed a slot, so each kind of pass that can is shown here, one at a time.
func TestSyncCountsStayExactThroughPassesThatOnlyReadSlots(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}, 902: {slot(1, 2)}}})
		must(t, err)
		booked := slot(1, 1)
		booked.Status, booked.PatientID = "Booked", 5001
		moved := slot(1, 0)
		moved.SessionID = 902
		for _, step := range []struct {
			name           string
			slots          map[int64][]store.SlotRow
			sessions, want int
		}{
			{"a refresh that finds everything as stored", map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}}, 2, 3},
			{"a refresh that finds a slot booked at reception", map[int64][]store.SlotRow{901: {slot(1, 0), booked}}, 2, 3},
			{"a refresh that finds a slot added", map[int64][]store.SlotRow{901: {slot(1, 0), booked, slot(1, 3)}}, 2, 4},
			{"a refresh that finds a slot removed", map[int64][]store.SlotRow{901: {slot(1, 0), booked}}, 2, 3},
			{"a refresh that finds every slot of a session removed", map[int64][]store.SlotRow{902: {}}, 2, 2},
			{"a refresh that finds a slot moved to another session", map[int64][]store.SlotRow{901: {booked}, 902: {moved}}, 2, 2},
		} {
			_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Slots: step.slots})
			must(t, err)
			s, err := st.SyncStatus(ctx, pid)
			must(t, err)
			if s.Sessions != step.sessions || s.Slots != step.want {
				t.Fatalf("after %s: the practice shows %d sessions and %d slots, want %d and %d",
					step.name, s.Sessions, s.Slots, step.sessions, step.want)
			}
		}
	})
}
