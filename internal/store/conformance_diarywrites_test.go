package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// bookedAtReception is pass i's news from EMIS: reception booked slot (1, 0) of practice p's
// session 901 for patient 500+i; slot (1, 1) is as the first sync left it.
func bookedAtReception(p int64, i int, version int64, fence *store.SyncFence) store.DiaryDiff {
	booked := slot(1, 0)
	booked.Status, booked.PatientID = "Booked", int64(500+i)
	return store.DiaryDiff{PracticeID: p, VersionRead: version, Fence: fence,
		Slots: map[int64][]store.SlotRow{901: {booked, slot(1, 1)}}}
}

// slotStatusOf says slot (1, 0) of practice p as stored: its status and patient.
func slotStatusOf(t *testing.T, st *store.Store, p int64) (string, int64) {
	t.Helper()
	slots, err := st.DiarySlotsBetween(context.Background(), p, epoch, epoch.AddDate(0, 0, 3))
	must(t, err)
	for _, s := range slots {
		if s.ID == slot(1, 0).ID {
			return s.Status, s.PatientID
		}
	}
	t.Fatalf("practice %d has no slot %d stored", p, slot(1, 0).ID)
	return "", 0
}

// practicesSyncedByA first-syncs n practices under A's leases and says their fences and the
// diary versions the first syncs left.
func practicesSyncedByA(t *testing.T, st *store.Store, n int) (ps []int64, fences []*store.SyncFence, versions []int64) {
	t.Helper()
	ps = syncablePractices(t, st, n)
	held := heldSet(round(t, st, "a"))
	for _, p := range ps {
		f := &store.SyncFence{Holder: "a", Token: held[p]}
		firstSyncOfTwoSessions(t, st, p, f)
		v, err := st.DiaryVersion(context.Background(), p)
		must(t, err)
		fences, versions = append(fences, f), append(versions, v)
	}
	return ps, fences, versions
}

// passesAtOnce applies diffs at once, each from a goroutine of its own, and says what each
// was answered.
func passesAtOnce(st *store.Store, diffs ...store.DiaryDiff) ([]store.DiaryApplied, []error) {
	applied := make([]store.DiaryApplied, len(diffs))
	errs := make([]error, len(diffs))
	var wg sync.WaitGroup
	for i, d := range diffs {
		wg.Go(func() { applied[i], errs[i] = st.ApplyDiaryPass(context.Background(), d) })
	}
	wg.Wait()
	return applied, errs
}

// On SQLite, passes writing slots that end together share one transaction (diarywrites.go):
// one commit, and each pass answered exactly what it would have been alone.
func TestPassesWritingSlotsTogetherShareOneCommitOnSQLiteEachAnsweredAsAlone(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	clock := newLeaseClock(st)
	ps, fences, versions := practicesSyncedByA(t, st, 3)
	clock.add(leaseTTL / 2)              // the leases still hold
	st.GatherFor(300 * time.Millisecond) // the three passes surely meet
	commits := st.CountCommits(t)

	var diffs []store.DiaryDiff
	for i, p := range ps {
		diffs = append(diffs, bookedAtReception(p, i, versions[i], fences[i]))
	}
	applied, errs := passesAtOnce(st, diffs...)
	if n := commits.Load(); n != 1 {
		t.Errorf("three passes writing slots together committed %d times; want 1", n)
	}
	now := clock.now()
	for i, p := range ps {
		if errs[i] != nil {
			t.Fatalf("pass %d: %v", i, errs[i])
		}
		a := applied[i]
		want := []store.SlotChange{{SlotID: slot(1, 0).ID, SessionID: 901, OldStatus: "Available", NewStatus: "Booked",
			NewPatient: int64(500 + i), OldTypeID: 1, NewTypeID: 1}}
		if len(a.Changes) != 1 || a.Changes[0] != want[0] {
			t.Errorf("pass %d was answered the changes %+v; want %+v", i, a.Changes, want)
		}
		if a.Version <= versions[i] || a.Moved || !a.At.Equal(now) {
			t.Errorf("pass %d was answered version %d (read %d), moved %v, at %v; want a later version, not moved, at %v",
				i, a.Version, versions[i], a.Moved, a.At, now)
		}
		if v, err := st.DiaryVersion(ctx, p); err != nil || v != a.Version {
			t.Errorf("practice %d's diary version is %d (%v); its pass was answered %d", p, v, err, a.Version)
		}
		if status, patient := slotStatusOf(t, st, p); status != "Booked" || patient != int64(500+i) {
			t.Errorf("practice %d's slot is stored %s for patient %d; want Booked for %d", p, status, patient, 500+i)
		}
	}
}

