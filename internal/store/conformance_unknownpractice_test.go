package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// A diary pass for a practice herolink does not know fails and writes nothing, whether it
// brings the practice's sessions or only slots. No per-slot or per-session foreign key says so
// on PostgreSQL (migrations 0032 and 0033): the pass's write of the practice's sync_state
// does, once a pass.
func TestADiaryPassForAnUnknownPracticeWritesNothing(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		setUp(t, st, "A81001") // a practice that does exist, beside the unknown one
		const unknown = 987654
		se := session(1)
		slots := func() map[int64][]store.SlotRow {
			s := []store.SlotRow{slot(1, 0), slot(1, 1)}
			for i := range s {
				s[i].SessionID = se.ID
			}
			return map[int64][]store.SlotRow{se.ID: s}
		}
		for _, pass := range []struct {
			name string
			diff store.DiaryDiff
		}{
			{"a first sync with its sessions", store.DiaryDiff{PracticeID: unknown, Full: true, FirstSyncDone: true,
				Upsert: []store.SessionRow{se}, Slots: slots()}},
			{"slots alone, their session never stored", store.DiaryDiff{PracticeID: unknown, Slots: slots()}},
			{"slots alone, in a pass that says the first sync is done", store.DiaryDiff{PracticeID: unknown, FirstSyncDone: true, Slots: slots()}},
		} {
			if _, err := st.ApplyDiary(ctx, pass.diff); err == nil {
				t.Errorf("%s for an unknown practice: no error", pass.name)
			}
			for _, table := range []string{"diary_slots", "diary_sessions", "sync_state"} {
				var n int
				if err := st.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE practice_id = ?`, unknown).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%s for an unknown practice: %d rows of %s stored", pass.name, n, table)
				}
			}
		}
	})
}
