package store_test

import (
	"context"
	"errors"
	"strings"
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

// passRecord is what a record-only pass of practice p writes: when session 901's slots were
// read, and the practice's last success.
type passRecord struct{ read901, lastSuccess time.Time }

func passRecordOf(t *testing.T, st *store.Store, p int64) passRecord {
	t.Helper()
	status, err := st.SyncStatus(context.Background(), p)
	must(t, err)
	return passRecord{syncedAtOf(t, st, p)[901], status.LastSuccessAt}
}

// refusedRecordOnlyPass applies a record-only pass confirming session 901 under fence and
// fails t unless it is refused as having lost the lease, writing nothing.
func refusedRecordOnlyPass(t *testing.T, st *store.Store, p int64, fence *store.SyncFence, v int64, before passRecord) {
	t.Helper()
	_, err := st.ApplyDiaryPass(context.Background(), store.DiaryDiff{PracticeID: p, Full: true, VersionRead: v, Confirmed: []int64{901}, Fence: fence})
	if !errors.Is(err, store.ErrSyncLeaseLost) {
		t.Fatalf("the pass: %v, want ErrSyncLeaseLost", err)
	}
	if after := passRecordOf(t, st, p); after != before {
		t.Fatalf("the refused pass wrote: %+v, was %+v", after, before)
	}
}

func TestARefreshFromAnInstanceThatLostTheLeaseIsRefusedAndMarksNothingRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, fenceA, takenByB := firstSyncedByA(t, st)
		before := passRecordOf(t, st, p)

		takenByB()
		v, err := st.DiaryVersion(ctx, p)
		must(t, err)
		refusedRecordOnlyPass(t, st, p, fenceA, v, before) // A's refresh after losing the lease
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

// Passes that found nothing new and end together are recorded in one write (gather.go): each
// still under its own fence, with its own full flag, and a refused one writes nothing.
func TestUnchangedPassesRecordedTogetherAreEachCheckedAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := newLeaseClock(st)
		ps := syncablePractices(t, st, 5)
		held := heldSet(round(t, st, "a"))
		fence := func(i int) *store.SyncFence { return &store.SyncFence{Holder: "a", Token: held[ps[i]]} }
		for i := range 4 {
			firstSyncOfTwoSessions(t, st, ps[i], fence(i))
		}
		st.GatherFor(300 * time.Millisecond) // the five calls surely meet
		before, err := st.SyncStatus(ctx, ps[0])
		must(t, err)
		clock.add(leaseTTL / 2) // the leases still hold
		calls := []struct {
			fence *store.SyncFence
			full  bool
		}{
			{&store.SyncFence{Holder: "a", Token: held[ps[0]] + 1}, true}, // a fence that no longer holds
			{fence(1), true},
			{fence(2), false},
			{nil, true},
			{nil, true}, // never synced: no sync state
		}
		errs := make([]error, len(calls))
		var wg sync.WaitGroup
		for i, c := range calls {
			wg.Go(func() { errs[i] = st.RecordUnchangedPass(ctx, ps[i], c.full, c.fence) })
		}
		wg.Wait()
		if !errors.Is(errs[0], store.ErrSyncLeaseLost) {
			t.Errorf("the pass under a fence that no longer holds: %v, want ErrSyncLeaseLost", errs[0])
		}
		for i := 1; i <= 3; i++ {
			if errs[i] != nil {
				t.Errorf("pass %d: %v", i, errs[i])
			}
			status, err := st.SyncStatus(ctx, ps[i])
			must(t, err)
			if !status.LastSuccessAt.Equal(clock.now().Truncate(time.Millisecond)) {
				t.Errorf("pass %d recorded its success at %v, want %v", i, status.LastSuccessAt, clock.now())
			}
		}
		if errs[4] == nil || errors.Is(errs[4], store.ErrSyncLeaseLost) || !strings.Contains(errs[4].Error(), "no sync state") {
			t.Errorf("the pass of a practice never synced: %v, want no sync state", errs[4])
		}
		after, err := st.SyncStatus(ctx, ps[0])
		must(t, err)
		if !after.LastSuccessAt.Equal(before.LastSuccessAt) {
			t.Errorf("the refused pass moved the last success from %v to %v", before.LastSuccessAt, after.LastSuccessAt)
		}
		// Stale: the refused pass's practice, and the near pass's (its last full pass was the
		// first sync); the full passes' are fresh; the practice never synced is first syncing.
		f, err := st.SyncFreshness(ctx, clock.now().Add(-leaseTTL/4))
		must(t, err)
		if f.Stale != 2 || f.FirstSyncing != 1 {
			t.Errorf("freshness %+v: want 2 stale (the refused and the near pass) and 1 first syncing", f)
		}
	})
}

