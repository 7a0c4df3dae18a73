package slotsync_test

import (
	"context"
	"math/bits"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
)

// connectGenerated connects generated practices 1..n besides the demo practice.
func (b *testBundle) connectGenerated(t *testing.T, n int) map[int]int64 {
	t.Helper()
	ids := map[int]int64{}
	for i := 1; i <= n; i++ {
		res, err := b.practices.Connect(context.Background(), practice.Actor{Name: "test"}, practice.ConnectRequest{
			Form: practice.Form{ODS: sandbox.GeneratedODS(i), Username: "Herouser", Password: sandbox.GeneratedAPIPassword(i)}})
		if err != nil || !res.Saved {
			t.Fatalf("connect %s: %v %+v", sandbox.GeneratedODS(i), err, res.Test)
		}
		ids[i] = res.PracticeID
	}
	return ids
}

func TestAFailingOrSlowPracticeDoesNotDelayHealthyOnes(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Now(), 4)
	b.clock = nil
	b.engine.Now = nil
	b.engine.RetryPause = 10 * time.Millisecond // the failing practice retries each read: keep its passes short
	ids := b.connectGenerated(t, 4)
	must(t, b.world.SetFaults(sandbox.Faults{Organisations: map[string]sandbox.FaultConfig{
		strconv.Itoa(sandbox.GeneratedCDB(1)): {ErrorRate: 1},    // failing
		strconv.Itoa(sandbox.GeneratedCDB(2)): {LatencyMS: 4000}, // slow: every call takes 4 s
	}}))
	// Three days keep each first sync small, so the test measures scheduling, not machine speed.
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store, HorizonDays: 3, FullInterval: 300 * time.Millisecond,
		NearInterval: 100 * time.Millisecond, Concurrency: 2, PassTimeout: 2 * time.Second, Tick: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	// The healthy practices finish their first sync while the slow one is still stuck in its
	// calls and the failing one backs off: they were not queued behind either.
	healthy := []int64{b.practiceID, ids[3], ids[4]}
	started := time.Now()
	// 20 s, not the 2-3 s it takes on an idle machine: -race on a loaded 2-core machine.
	waitFor(t, 20*time.Second, func() bool {
		for _, id := range healthy {
			if st, _ := b.store.SyncStatus(context.Background(), id); !st.FirstSyncDone || st.ConsecutiveFailures != 0 {
				return false
			}
		}
		return time.Since(started) > 5*time.Second // long enough for the failing one to back off twice
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range healthy {
		if st, _ := b.store.SyncStatus(context.Background(), id); time.Since(st.LastSuccessAt) > 3*time.Second+time.Since(started)/4 {
			t.Errorf("healthy practice %d stopped being synced: %+v", id, st)
		}
	}
	failing, _ := b.store.SyncStatus(context.Background(), ids[1])
	// Backing off 1, 2, 4 s...: a handful of failures at most however long the run took.
	if failing.FirstSyncDone || failing.ConsecutiveFailures == 0 || failing.ConsecutiveFailures > 2+bits.Len(uint(time.Since(started)/time.Second)) {
		t.Errorf("failing practice after %s: %+v (it should fail and back off: 1, 2, 4 s)", time.Since(started).Round(time.Second), failing)
	}
	slow, _ := b.store.SyncStatus(context.Background(), ids[2])
	if slow.FirstSyncDone || !strings.Contains(slow.LastError, "deadline") && !strings.Contains(slow.LastError, "in time") && !strings.Contains(slow.LastError, "context") {
		t.Errorf("slow practice: %+v", slow)
	}
}

// A pass's SQLite calls run deep: on a new goroutine each, its stack grew to fit them by
// copying, pass after pass. The scheduler's passes run on Concurrency workers that live as
// long as Run, and none outlives it (TestMain's goleak).
func TestPassesRunOnAsManyLongLivedWorkersAsTheConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Now(), 4)
	b.clock = nil
	b.engine.Now = nil
	b.connectGenerated(t, 4)
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store, HorizonDays: 3, FullInterval: 60 * time.Millisecond,
		NearInterval: 30 * time.Millisecond, Concurrency: 2, Tick: 5 * time.Millisecond}
	var mu sync.Mutex
	workers := map[string]int{} // goroutine → passes it ran
	passes := 0
	sched.SetBeforePass(func() {
		buf := make([]byte, 64)
		id, _, _ := strings.Cut(strings.TrimPrefix(string(buf[:runtime.Stack(buf, false)]), "goroutine "), " ")
		mu.Lock()
		defer mu.Unlock()
		workers[id]++
		passes++
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	waitFor(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return passes >= 40
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(workers) > 2 {
		t.Fatalf("%d passes ran on %d goroutines, want at most the 2 of Concurrency: %v", passes, len(workers), workers)
	}
}

func TestSyncNowBringsAReceptionBookingInAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, time.Now(), 0)
	b.clock = nil
	b.engine.Now = nil
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store, FullInterval: time.Hour, NearInterval: time.Hour,
		Tick: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sched.SyncNow(b.practiceID)
	waitFor(t, 10*time.Second, func() bool {
		st, _ := b.store.SyncStatus(context.Background(), b.practiceID)
		return st.FirstSyncDone
	})
	sl := b.firstSlotNow(t)
	_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
	must(t, err)
	start := time.Now()
	sched.SyncNow(b.practiceID)
	// "At once" against intervals of an hour: the bound is loose enough for the race detector
	// on a loaded 2-core machine, and still an hour short of what the schedule alone would take.
	waitFor(t, 30*time.Second, func() bool {
		got, _ := b.storedSlotNow(t, sl.DBID)
		return got.Status == emis.SlotBooked
	})
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("SyncNow took %s", took)
	}
	f := sched.Freshness()
	if f.Practices != 1 || f.FirstSyncing != 0 {
		t.Fatalf("freshness = %+v", f)
	}
}

func TestSyncMetricsAreExported(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := slotsync.NewMetrics(reg, &slotsync.Scheduler{})
	m.CountCall(emis.MethodGetAppointmentSessions)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, want := range []string{"herolink_sync_emis_calls_total", "herolink_sync_practices", "herolink_sync_oldest_full_pass_age_seconds", "herolink_sync_stale_practices"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("metric %s missing from %v", want, names)
		}
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *testBundle) firstSlotNow(t *testing.T) emis.Slot {
	t.Helper()
	today := emis.Today(time.Now())
	v, err := b.demo.ListSessions(today.AddDays(1), today.AddDays(13), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v {
		for _, sl := range s.Slots {
			if free(sl) {
				return sl
			}
		}
	}
	t.Fatal("no free slot")
	return emis.Slot{}
}

func (b *testBundle) storedSlotNow(t *testing.T, id int64) (emis.Slot, bool) {
	t.Helper()
	slots, err := b.store.DiarySlotsBetween(context.Background(), b.practiceID, time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if s.ID == id {
			return emis.Slot{DBID: s.ID, Status: s.Status}, true
		}
	}
	return emis.Slot{}, false
}
