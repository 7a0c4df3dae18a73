package slotsync_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// seenConns records which practices an engine asked a connection for: a pass that reaches
// EMIS asks for one first.
type seenConns struct {
	inner slotsync.ConnSource
	mu    sync.Mutex
	seen  map[int64]int
}

func (c *seenConns) Conn(ctx context.Context, practiceID int64) (*emis.Conn, error) {
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[int64]int{}
	}
	c.seen[practiceID]++
	c.mu.Unlock()
	return c.inner.Conn(ctx, practiceID)
}

func (c *seenConns) practices() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []int64
	for id := range c.seen {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// instance is one herolink instance's sync over the shared store.
type instance struct {
	leases *slotsync.Leases
	engine *slotsync.Engine
	conns  *seenConns
}

func (b *testBundle) instance(id string) *instance {
	conns := &seenConns{inner: b.practices}
	l := &slotsync.Leases{Store: b.store, Instance: id, TTL: 30 * time.Second, Renew: 10 * time.Second, Now: b.clock.Now}
	e := &slotsync.Engine{Store: b.store, Conns: conns, Now: b.clock.Now, Leases: l}
	return &instance{leases: l, engine: e, conns: conns}
}

func (in *instance) round(t *testing.T) []int64 {
	t.Helper()
	ids, err := in.leases.Round(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// syncAll runs a full pass of every practice on this instance: those it does not hold are
// refused before EMIS is asked anything.
func (b *testBundle) syncAll(in *instance, ids []int64) map[int64]error {
	out := map[int64]error{}
	for _, id := range ids {
		_, out[id] = in.engine.Sync(context.Background(), id, b.full())
	}
	return out
}

func (b *testBundle) allPractices(t *testing.T, extra int) []int64 {
	ids := []int64{b.practiceID}
	for _, id := range b.connectGenerated(t, extra) {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func TestEachPracticeIsSyncedByOneOfTwoInstancesAndTheSplitRebalancesWhenTheSecondJoins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, tuesday, 3)
		st.SetClock(b.clock.Now)
		ids := b.allPractices(t, 3)
		a, bb := b.instance("a"), b.instance("b")
		if held := a.round(t); len(held) != len(ids) {
			t.Fatalf("alone, A holds %v of %v", held, ids)
		}
		bb.round(t) // B joins: A holds everything until its next round
		b.clock.Advance(10 * time.Second)
		heldA, heldB := a.round(t), bb.round(t)
		if len(heldA) != 2 || len(heldB) != 2 {
			t.Fatalf("after B joined: A holds %v, B holds %v", heldA, heldB)
		}
		ra, rb := b.syncAll(a, ids), b.syncAll(bb, ids)
		for _, id := range ids {
			okA, okB := ra[id] == nil, rb[id] == nil
			if okA == okB {
				t.Errorf("practice %d: A's pass: %v, B's pass: %v; want exactly one to sync it", id, ra[id], rb[id])
			}
			for _, err := range []error{ra[id], rb[id]} {
				if err != nil && !errors.Is(err, slotsync.ErrNotHeld) {
					t.Errorf("practice %d: %v", id, err)
				}
			}
		}
		if got := a.conns.practices(); !equal(got, heldA) {
			t.Errorf("A reached EMIS for %v, holds %v", got, heldA)
		}
		if got := bb.conns.practices(); !equal(got, heldB) {
			t.Errorf("B reached EMIS for %v, holds %v", got, heldB)
		}
	})
}

func TestAStoppedInstancesPracticesAreSyncedByTheOtherOnceItsLeasesLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, tuesday, 1)
		st.SetClock(b.clock.Now)
		ids := b.allPractices(t, 1)
		a, bb := b.instance("a"), b.instance("b")
		a.round(t)
		bb.round(t)
		// A is killed now: no more rounds. Until its leases lapse B syncs nothing.
		b.clock.Advance(20 * time.Second)
		bb.round(t)
		for id, err := range b.syncAll(bb, ids) {
			if !errors.Is(err, slotsync.ErrNotHeld) {
				t.Fatalf("B synced practice %d while A's lease was live: %v", id, err)
			}
		}
		// TTL plus one round after A's last renewal, B holds and syncs all.
		b.clock.Advance(20 * time.Second)
		if held := bb.round(t); len(held) != len(ids) {
			t.Fatalf("B holds %v of %v after A's leases lapsed", held, ids)
		}
		for id, err := range b.syncAll(bb, ids) {
			if err != nil {
				t.Fatalf("B's pass of practice %d: %v", id, err)
			}
		}
		// A, back from its pause without a round, does not sync what it no longer holds.
		for id, err := range b.syncAll(a, ids) {
			if !errors.Is(err, slotsync.ErrNotHeld) {
				t.Fatalf("A synced practice %d after losing its lease: %v", id, err)
			}
		}
	})
}

