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

// A pass with nothing to write but its record and the sessions a refresh confirmed takes a
// shorter write (diaryconfirm.go). Each thing the whole transaction checks first must still
// hold on it: these cases are the ones where it must not take the shorter write, or where the
// shorter write must do what the whole one did.

// firstSyncedByA is a practice whose first sync instance A stored under its lease (fenceA);
// takenByB lets A's lease lapse and has instance B take the practice.
func firstSyncedByA(t *testing.T, st *store.Store) (p int64, fenceA *store.SyncFence, takenByB func()) {
	t.Helper()
	clock := newLeaseClock(st)
	p = syncablePractices(t, st, 1)[0]
	fenceA = &store.SyncFence{Holder: "a", Token: heldSet(round(t, st, "a"))[p]}
	firstSyncOfTwoSessions(t, st, p, fenceA)
	return p, fenceA, func() {
		t.Helper()
		clock.add(leaseTTL)
		if _, ok := heldSet(round(t, st, "b"))[p]; !ok {
			t.Fatal("B did not take the lapsed lease")
		}
	}
}

func TestARefreshFromAnInstanceThatLostTheLeaseIsRefusedAndMarksNothingRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, fenceA, takenByB := firstSyncedByA(t, st)
		before := syncedAtOf(t, st, p)
		statusBefore, err := st.SyncStatus(ctx, p)
		must(t, err)

		takenByB()
		v, err := st.DiaryVersion(ctx, p)
		must(t, err)
		_, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: p, Full: true, VersionRead: v, Confirmed: []int64{901}, Fence: fenceA})
		if !errors.Is(err, store.ErrSyncLeaseLost) {
			t.Fatalf("A's refresh after losing the lease: %v, want ErrSyncLeaseLost", err)
		}
		status, err := st.SyncStatus(ctx, p)
		must(t, err)
		if got := syncedAtOf(t, st, p); !got[901].Equal(before[901]) || !status.LastSuccessAt.Equal(statusBefore.LastSuccessAt) {
			t.Fatalf("A's refused refresh wrote: slots read at %v (were %v), last success %v (was %v)",
				got, before, status.LastSuccessAt, statusBefore.LastSuccessAt)
		}
	})
}

func TestAPassWithNothingToWriteCompletesAFirstSyncThatFailedBefore(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		// The first attempt could not read everything: the practice has a sync state whose
		// first sync is not done.
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, Incomplete: "EMIS timed out"})
		must(t, err)
		c.advance(time.Minute)
		v, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		// EMIS lists nothing this time (an empty diary), so the pass writes only its record.
		_, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, VersionRead: v})
		must(t, err)
		done, err := st.FirstSyncDone(ctx, pid)
		must(t, err)
		status, err := st.SyncStatus(ctx, pid)
		must(t, err)
		if !done || !status.LastSuccessAt.Equal(c.now()) || status.ConsecutiveFailures != 0 {
			t.Fatalf("the pass that read everything: first sync done %v, status %+v", done, status)
		}
	})
}

func TestAFullPassWithNothingToWritePrunesDaysBeforeTodayAndSaysTheVersionItLeft(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)
		c.advance(24 * time.Hour)
		v, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		// The next day EMIS's window starts after these sessions: nothing to write, and a
		// day to prune.
		applied, err := st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true,
			VersionRead: v, PruneBefore: "2026-03-04"})
		must(t, err)
		after, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		status, err := st.SyncStatus(ctx, pid)
		must(t, err)
		if status.Sessions != 0 || status.Slots != 0 {
			t.Fatalf("after a full pass pruning 2026-03-03: %d sessions and %d slots stored", status.Sessions, status.Slots)
		}
		if after == v || applied.Version != after {
			t.Fatalf("the pruning pass says it left version %d; the store has %d (was %d)", applied.Version, after, v)
		}
		if !status.LastSuccessAt.Equal(c.now()) {
			t.Fatalf("the pruning pass recorded its success at %v, want %v", status.LastSuccessAt, c.now())
		}
	})
}

// Two passes of one practice at once, each finding the diary moved since it read the version,
// both take the full transaction after the shorter write's check: neither may fail for the
// other (on PostgreSQL a lock taken by the check and upgraded by the full transaction would
// deadlock them).
func TestTwoPassesFindingTheDiaryMovedAtOnceBothRecordTheirPass(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)
		v, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		stale := v - 1 // another write came after each pass read the version
		for range 40 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, VersionRead: stale, Confirmed: []int64{901}})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("a pass failed because another ran beside it: %v", err)
				}
			}
		}
	})
}

func TestAnUnchangedPassFromAnInstanceThatLostTheLeaseIsRefusedAndRecordsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, fenceA, takenByB := firstSyncedByA(t, st)
		must(t, st.RecordUnchangedPass(ctx, p, true, fenceA))
		before, err := st.SyncStatus(ctx, p)
		must(t, err)

		takenByB()
		if err := st.RecordUnchangedPass(ctx, p, true, fenceA); !errors.Is(err, store.ErrSyncLeaseLost) {
			t.Fatalf("A's unchanged pass after losing the lease: %v, want ErrSyncLeaseLost", err)
		}
		after, err := st.SyncStatus(ctx, p)
		must(t, err)
		if !after.LastSuccessAt.Equal(before.LastSuccessAt) {
			t.Fatalf("A's refused pass moved the last success from %v to %v", before.LastSuccessAt, after.LastSuccessAt)
		}
	})
}
