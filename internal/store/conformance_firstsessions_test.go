package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
)

// A first sync into an empty diary (copied in on PostgreSQL) marks read only the sessions
// whose slots it read: a session whose slot list failed, or that has no slot type herolink
// reads, must be read by a later pass, not taken for an empty session.
func TestAFirstSyncMarksReadOnlyTheSessionsWhoseSlotsItRead(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}}})
		must(t, err)
		got := syncedAtOf(t, st, pid)
		if len(got) != 2 || !got[901].Equal(c.now()) || !got[902].IsZero() {
			t.Fatalf("after a first sync that read the slots of 901 alone, slots read at %v; want 901 at %v, 902 never", got, c.now())
		}
		if n := count(t, st, `SELECT COUNT(*) FROM diary_slots WHERE practice_id = ?`, pid); n != 2 {
			t.Fatalf("%d slots stored, want 2", n)
		}
	})
}

// A first sync is written whatever an earlier pass left: sessions stored by a pass whose slot
// reads failed, or a session EMIS listed twice. Each is written once, as the later listing
// says, and the pass is not refused for a duplicate (PostgreSQL's COPY would refuse both).
func TestAFirstSyncIsWrittenOverSessionsStoredBeforeAndSessionsListedTwice(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Upsert: twoSessions()[:1]}) // no slot read
		must(t, err)
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0)}, 902: {slot(1, 1)}}})
		if err != nil {
			t.Fatalf("a first sync over a session stored by an earlier pass: %v", err)
		}
		if got := syncedAtOf(t, st, pid); len(got) != 2 || !got[901].Equal(c.now()) || !got[902].Equal(c.now()) {
			t.Fatalf("slots read at %v, want both at %v", got, c.now())
		}

		other := setUp(t, st, "A81002").practice.ID
		twice := append(twoSessions(), twoSessions()[0])
		twice[2].Name = "Morning, renamed"
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: other, Full: true, FirstSyncDone: true, Upsert: twice,
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0)}}})
		if err != nil {
			t.Fatalf("a first sync listing a session twice: %v", err)
		}
		var name string
		if err := st.DBQ().QueryRowContext(ctx, `SELECT name FROM diary_sessions WHERE practice_id = ? AND session_id = 901`, other).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != "Morning, renamed" || count(t, st, `SELECT COUNT(*) FROM diary_sessions WHERE practice_id = ?`, other) != 2 {
			t.Fatalf("session 901 listed twice stored as %q among %d sessions; want the later listing, 2 sessions", name,
				count(t, st, `SELECT COUNT(*) FROM diary_sessions WHERE practice_id = ?`, other))
		}
	})
}

// Sessions inserted or deleted alone, with no slot beside them, move the diary version: the
// sync's remembered copy of what a practice stores is kept only while the version stands, so
// a session another instance stored or deleted must not go unnoticed.
func TestSessionsInsertedOrDeletedAloneMoveTheDiaryVersion(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		before, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions()})
		must(t, err)
		inserted, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		if inserted == before {
			t.Fatalf("a first sync of two sessions with no slot left the diary version at %d", before)
		}
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Remove: []int64{902}})
		must(t, err)
		if after, err := st.DiaryVersion(ctx, pid); err != nil || after == inserted {
			t.Fatalf("a session deleted alone left the diary version at %d (%v)", after, err)
		}
	})
}
