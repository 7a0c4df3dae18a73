package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// A pass with nothing to write but its record and the sessions a refresh confirmed takes a
// shorter write (diaryconfirm.go). Each thing the whole transaction checks first must still
// hold on it: these cases are the ones where it must not take the shorter write, or where the
// shorter write must do what the whole one did.

// syncedAtOf says when each stored session of 2026-03-03 had its slots read.
func syncedAtOf(t *testing.T, st *store.Store, pid int64) map[int64]time.Time {
	t.Helper()
	ss, err := st.DiarySessions(context.Background(), pid, "2026-03-03", "2026-03-03")
	must(t, err)
	out := map[int64]time.Time{}
	for _, s := range ss {
		out[s.ID] = s.SlotsSyncedAt
	}
	return out
}

func TestARefreshFromAnInstanceThatLostTheLeaseIsRefusedAndMarksNothingRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := newLeaseClock(st)
		p := syncablePractices(t, st, 1)[0]
		fenceA := &store.SyncFence{Holder: "a", Token: heldSet(round(t, st, "a"))[p]}
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0)}, 902: {slot(1, 2)}}, Fence: fenceA})
		must(t, err)
		before := syncedAtOf(t, st, p)
		statusBefore, err := st.SyncStatus(ctx, p)
		must(t, err)

		clock.add(leaseTTL)
		if _, ok := heldSet(round(t, st, "b"))[p]; !ok {
			t.Fatal("B did not take the lapsed lease")
		}
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
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}, 902: {slot(1, 2)}}})
		must(t, err)
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