// A pass that fails among others (here, from an instance that lost the practice's lease) is
// answered its own error and writes nothing; the passes beside it are written, each alone.
func TestAPassFailingAmongOthersWritingSlotsFailsAloneAndTheOthersAreWritten(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := newLeaseClock(st)
		ps, fences, versions := practicesSyncedByA(t, st, 3)
		clock.add(leaseTTL / 2)
		st.GatherFor(300 * time.Millisecond)
		lost := &store.SyncFence{Holder: "a", Token: fences[1].Token + 1} // no longer A's
		applied, errs := passesAtOnce(st,
			bookedAtReception(ps[0], 0, versions[0], fences[0]),
			bookedAtReception(ps[1], 1, versions[1], lost),
			bookedAtReception(ps[2], 2, versions[2], fences[2]))
		if !errors.Is(errs[1], store.ErrSyncLeaseLost) || applied[1].Version != -1 || len(applied[1].Changes) != 0 {
			t.Errorf("the pass under a lost lease was answered %+v, %v; want ErrSyncLeaseLost and nothing applied", applied[1], errs[1])
		}
		if status, _ := slotStatusOf(t, st, ps[1]); status != "Available" {
			t.Errorf("the pass under a lost lease stored its slot %s", status)
		}
		for _, i := range []int{0, 2} {
			if errs[i] != nil {
				t.Fatalf("pass %d failed beside one that lost its lease: %v", i, errs[i])
			}
			if len(applied[i].Changes) != 1 || applied[i].Version <= versions[i] {
				t.Errorf("pass %d was answered %+v", i, applied[i])
			}
			if status, patient := slotStatusOf(t, st, ps[i]); status != "Booked" || patient != int64(500+i) {
				t.Errorf("practice %d's slot is stored %s for patient %d; want Booked for %d", ps[i], status, patient, 500+i)
			}
		}
	})
}

// Two passes of one practice in one transaction are as two transactions one after the other:
// the second finds the version the first moved, and says so (version -1: the next pass does
// the whole work).
func TestTwoPassesOfOnePracticeWritingTogetherAreAsOneAfterTheOther(t *testing.T) {
	st := storetest.OpenSQLite(t)
	newLeaseClock(st)
	ps, fences, versions := practicesSyncedByA(t, st, 1)
	st.GatherFor(300 * time.Millisecond)
	commits := st.CountCommits(t)
	applied, errs := passesAtOnce(st,
		bookedAtReception(ps[0], 0, versions[0], fences[0]),
		bookedAtReception(ps[0], 1, versions[0], fences[0]))
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("passes: %v, %v", errs[0], errs[1])
	}
	if n := commits.Load(); n != 1 {
		t.Errorf("two passes writing together committed %d times; want 1", n)
	}
	// Whichever went first wrote its patient; the second changed the patient again, and
	// found the version moved by another write than its own.
	first, second := 0, 1
	if applied[0].Version == -1 {
		first, second = 1, 0
	}
	if applied[first].Version <= versions[0] || applied[second].Version != -1 {
		t.Errorf("the passes were answered versions %d and %d; want the first's own and -1", applied[first].Version, applied[second].Version)
	}
	want := store.SlotChange{SlotID: slot(1, 0).ID, SessionID: 901, OldStatus: "Booked", NewStatus: "Booked",
		OldPatient: int64(500 + first), NewPatient: int64(500 + second), OldTypeID: 1, NewTypeID: 1}
	if len(applied[second].Changes) != 1 || applied[second].Changes[0] != want {
		t.Errorf("the second pass was answered %+v; want %+v", applied[second].Changes, want)
	}
	if _, patient := slotStatusOf(t, st, ps[0]); patient != int64(500+second) {
		t.Errorf("the slot is stored for patient %d; want the second pass's %d", patient, 500+second)
	}
}