func TestAPassWhoseInstanceLostTheLeaseMidwayWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, tuesday, 0)
		st.SetClock(b.clock.Now)
		a, bb := b.instance("a"), b.instance("b")
		a.round(t)
		before, err := st.SyncStatus(context.Background(), b.practiceID)
		must(t, err)
		// While A's pass waits on EMIS, A stalls past its lease and B takes the practice.
		var once sync.Once
		f := func(rw http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/GetAppointmentSessions") {
				once.Do(func() {
					b.clock.Advance(31 * time.Second)
					bb.round(t)
				})
			}
			return false
		}
		b.intercept.Store(&f)
		_, err = a.engine.Sync(context.Background(), b.practiceID, b.full())
		if !errors.Is(err, store.ErrSyncLeaseLost) {
			t.Fatalf("A's pass after losing its lease: %v, want store.ErrSyncLeaseLost", err)
		}
		after, err := st.SyncStatus(context.Background(), b.practiceID)
		must(t, err)
		if after.FirstSyncDone != before.FirstSyncDone || after.Sessions != 0 {
			t.Fatalf("A's refused pass wrote the diary: %+v", after)
		}
		if holder, _ := st.SyncLeaseHolder(context.Background(), b.practiceID); holder != "b" {
			t.Fatalf("holder %q, want b", holder)
		}
	})
}

func TestASchedulerSyncsOnlyThePracticesItsInstanceHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, time.Now(), 3)
		b.clock = nil
		b.engine.Now = nil
		ids := b.allPractices(t, 3)
		a, bb := b.instance("a"), b.instance("b")
		for _, in := range []*instance{a, bb} {
			in.leases.Now, in.engine.Now = nil, nil
		}
		// B is there first and holds its share; A's scheduler must leave B's practices alone.
		bb.round(t)
		a.round(t)
		bb.round(t) // B frees what is above its share now that A is live
		heldB := bb.leases.Held()
		if len(heldB) != 2 {
			t.Fatalf("B holds %v", heldB)
		}
		sched := &slotsync.Scheduler{Engine: a.engine, Store: st, Leases: a.leases, HorizonDays: 3,
			FullInterval: 50 * time.Millisecond, NearInterval: 20 * time.Millisecond, Tick: 5 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sched.Run(ctx) }()
		waitFor(t, 20*time.Second, func() bool {
			n := 0
			for _, id := range ids {
				if s, _ := st.SyncStatus(context.Background(), id); s.FirstSyncDone {
					n++
				}
			}
			return n == len(ids)-len(heldB)
		})
		cancel()
		must(t, <-done)
		for _, id := range heldB {
			if a.conns.seen[id] > 0 {
				t.Errorf("A's scheduler synced practice %d, held by B", id)
			}
		}
		// A stopped cleanly: its leases are free for B at once.
		if held := bb.round(t); len(held) != len(ids) {
			t.Fatalf("after A stopped B holds %v of %v", held, ids)
		}
	})
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMetricsSayHowManyPracticesAnInstanceHolds(t *testing.T) {
	b := setup(t, tuesday, 2)
	b.store.SetClock(b.clock.Now)
	ids := b.allPractices(t, 2)
	a := b.instance("host-1-abcd")
	a.round(t)
	reg := prometheus.NewRegistry()
	slotsync.NewMetrics(reg, &slotsync.Scheduler{Store: b.store, Leases: a.leases})
	families, err := reg.Gather()
	must(t, err)
	got := map[string]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "instance" {
					got[f.GetName()] = l.GetValue() + "=" + strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64)
				}
			}
		}
	}
	if want := "host-1-abcd=" + strconv.Itoa(len(ids)); got["herolink_sync_practices_held"] != want {
		t.Fatalf("herolink_sync_practices_held: %q, want %q", got["herolink_sync_practices_held"], want)
	}
	if got["herolink_sync_instances_live"] != "host-1-abcd=1" {
		t.Fatalf("herolink_sync_instances_live: %q", got["herolink_sync_instances_live"])
	}
}

// A practice an instance takes over mid-run (its holder stopped) is read near-term first: the
// days patients book are fresh again within one near interval, before the whole horizon.
func TestAPracticeTakenOverMidRunIsReadNearTermFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, time.Now(), 0)
		b.clock = nil
		b.engine.Now = nil
		a, bb := b.instance("a"), b.instance("b")
		for _, in := range []*instance{a, bb} {
			in.leases.Now, in.engine.Now = nil, nil
			in.leases.Renew = 20 * time.Millisecond
		}
		if held := bb.round(t); len(held) != 1 {
			t.Fatalf("B holds %v, want the one practice", held)
		}
		reg := prometheus.NewRegistry()
		sched := &slotsync.Scheduler{Engine: a.engine, Store: st, Leases: a.leases, HorizonDays: 14,
			FullInterval: time.Second, NearInterval: 300 * time.Millisecond, Tick: 5 * time.Millisecond}
		sched.Metrics = slotsync.NewMetrics(reg, sched)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sched.Run(ctx) }()
		defer func() { cancel(); must(t, <-done) }()
		// A's scheduler has had its first round (which found the practice held by B).
		waitFor(t, 10*time.Second, func() bool { live, _ := a.leases.Split(); return live > 0 })
		// B stops cleanly: A takes the practice at its next round.
		must(t, bb.leases.Release(context.Background()))
		var near, full float64
		waitFor(t, 10*time.Second, func() bool {
			near, full = passes(t, reg, "near"), passes(t, reg, "full")
			return near+full > 0
		})
		if full > 0 || near != 1 {
			t.Fatalf("A's first passes of the practice it took over: %v near, %v full; want the near-term days first", near, full)
		}
	})
}

// passes is the number of sync passes of a kind the metrics counted.
func passes(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	families, err := reg.Gather()
	must(t, err)
	var n float64
	for _, f := range families {
		if f.GetName() != "herolink_sync_passes_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