// On SQLite, passes that wrote only their records (at most the refresh times of sessions a
// refresh confirmed) and end together share the unchanged passes' transaction: one commit,
// where each took its own. Each is still checked alone, and one whose check fails writes
// nothing there and takes its whole transaction.
func TestPassesWritingOnlyTheirRecordsShareOneCommitOnSQLiteEachCheckedAlone(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	clock := newLeaseClock(st)
	ps := syncablePractices(t, st, 4)
	held := heldSet(round(t, st, "a"))
	fence := func(i int) *store.SyncFence { return &store.SyncFence{Holder: "a", Token: held[ps[i]]} }
	versions := make([]int64, len(ps))
	for i, p := range ps {
		firstSyncOfTwoSessions(t, st, p, fence(i))
		v, err := st.DiaryVersion(ctx, p)
		must(t, err)
		versions[i] = v
	}
	first := syncedAtOf(t, st, ps[0])
	clock.add(leaseTTL / 2)              // the leases still hold
	st.GatherFor(300 * time.Millisecond) // the four calls surely meet
	commits := st.CountCommits(t)

	diffs := []store.DiaryDiff{
		{PracticeID: ps[0], Full: true, VersionRead: versions[0], Confirmed: []int64{901}, Fence: fence(0)},
		// Another write came after this pass read the version: its check fails.
		{PracticeID: ps[1], Full: true, VersionRead: versions[1] - 1, Confirmed: []int64{901}, Fence: fence(1)},
		{PracticeID: ps[2], VersionRead: versions[2], Confirmed: []int64{902}, Fence: fence(2)},
	}
	applied := make([]store.DiaryApplied, len(diffs))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, d := range diffs {
		wg.Go(func() { applied[i], errs[i] = st.ApplyDiaryPass(ctx, d) })
	}
	wg.Go(func() { errs[3] = st.RecordUnchangedPass(ctx, ps[3], true, fence(3)) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pass %d: %v", i, err)
		}
	}
	// The batch, and the whole transaction of the pass whose check failed.
	if n := commits.Load(); n != 2 {
		t.Errorf("four passes ending together committed %d times; want 2 (the three that wrote only their records, the one whose check failed)", n)
	}
	now := clock.now()
	for i, p := range ps {
		status, err := st.SyncStatus(ctx, p)
		must(t, err)
		if !status.LastSuccessAt.Equal(now) {
			t.Errorf("pass %d recorded its success at %v, want %v", i, status.LastSuccessAt, now)
		}
	}
	if got := syncedAtOf(t, st, ps[0]); !got[901].Equal(now) || !got[902].Equal(first[902]) {
		t.Errorf("the first pass confirmed session 901: slots read at %v, want 901 at %v and 902 as before", got, now)
	}
	if applied[0].Version != versions[0] || !applied[0].At.Equal(now) {
		t.Errorf("the first pass says version %d at %v; want %d at %v", applied[0].Version, applied[0].At, versions[0], now)
	}
	// Its proof may be stale: the session stays due, and the next pass compares it.
	if got := syncedAtOf(t, st, ps[1]); !got[901].Equal(first[901]) {
		t.Errorf("the pass whose check failed marked session 901 read at %v", got[901])
	}
	if got := syncedAtOf(t, st, ps[2]); !got[902].Equal(now) || !got[901].Equal(first[901]) {
		t.Errorf("the near pass confirmed session 902: slots read at %v", got)
	}
}

// On SQLite a pass that wrote only its record waits for others to join its write: its lease
// is checked when the write is made, not when the pass asked. One whose lease ran out
// meanwhile is refused, and writes nothing. (On PostgreSQL such a pass is one statement as
// soon as it asks.)
func TestARecordOnlyPassWhoseLeaseRunsOutBeforeItsWriteIsRefused(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	p, fenceA, _ := firstSyncedByA(t, st)
	before := passRecordOf(t, st, p)
	v, err := st.DiaryVersion(ctx, p)
	must(t, err)
	// The pass asks while its lease holds; every later reading of the clock finds it
	// run out (no other instance has taken the practice).
	leasesRunOutAfterFirstReading(st)
	refusedRecordOnlyPass(t, st, p, fenceA, v, before)
}

// leasesRunOutAfterFirstReading sets st's clock to 10 s after newLeaseClock's start at its
// first reading, while the leases taken then hold, and a lease's length later at every
// reading after: they have run out (no other instance has taken them).
func leasesRunOutAfterFirstReading(st *store.Store) {
	first := time.Date(2026, 12, 1, 9, 0, 10, 0, time.UTC)
	var mu sync.Mutex
	readings := 0
	st.SetClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		readings++
		if readings == 1 {
			return first
		}
		return first.Add(leaseTTL)
	})
}
