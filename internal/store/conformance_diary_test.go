package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func TestConformanceDiaryAndSyncState(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		s0, err := st.SyncStatus(ctx, pid)
		must(t, err)
		if s0 != (store.SyncStatus{PracticeID: pid}) {
			t.Fatalf("a practice never synced: %+v", s0)
		}
		ids, err := st.SyncablePractices(ctx)
		must(t, err)
		if len(ids) != 1 || ids[0] != pid {
			t.Fatalf("syncable: %v", ids)
		}
		fr, err := st.SyncFreshness(ctx, epoch.Add(-time.Hour))
		must(t, err)
		if fr.Practices != 1 || fr.FirstSyncing != 1 || !fr.OldestFull.IsZero() {
			t.Fatalf("freshness before the first sync: %+v", fr)
		}
		must(t, st.RecordSyncProgress(ctx, pid, 3, 10))
		must(t, st.RecordSyncFailure(ctx, pid, "EMIS timed out"))
		must(t, st.RecordSyncFailure(ctx, pid, "EMIS timed out again"))
		s1, _ := st.SyncStatus(ctx, pid)
		if s1.ProgressDone != 3 || s1.ProgressTotal != 10 || s1.ConsecutiveFailures != 2 || s1.LastError != "EMIS timed out again" ||
			!s1.LastAttemptAt.Equal(epoch) || s1.FirstSyncDone || !s1.LastSuccessAt.IsZero() {
			t.Fatalf("after progress and two failures: %+v", s1)
		}

		// The first pass: the whole diary appears; no change is recorded for it.
		sl := []store.SlotRow{slot(1, 0), slot(1, 1), slot(1, 2)}
		sl[2].Status, sl[2].PatientID = "Booked", 5001
		changes, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true,
			Upsert: []store.SessionRow{{ID: 901, Date: "2026-03-03", StartAt: slotAt(1, 0), EndAt: slotAt(1, 18), SlotLength: 10,
				Name: "Morning", SiteID: 501, HolderIDs: []int64{601, 602}, Hash: "h1"}},
			Slots: map[int64][]store.SlotRow{901: sl}})
		must(t, err)
		if len(changes) != 3 {
			t.Fatalf("first pass: %d slot changes, want 3 (every slot new)", len(changes))
		}
		if feed, _ := st.DiaryChangesAfter(ctx, 0, 100); len(feed) != 0 {
			t.Fatalf("the first sync recorded changes in the feed: %+v", feed)
		}
		s2, _ := st.SyncStatus(ctx, pid)
		if !s2.FirstSyncDone || !s2.LastSuccessAt.Equal(epoch) || s2.ConsecutiveFailures != 0 || s2.LastError != "" || s2.Sessions != 1 || s2.Slots != 3 {
			t.Fatalf("after the first pass: %+v", s2)
		}
		fr, _ = st.SyncFreshness(ctx, epoch.Add(-time.Hour))
		if fr.FirstSyncing != 0 || fr.Failing != 0 || fr.Stale != 0 || !fr.OldestFull.Equal(epoch) {
			t.Fatalf("freshness after a full pass: %+v", fr)
		}
		if fr, _ := st.SyncFreshness(ctx, epoch.Add(time.Hour)); fr.Stale != 1 {
			t.Fatalf("freshness with a later staleness bound: %+v", fr)
		}
		sessions, err := st.DiarySessions(ctx, pid, "2026-03-03", "2026-03-03")
		must(t, err)
		if len(sessions) != 1 || sessions[0].ID != 901 || sessions[0].Hash != "h1" || !sessions[0].SlotsSyncedAt.Equal(epoch) {
			t.Fatalf("stored sessions: %+v", sessions)
		}
		if s, _ := st.DiarySessions(ctx, pid, "2026-03-04", "2026-03-09"); len(s) != 0 {
			t.Fatalf("sessions of other days: %+v", s)
		}
		slots, err := st.DiarySlotsBetween(ctx, pid, slotAt(1, 0), slotAt(1, 2))
		must(t, err)
		if len(slots) != 2 || slots[0].ID != 1000 || slots[1].ID != 1001 || slots[0].SessionName != "Morning" || slots[0].SiteID != 501 ||
			len(slots[0].HolderIDs) != 2 || slots[0].HolderIDs[1] != 602 || !slots[0].StartAt.Equal(slotAt(1, 0)) {
			t.Fatalf("slots in [0, 2): %+v", slots)
		}
		booked, err := st.DiarySlotByID(ctx, pid, 1002)
		must(t, err)
		if booked.Status != "Booked" || booked.PatientID != 5001 || booked.TypeID != 1 || booked.LengthMin != 10 {
			t.Fatalf("slot 1002: %+v", booked)
		}
		if _, err := st.DiarySlotByID(ctx, pid, 999999); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown slot: %v", err)
		}

		// A later pass: reception booked slot 1000, cancelled 1002, and 1001 went; 1003 appeared.
		c.advance(time.Minute)
		sl2 := []store.SlotRow{slot(1, 0), slot(1, 2), slot(1, 3)}
		sl2[0].Status, sl2[0].PatientID = "Booked", 6001
		changes, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{901: sl2}})
		must(t, err)
		if len(changes) != 4 {
			t.Fatalf("second pass: %+v, want 4 changes", changes)
		}
		feed, err := st.DiaryChangesAfter(ctx, 0, 100)
		must(t, err)
		if len(feed) != 4 {
			t.Fatalf("feed: %+v", feed)
		}
		bySlot := map[int64]store.DiaryChange{}
		for i, ch := range feed {
			if ch.PracticeID != pid || !ch.At.Equal(c.t) || (i > 0 && ch.Seq <= feed[i-1].Seq) {
				t.Fatalf("feed entry %d: %+v", i, ch)
			}
			bySlot[ch.SlotID] = ch
		}
		if ch := bySlot[1000]; ch.OldStatus != "Available" || ch.NewStatus != "Booked" || ch.NewPatient != 6001 || ch.SessionID != 901 {
			t.Fatalf("reception's booking: %+v", ch)
		}
		if ch := bySlot[1001]; ch.OldStatus != "Available" || ch.NewStatus != "" {
			t.Fatalf("a slot that went: %+v", ch)
		}
		if ch := bySlot[1002]; ch.OldStatus != "Booked" || ch.OldPatient != 5001 || ch.NewStatus != "Available" || ch.NewPatient != 0 {
			t.Fatalf("reception's cancellation: %+v", ch)
		}
		if ch := bySlot[1003]; ch.OldStatus != "" || ch.NewStatus != "Available" {
			t.Fatalf("a slot that appeared: %+v", ch)
		}
		if after, _ := st.DiaryChangesAfter(ctx, feed[1].Seq, 1); len(after) != 1 || after[0].Seq != feed[2].Seq {
			t.Fatalf("after the second change, one at most: %+v", after)
		}
		s3, _ := st.SyncStatus(ctx, pid)
		if !s3.FirstSyncDone || s3.Slots != 3 || !s3.LastSuccessAt.Equal(c.t) {
			t.Fatalf("after the second pass: %+v", s3)
		}
		// A moved session: its slots' starts change and the change says moved.
		c.advance(time.Minute)
		sl3 := []store.SlotRow{slot(1, 0), slot(1, 2), slot(1, 3)}
		sl3[0].Status, sl3[0].PatientID = "Booked", 6001
		for i := range sl3 {
			sl3[i].StartAt = sl3[i].StartAt.Add(time.Hour)
		}
		changes, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{901: sl3}})
		must(t, err)
		if len(changes) != 3 || !changes[0].Moved {
			t.Fatalf("moved session: %+v", changes)
		}
		// An incomplete pass is a failure and keeps the last success.
		c.advance(time.Minute)
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Incomplete: "session 902 could not be read"})
		must(t, err)
		s4, _ := st.SyncStatus(ctx, pid)
		if s4.ConsecutiveFailures != 1 || s4.LastError != "session 902 could not be read" || !s4.LastSuccessAt.Equal(epoch.Add(2*time.Minute)) || !s4.FirstSyncDone {
			t.Fatalf("after an incomplete pass: %+v", s4)
		}
		if fr, _ := st.SyncFreshness(ctx, epoch.Add(-time.Hour)); fr.Failing != 1 {
			t.Fatalf("freshness after an incomplete pass: %+v", fr)
		}
		// An incomplete pass that also wrote recounts and keeps the first sync done.
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Incomplete: "again", Remove: []int64{901}})
		must(t, err)
		s5, _ := st.SyncStatus(ctx, pid)
		if s5.ConsecutiveFailures != 2 || s5.Sessions != 0 || s5.Slots != 0 || !s5.FirstSyncDone {
			t.Fatalf("after an incomplete pass removing a session: %+v", s5)
		}
		// Pruning old sessions.
		diary(t, st, pid, 2, slot(2, 0))
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, PruneBefore: "2026-03-10"})
		must(t, err)
		if s, _ := st.SyncStatus(ctx, pid); s.Sessions != 0 || s.Slots != 0 {
			t.Fatalf("after pruning: %+v", s)
		}
		// Passes that write nothing: a near one keeps the last full success, a full one moves it.
		lastFull, _ := st.SyncFreshness(ctx, epoch)
		c.advance(time.Minute)
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid})
		must(t, err)
		fr, _ = st.SyncFreshness(ctx, epoch)
		if s, _ := st.SyncStatus(ctx, pid); !s.LastSuccessAt.Equal(c.t) || s.ConsecutiveFailures != 0 || !fr.OldestFull.Equal(lastFull.OldestFull) {
			t.Fatalf("after a near pass that wrote nothing: %+v, %+v", s, fr)
		}
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true})
		must(t, err)
		if fr, _ := st.SyncFreshness(ctx, epoch); !fr.OldestFull.Equal(c.t) {
			t.Fatalf("after a full pass that wrote nothing: %+v", fr)
		}
		if _, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: 424242, Upsert: []store.SessionRow{{ID: 1, Date: "2026-03-03"}}}); err == nil {
			t.Fatal("a diary of an unknown practice was stored")
		}
	})
}

