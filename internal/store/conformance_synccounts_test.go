package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// The practice's counts of stored sessions and slots (the practice page's "N sessions, M
// slots") are those of the stored copy, whatever kind of pass last wrote it: counted when asked
// since no pass keeps them (migration 0031), so each kind of pass that changes them is shown.
func TestSyncCountsStayExactThroughPassesThatOnlyReadSlots(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)
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

// The sync asks once after a start whether a practice's first sync is done; a practice never
// synced, or whose passes so far failed, has not.
func TestFirstSyncDoneOnlyOnceAPassCompletedIt(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		check := func(when string, want bool) {
			t.Helper()
			done, err := st.FirstSyncDone(ctx, pid)
			must(t, err)
			if done != want {
				t.Fatalf("%s: first sync done %v, want %v", when, done, want)
			}
		}
		check("never synced", false)
		must(t, st.RecordSyncFailure(ctx, pid, "EMIS timed out"))
		check("after a failed pass", false)
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Upsert: twoSessions(), Incomplete: "1 session unread"})
		must(t, err)
		check("after an incomplete first pass", false)
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions()})
		must(t, err)
		check("after a complete first pass", true)
	})
}
