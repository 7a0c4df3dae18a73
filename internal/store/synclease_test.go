package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

const leaseTTL = 30 * time.Second

// leaseClock is the store's clock in the lease tests: moved by hand, never by sleeping.
type leaseClock struct{ t time.Time }

func (c *leaseClock) now() time.Time      { return c.t }
func (c *leaseClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newLeaseClock(st *store.Store) *leaseClock {
	c := &leaseClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	st.SetClock(c.now)
	return c
}

// syncablePractices connects n practices, so the sync keeps them fresh.
func syncablePractices(t *testing.T, st *store.Store, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for i := range n {
		p, err := st.EnsurePractice(ctx, fmt.Sprintf("L%05d", i), 1000+i, fmt.Sprintf("Practice %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: "u", PasswordSealed: []byte("sealed"),
			KeyID: "k", ConnectedBy: "test", Checklist: "[]"}, store.AuditEntry{Actor: "test", Action: "connected"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

func round(t *testing.T, st *store.Store, holder string) store.SyncLeaseRound {
	t.Helper()
	r, err := st.SyncLeaseRound(context.Background(), holder, leaseTTL)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func heldSet(r store.SyncLeaseRound) map[int64]int64 {
	m := map[int64]int64{}
	for _, l := range r.Held {
		m[l.PracticeID] = l.Token
	}
	return m
}

func TestTwoInstancesNeverHoldOnePracticesSyncLeaseAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := newLeaseClock(st)
		ids := syncablePractices(t, st, 7)
		// A starts alone, B joins, both renew every 10 s; then A stops and B carries on alone.
		var a, b store.SyncLeaseRound
		for i := range 12 {
			if i < 8 {
				a = round(t, st, "a")
			}
			if i >= 1 {
				b = round(t, st, "b")
			}
			// What each believes it holds at this moment (a stopped A's last round counts
			// until its leases lapse).
			ha, hb := heldSet(a), heldSet(b)
			if i >= 8 && clock.t.Sub(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) >= 7*10*time.Second+leaseTTL {
				ha = nil
			}
			for id := range ha {
				if _, both := hb[id]; both {
					t.Fatalf("round %d: practice %d is held by both instances", i, id)
				}
			}
			for _, id := range ids {
				holder, err := st.SyncLeaseHolder(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				_, inA := ha[id]
				_, inB := hb[id]
				if (holder == "a") != inA || (holder == "b") != inB {
					t.Fatalf("round %d: practice %d: the database says %q holds it, the instances believe a=%v b=%v", i, id, holder, inA, inB)
				}
			}
			clock.add(10 * time.Second)
		}
	})
}

func TestAStoppedInstancesPracticesAreTakenOverWhenItsLeasesLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := newLeaseClock(st)
		ids := syncablePractices(t, st, 5)
		if r := round(t, st, "a"); len(r.Held) != len(ids) {
			t.Fatalf("alone, A holds %d of %d practices", len(r.Held), len(ids))
		}
		// A is killed: it renews no more. B, joining, finds nothing free while A's leases live.
		if r := round(t, st, "b"); len(r.Held) != 0 || r.Live != 2 {
			t.Fatalf("B took %d practices from a live A (live instances %d)", len(r.Held), r.Live)
		}
		clock.add(leaseTTL - time.Millisecond)
		if r := round(t, st, "b"); len(r.Held) != 0 {
			t.Fatalf("B took %d practices before A's leases lapsed", len(r.Held))
		}
		clock.add(time.Millisecond)
		r := round(t, st, "b")
		if len(r.Held) != len(ids) || r.Live != 1 {
			t.Fatalf("once A's leases lapsed B holds %d of %d practices (live instances %d)", len(r.Held), len(ids), r.Live)
		}
	})
}

func TestTheSyncSplitRebalancesWhenASecondInstanceJoins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clock := newLeaseClock(st)
		ids := syncablePractices(t, st, 9)
		round(t, st, "a")
		round(t, st, "b") // joins: all are A's for now
		clock.add(10 * time.Second)
		a := round(t, st, "a") // sees two live instances: keeps its share, frees the rest
		b := round(t, st, "b") // takes what A freed
		if len(a.Held) != 5 || len(b.Held) != 4 || a.Share != 5 {
			t.Fatalf("after B joined: A holds %d, B holds %d of %d (share %d)", len(a.Held), len(b.Held), len(ids), a.Share)
		}
		// Stable from then on: nobody trades practices at the next rounds.
		clock.add(10 * time.Second)
		a2, b2 := round(t, st, "a"), round(t, st, "b")
		if fmt.Sprint(a2.Held) != fmt.Sprint(a.Held) || fmt.Sprint(b2.Held) != fmt.Sprint(b.Held) {
			t.Fatalf("the split moved without a change: A %v -> %v, B %v -> %v", a.Held, a2.Held, b.Held, b2.Held)
		}
		// A clean stop hands everything over at B's next round.
		if err := st.ReleaseSyncLeases(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
		if b3 := round(t, st, "b"); len(b3.Held) != len(ids) {
			t.Fatalf("after A released its leases B holds %d of %d", len(b3.Held), len(ids))
		}
	})
}

func TestASyncWriteFromAnInstanceThatLostTheLeaseIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clock := newLeaseClock(st)
		ids := syncablePractices(t, st, 1)
		p := ids[0]
		a := heldSet(round(t, st, "a"))
		fenceA := &store.SyncFence{Holder: "a", Token: a[p]}
		if _, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Fence: fenceA}); err != nil {
			t.Fatalf("the holder's write was refused: %v", err)
		}
		// A pauses (a long GC, a stalled network) past its lease; B takes the practice over.
		clock.add(leaseTTL)
		b := heldSet(round(t, st, "b"))
		if _, ok := b[p]; !ok {
			t.Fatal("B did not take the lapsed lease")
		}
		if _, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Fence: fenceA}); !errors.Is(err, store.ErrSyncLeaseLost) {
			t.Fatalf("A's write after losing the lease: %v, want ErrSyncLeaseLost", err)
		}
		// Even once B lets it lapse and A takes it back, the pass A began under its old
		// lease is refused: the token moved on.
		clock.add(leaseTTL)
		a2 := heldSet(round(t, st, "a"))
		if a2[p] == fenceA.Token {
			t.Fatalf("retaking the lease kept token %d", a2[p])
		}
		if _, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Fence: fenceA}); !errors.Is(err, store.ErrSyncLeaseLost) {
			t.Fatalf("A's write under its old lease: %v, want ErrSyncLeaseLost", err)
		}
		if _, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p, Fence: &store.SyncFence{Holder: "a", Token: a2[p]}}); err != nil {
			t.Fatalf("the new holder's write was refused: %v", err)
		}
	})
}