func TestConformanceFeedCursorAndSlotRecords(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		if n, err := st.FeedCursor(ctx, "booking"); err != nil || n != 0 {
			t.Fatalf("a new feed cursor: %d, %v", n, err)
		}
		must(t, st.SetFeedCursor(ctx, st.DBQ(), "booking", 42))
		must(t, st.SetFeedCursor(ctx, st.DBQ(), "booking", 43))
		must(t, st.SetFeedCursor(ctx, st.DBQ(), "webhooks", 7))
		if n, _ := st.FeedCursor(ctx, "booking"); n != 43 {
			t.Fatalf("cursor %d, want 43", n)
		}
		// RecordSlotTx writes what herolink wrote into EMIS and marks the session to be read.
		diary(t, st, pid, 1, slot(1, 0), slot(1, 1))
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			return st.RecordSlotTx(ctx, tx, pid, 1000, store.SlotState{Status: "Booked", TypeID: 1, PatientID: 5001})
		}))
		d, _ := st.DiarySlotByID(ctx, pid, 1000)
		if d.Status != "Booked" || d.PatientID != 5001 {
			t.Fatalf("recorded slot: %+v", d)
		}
		sessions, _ := st.DiarySessions(ctx, pid, "2026-03-03", "2026-03-03")
		if len(sessions) != 1 || sessions[0].Hash != "" {
			t.Fatalf("the session of a recorded slot is not marked to be read: %+v", sessions)
		}
		must(t, st.RecordSlotTx(ctx, st.DBQ(), pid, 1000, store.SlotState{Status: "Available", TypeID: 2}))
		if d, _ := st.DiarySlotByID(ctx, pid, 1000); d.Status != "Available" || d.PatientID != 0 || d.TypeID != 2 {
			t.Fatalf("slot recorded free: %+v", d)
		}
		must(t, st.RecordSlotTx(ctx, st.DBQ(), pid, 999999, store.SlotState{Status: "Booked"})) // not in the copy: left alone
		if feed, _ := st.DiaryChangesAfter(ctx, 0, 10); len(feed) != 0 {
			t.Fatalf("herolink's own writes reached the feed: %+v", feed)
		}
	})
}