// A pass that fails after it has written part of its pass (here EMIS's slot is refused by a
// trigger the test adds, after the pass removed a session) leaves none of it written, even
// though the passes beside it in its transaction are written: the transaction is rolled back
// whole and each pass written alone.
func TestAPassFailingHalfWayAmongOthersLeavesNothingOfItsWrite(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	clock := newLeaseClock(st)
	ps, fences, versions := practicesSyncedByA(t, st, 3)
	clock.add(leaseTTL / 2)
	must(t, st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TRIGGER refuse_slot_666 BEFORE INSERT ON diary_slots
			WHEN NEW.slot_id = 666 BEGIN SELECT RAISE(ABORT, 'slot 666 refused by the test'); END`)
		return err
	}))
	st.GatherFor(300 * time.Millisecond)
	commits := st.CountCommits(t)
	refused := slot(1, 5)
	refused.ID = 666
	halfWay := store.DiaryDiff{PracticeID: ps[1], VersionRead: versions[1], Fence: fences[1],
		Remove: []int64{902}, Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1), refused}}}
	_, errs := passesAtOnce(st,
		bookedAtReception(ps[0], 0, versions[0], fences[0]),
		halfWay,
		bookedAtReception(ps[2], 2, versions[2], fences[2]))
	if errs[1] == nil {
		t.Fatal("the pass whose slot was refused succeeded")
	}
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("the passes beside it failed: %v, %v", errs[0], errs[2])
	}
	// The rolled-back transaction, then each alone: two written, one refused.
	if n := commits.Load(); n != 2 {
		t.Errorf("committed %d times; want 2, the two passes written alone", n)
	}
	if got := syncedAtOf(t, st, ps[1]); len(got) != 2 {
		t.Errorf("the refused pass's practice has sessions %v stored; want 901 and 902 as before it", got)
	}
	for _, i := range []int{0, 2} {
		if status, _ := slotStatusOf(t, st, ps[i]); status != "Booked" {
			t.Errorf("practice %d's slot is stored %s; want Booked", ps[i], status)
		}
	}
}

// A pass written alone after its batch failed checks its lease when it is written, not when
// the batch began: one whose lease ran out in between is refused, and writes nothing.
func TestAPassWrittenAloneAfterItsBatchFailedChecksItsLeaseThen(t *testing.T) {
	st := storetest.OpenSQLite(t)
	newLeaseClock(st)
	ps, fences, versions := practicesSyncedByA(t, st, 3)
	// The batch reads the clock first, while the leases hold; every later reading (each pass
	// written alone) finds them run out.
	leasesRunOutAfterFirstReading(st)
	st.GatherFor(300 * time.Millisecond)
	lost := &store.SyncFence{Holder: "a", Token: fences[1].Token + 1} // fails the batch
	_, errs := passesAtOnce(st,
		bookedAtReception(ps[0], 0, versions[0], fences[0]),
		bookedAtReception(ps[1], 1, versions[1], lost),
		bookedAtReception(ps[2], 2, versions[2], fences[2]))
	for i, p := range ps {
		if !errors.Is(errs[i], store.ErrSyncLeaseLost) {
			t.Errorf("pass %d, written alone after its lease ran out: %v; want ErrSyncLeaseLost", i, errs[i])
		}
		if status, _ := slotStatusOf(t, st, p); status != "Available" {
			t.Errorf("practice %d's slot is stored %s; its refused pass wrote", p, status)
		}
	}
}
