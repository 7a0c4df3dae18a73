package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

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

// A first sync whose sessions were stored by an earlier pass (their slot reads failed) writes
// the slots alone, in bulk (COPY on PostgreSQL): that write moves the version too, so a search
// that had found the practice empty offers them at once.
func TestAFirstSyncsSlotsWrittenAfterItsSessionsMoveTheDiaryVersion(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		sessions := []store.SessionRow{session(1)}
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Upsert: sessions}) // no slot read
		must(t, err)
		if ss, err := st.SyncStatus(ctx, pid); err != nil || ss.FirstSyncDone {
			t.Fatalf("after a pass that read no slot: first sync done = %v, %v", ss.FirstSyncDone, err)
		}
		q := store.FreeSlotQuery{GroupID: f.practice.PracticeGroupID, From: epoch, To: epoch.AddDate(0, 0, 7), Now: epoch}
		if fs, err := st.FreeSlots(ctx, q); err != nil || len(fs) != 0 {
			t.Fatalf("free slots before the slots were read: %+v, %v", fs, err)
		}
		before, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		slots := []store.SlotRow{slot(1, 0), slot(1, 1)}
		for i := range slots {
			slots[i].SessionID = sessions[0].ID
		}
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true,
			Slots: map[int64][]store.SlotRow{sessions[0].ID: slots}})
		must(t, err)
		if after, err := st.DiaryVersion(ctx, pid); err != nil || after == before {
			t.Errorf("the diary version after the first sync's slots: %d (before %d), %v", after, before, err)
		}
		fs, err := st.FreeSlots(ctx, q)
		must(t, err)
		if len(fs) != 2 || fs[0].SlotID != slots[0].ID || fs[1].SlotID != slots[1].ID {
			t.Errorf("free slots after the first sync's slots: %+v, want slots %d and %d", fs, slots[0].ID, slots[1].ID)
		}
	})
}

// Passes starting together read their diary versions in one query (diaryversions.go): each
// still gets its own practice's, and a practice with nothing stored reads 0.
func TestDiaryVersionsReadTogetherAreEachPracticesOwn(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		var ids []int64
		for i, ods := range []string{"A81001", "A81002", "A81003"} {
			pid := setUp(t, st, ods).practice.ID
			ids = append(ids, pid)
			for range i { // practice i has its slots written i times
				diary(t, st, pid, 1, slot(1, 0), slot(1, 1))
				_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Remove: []int64{901}})
				must(t, err)
			}
		}
		ids = append(ids, ids[2]+1000)       // no practice: nothing stored
		st.GatherFor(300 * time.Millisecond) // the four reads surely meet
		alone := map[int64]int64{}
		for _, id := range ids {
			v, err := st.DiaryVersion(ctx, id)
			must(t, err)
			alone[id] = v
		}
		if alone[ids[0]] == alone[ids[2]] || alone[ids[3]] != 0 {
			t.Fatalf("versions read alone %v: want the practices' to differ and the unknown one's 0", alone)
		}
		together := make([]int64, len(ids))
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() { together[i], errs[i] = st.DiaryVersion(ctx, id) })
		}
		wg.Wait()
		for i, id := range ids {
			if errs[i] != nil || together[i] != alone[id] {
				t.Errorf("practice %d read with the others: %d, %v; alone %d", id, together[i], errs[i], alone[id])
			}
		}
	})
}

// A practice with nothing stored that moves a version (no session yet, no slot type, no site)
// has no counter row: its first sync and the passes after it read and leave version 0, not an
// error, so a practice whose diary is still empty in EMIS syncs like any other.
func TestAPracticeWithNothingStoredPassesAtVersionZero(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p, err := st.EnsurePractice(ctx, "A81009", 81009, "The Empty Practice")
		must(t, err)
		for i, d := range []store.DiaryDiff{
			{PracticeID: p.ID, Full: true, FirstSyncDone: true}, // the first sync: the whole write
			{PracticeID: p.ID, Full: true, FirstSyncDone: true}, // then a record-only pass
			{PracticeID: p.ID, Full: true, FirstSyncDone: true, PruneBefore: "2026-01-01"},
		} {
			applied, err := st.ApplyDiaryPass(ctx, d)
			if err != nil || applied.Version != 0 {
				t.Fatalf("pass %d of an empty practice: version %d, %v; want 0", i+1, applied.Version, err)
			}
			if v, err := st.DiaryVersion(ctx, p.ID); err != nil || v != 0 {
				t.Fatalf("after pass %d: diary version %d, %v; want 0", i+1, v, err)
			}
		}
		if ss, err := st.SyncStatus(ctx, p.ID); err != nil || !ss.FirstSyncDone {
			t.Fatalf("an empty practice's first sync: done = %v, %v", ss.FirstSyncDone, err)
		}
	})
}