// The feed's ids and times increase in the order passes commit, across practices, and a
// reader following it with a cursor sees every change once.
func TestTheDiaryFeedIsInCommitOrder(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		a, b := setUp(t, st, "A81001"), setUp(t, st, "B82002")
		diary(t, st, a.practice.ID, 1, slot(1, 0), slot(1, 1), slot(1, 2))
		diary(t, st, b.practice.ID, 1, slot(1, 0), slot(1, 1), slot(1, 2))
		var seen []store.DiaryChange
		var order []int64
		for round := range 6 {
			c.advance(time.Second)
			p := a.practice.ID
			if round%2 == 1 {
				p = b.practice.ID
			}
			sl := []store.SlotRow{slot(1, 0), slot(1, 1), slot(1, 2)}
			sl[round%3].Status, sl[round%3].PatientID = "Booked", int64(round+1)
			_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Slots: map[int64][]store.SlotRow{901: sl}})
			must(t, err)
			order = append(order, p)
			after, _ := st.FeedCursor(ctx, "test")
			got, err := st.DiaryChangesAfter(ctx, after, 100)
			must(t, err)
			if len(got) == 0 {
				t.Fatalf("round %d: no change read", round)
			}
			seen = append(seen, got...)
			must(t, st.SetFeedCursor(ctx, st.DBQ(), "test", got[len(got)-1].Seq))
		}
		all, _ := st.DiaryChangesAfter(ctx, 0, 100)
		if len(all) != len(seen) {
			t.Fatalf("the feed holds %d changes, the reader saw %d", len(all), len(seen))
		}
		for i := 1; i < len(all); i++ {
			if all[i].Seq <= all[i-1].Seq || all[i].At.Before(all[i-1].At) {
				t.Fatalf("feed out of order at %d: %+v then %+v", i, all[i-1], all[i])
			}
		}
		if all[0].PracticeID != order[0] || all[len(all)-1].PracticeID != order[len(order)-1] {
			t.Fatalf("the feed's first and last changes are not the first and last passes': %+v", all)
		}
	})
}
