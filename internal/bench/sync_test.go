package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"runtime/pprof"
	"testing"
	"time"

	"herolink/internal/store"
)

// smallSync is a sync benchmark of three practices that takes seconds: short intervals, little
// latency, 5 s of changes; the sandbox child is exe playing herolink.
func smallSync(exe string) SyncOptions {
	return SyncOptions{Exe: exe, Env: append(os.Environ(), fakeHerolink+"=serve"),
		Stderr: os.Stderr, ReferenceDuration: 300 * time.Millisecond, Practices: 3, Seed: 7,
		LatencyP50: 5 * time.Millisecond, LatencyP99: 20 * time.Millisecond,
		SyncConcurrency: 4, SlotConcurrency: 4, FullInterval: time.Second, NearInterval: 500 * time.Millisecond,
		WarmupTimeout: time.Minute, Duration: 5 * time.Second, Drain: 5 * time.Second, ChangeEvery: time.Second}
}

func TestRunSyncObservesReceptionChangesWithFiniteStaleness(t *testing.T) {
	exe := testExe(t)
	if testing.Short() {
		t.Skip("runs the sync against a sandbox child for about 10 seconds")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // herolink's data directory goes here and must be gone at the end
	var profile bytes.Buffer
	opts := smallSync(exe)
	opts.Refreshes, opts.RefreshBackdate, opts.CPUProfile = RefreshesBackdated, 3*time.Hour, &profile
	res, err := RunSync(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	_ = res.Table().Format(&table)
	t.Logf("result:\n%s", table.String())
	if !res.MeasurementCompleted || res.FirstSyncDone != 3 || res.FirstSyncEMISCalls == 0 {
		t.Errorf("warm-up figures wrong: %+v", res)
	}
	observed := int(res.Changes) - res.Unobserved
	if res.Changes < 3 || observed < 1 {
		t.Fatalf("%d changes made, %d observed; want several made and observed: %+v", res.Changes, observed, res)
	}
	for name, s := range map[string]float64{"p50": res.StalenessP50S, "p95": res.StalenessP95S, "p99": res.StalenessP99S} {
		if s <= 0 || s > 10 || math.IsNaN(s) {
			t.Errorf("staleness %s = %v s; want finite, positive, within a few full intervals", name, s)
		}
	}
	if res.StalenessP50S > res.StalenessP95S || res.StalenessP95S > res.StalenessP99S || res.StalenessP99S > res.StalenessMaxS {
		t.Errorf("staleness percentiles out of order: %+v", res)
	}
	if res.EMISCallsPerPracticeHour <= 0 || res.EMISCallsByMethod["GetAppointmentSessions"] == 0 {
		t.Errorf("no EMIS calls counted during the measurement: %+v", res)
	}
	// Slot reads backdated up to 3 hours are mostly past both refresh ages (15 minutes, 2 hours): the
	// measurement re-reads unchanged sessions as well as the changed ones.
	if n := res.EMISCallsByMethod["GetSlotsForSession"]; n <= res.Changes {
		t.Errorf("%d GetSlotsForSession calls for %d changes: no rolling refresh fell due", n, res.Changes)
	}
	if res.FullPasses == 0 || res.NearPasses == 0 || res.FailedPasses != 0 {
		t.Errorf("pass counts: %+v", res)
	}
	if res.RSSBytes <= 0 || res.PeakRSSBytes <= 0 || res.SandboxRSSBytes <= 0 || res.CPUSeconds < 0 {
		t.Errorf("memory or CPU figures missing: %+v", res)
	}
	if res.DurationS < 5 || res.DurationS > 6 {
		t.Errorf("measured %v s, want the 5 s asked for", res.DurationS)
	}
	// The change stream runs in the reception child: its CPU is reported as its own, not
	// herolink's.
	if res.ReceptionCPUSeconds <= 0 {
		t.Errorf("reception's CPU %v s: the change stream did not run in a process of its own", res.ReceptionCPUSeconds)
	}
	if res.ReferenceRPS <= 0 || res.ReferenceCPUPerRequestUS <= 0 {
		t.Errorf("no machine reference: %v req/s, %v µs a request", res.ReferenceRPS, res.ReferenceCPUPerRequestUS)
	}
	if profile.Len() == 0 {
		t.Error("no CPU profile written")
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}

	data, _ := json.Marshal(res)
	var keys map[string]any
	_ = json.Unmarshal(data, &keys)
	for _, k := range []string{"practices", "duration_s", "changes", "staleness_p50_s", "staleness_p95_s",
		"staleness_p99_s", "emis_calls_per_practice_hour", "cpu_seconds", "rss_bytes", "unobserved",
		"peak_rss_bytes", "sandbox_cpu_seconds", "sandbox_rss_bytes", "first_sync_s", "reference_rps", "reference_cpu_us_per_request", "refreshes", "reception_cpu_seconds"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	if len(res.Table()) == 0 {
		t.Error("empty table")
	}
}

func TestRunSyncStopsTheSandboxWhenTheWarmupTimesOut(t *testing.T) {
	exe := testExe(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	// The first passes are spread over the full interval: an hour is never done in 300 ms.
	res, err := RunSync(t.Context(), SyncOptions{Exe: exe, Env: append(os.Environ(), fakeHerolink+"=serve"),
		ReferenceDuration: 100 * time.Millisecond, Practices: 2, FullInterval: time.Hour, WarmupTimeout: 300 * time.Millisecond, Duration: time.Second})
	if !errors.Is(err, ErrWarmupTimeout) {
		t.Fatalf("err = %v, want the warm-up timeout", err)
	}
	if res.MeasurementCompleted || res.Practices != 2 || res.FirstSyncDone != 0 {
		t.Errorf("result after a warm-up timeout: %+v", res)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if p := pprof.Lookup("goroutine"); p != nil {
		var b bytes.Buffer
		_ = p.WriteTo(&b, 1)
		for _, leak := range []string{"slotsync.(*Scheduler).Run", "bench.(*changeStream).run"} {
			if bytes.Contains(b.Bytes(), []byte(leak)) {
				t.Errorf("goroutine still running: %s", leak)
			}
		}
	}
}

func TestParseSizes(t *testing.T) {
	for in, want := range map[string][]int{
		"100,1000,7000":    {100, 1000, 7000},
		" 7_000 ":          {7000},
		"3,":               {3},
		"1, 99999":         {1, 99999},
		"100 , 1000 ,7000": {100, 1000, 7000},
	} {
		got, err := ParseSizes(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseSizes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", ",", "0", "-5", "100000", "ten", "1.5"} {
		if got, err := ParseSizes(in); err == nil {
			t.Errorf("ParseSizes(%q) = %v, want an error", in, got)
		}
	}
}

func TestSummariseStaleness(t *testing.T) {
	if got := SummariseStaleness(nil); got != (StalenessSummary{}) {
		t.Errorf("no observations: %+v", got)
	}
	var s []time.Duration
	for i := 1; i <= 200; i++ {
		s = append(s, time.Duration(i)*100*time.Millisecond) // 0.1 s .. 20 s
	}
	got := SummariseStaleness(s)
	want := StalenessSummary{P50: 10, P95: 19, P99: 19.8, Max: 20}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := SummariseStaleness([]time.Duration{1500 * time.Millisecond}); got != (StalenessSummary{1.5, 1.5, 1.5, 1.5}) {
		t.Errorf("one observation: %+v", got)
	}
}

func TestChangeTrackerMatchesBookingsOfRegisteredSlotsOnly(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	tr := newChangeTracker(func() time.Time { return now })
	a, b, c := slotKey{1, 10}, slotKey{1, 11}, slotKey{2, 10}
	for _, k := range []slotKey{a, b, c} {
		if !tr.expect(k, now.Add(-5*time.Second), k == a) {
			t.Fatalf("expect %v refused", k)
		}
	}
	if tr.expect(a, now, true) {
		t.Error("a second change of a slot already waiting was accepted")
	}
	tr.forget(b) // EMIS refused that booking
	tr.onChange(1, []store.SlotChange{
		{SlotID: 10, NewStatus: "Available"}, // not a booking: ignored
		{SlotID: 11, NewStatus: "Booked"},    // forgotten: ignored
		{SlotID: 99, NewStatus: "Booked"},    // never registered: ignored
	})
	if seen, pending := tr.counts(); seen != 0 || pending != 2 {
		t.Fatalf("after unrelated changes: seen %d, pending %d", seen, pending)
	}
	tr.onChange(1, []store.SlotChange{{SlotID: 10, OldStatus: "Available", NewStatus: "Booked"}})
	now = now.Add(2 * time.Second)
	tr.onChange(1, []store.SlotChange{{SlotID: 10, NewStatus: "Booked"}}) // seen already: not twice
	st, near, unobserved := tr.result()
	if !reflect.DeepEqual(st, []time.Duration{5 * time.Second}) || unobserved != 1 {
		t.Errorf("staleness %v, unobserved %d; want [5s] and 1 (practice 2's slot)", st, unobserved)
	}
	if !reflect.DeepEqual(near, []time.Duration{5 * time.Second}) {
		t.Errorf("near-term staleness %v, want [5s] (slot 10 of practice 1 was near)", near)
	}
	if !tr.isPending(c) || tr.isPending(a) {
		t.Error("pending set wrong")
	}
}

func TestRunSyncUnderEMISErrorsAndTimeoutsStillSeesTheChanges(t *testing.T) {
	exe := testExe(t)
	if testing.Short() {
		t.Skip("runs the sync against a faulty sandbox child for about 10 seconds")
	}
	t.Setenv("TMPDIR", t.TempDir())
	opts := smallSync(exe)
	opts.ErrorRate, opts.TimeoutRate, opts.ReadTimeout = 0.1, 0.05, 300*time.Millisecond
	res, err := RunSync(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorRate != 0.1 || res.TimeoutRate != 0.05 || res.EMISFaults == 0 {
		t.Fatalf("the faults were not injected: %+v", res)
	}
	if res.FirstSyncDone != 3 || res.Changes < 3 || res.Unobserved != 0 || res.StalenessMaxS > 10 {
		t.Fatalf("under faults the sync fell behind: %+v", res)
	}
}
