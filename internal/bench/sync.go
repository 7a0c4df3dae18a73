package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
)

// SyncOptions configure `herolink bench sync` for one size.
type SyncOptions struct {
	DatabaseURL string    // "": SQLite in a temporary data directory; postgres://: a fresh database on that server
	Exe         string    // the herolink binary to run `emis-sandbox` from
	Env         []string  // the child's environment; nil: this process's
	Stderr      io.Writer // the child's stderr; nil: discarded
	Progress    io.Writer // progress lines during the long phases; nil: none

	Practices  int    // generated practices in the sandbox, all connected to herolink (>= 1)
	Seed       uint64 // seed of the generated practices
	DiaryWeeks int    // weeks of diary the sandbox releases ahead of today; 4 if zero

	LatencyP50, LatencyP99 time.Duration // injected into every Partner API call
	// ErrorRate and TimeoutRate are the shares of Partner API calls that answer 503 or stall,
	// set on the sandbox's global faults from the start (the warm-up included).
	ErrorRate, TimeoutRate float64
	ReadTimeout            time.Duration // the engine's bound on one EMIS read; its default (10 s) if zero

	SyncConcurrency int           // scheduler passes in flight; 256 if zero
	SlotConcurrency int           // GetSlotsForSession calls in flight per pass; 8 if zero
	FullInterval    time.Duration // 45 s if zero
	NearInterval    time.Duration // half FullInterval if zero, as herolink
	HorizonDays     int           // 14 if zero

	WarmupTimeout time.Duration // bound on the first sync of every practice; 20 minutes if zero
	Duration      time.Duration // of the measured change stream (> 0)
	Drain         time.Duration // after the stream, how long changes not yet seen may take; 0: none
	ChangeEvery   time.Duration // each practice changes a slot this often on average; 1 minute if zero
	// Refreshes says how the engine's rolling refreshes fall due during the measurement, which
	// otherwise starts right after the first sync read every session and sees none of them:
	//   - RefreshesSteady (the default): once the first sync is done, the scheduler is stopped,
	//     every session's last slot read dated a random time over the first three quarters of
	//     its refresh age (15 minutes near-term, 2 hours later) before then, about as in steady
	//     operation (spreadSlotReads), the engine's copies of the stored sessions forgotten so
	//     that it reads those dates, and a new scheduler started; the measurement starts once
	//     every practice has had a full pass since. Refreshes then fall due at about the steady
	//     rate.
	//   - RefreshesBackdated: RefreshBackdate's dating of the warm-up's writes. Refreshes made
	//     during the warm-up are backdated again and later sessions never fall due, so near-term
	//     refreshes come at more than the steady rate (an upper bound for them) and later ones
	//     not at all.
	//   - RefreshesNone: writes dated when they happened (a lower bound).
	Refreshes string
	// ReferenceDuration is how long the machine reference runs before anything else starts
	// (MachineReference); 5 s if zero.
	ReferenceDuration time.Duration
	// RefreshBackdate, with RefreshesBackdated, makes the store date every write of the warm-up
	// a random time up to this long ago (15 minutes if zero).
	RefreshBackdate time.Duration

	CPUProfile       io.Writer // herolink's CPU profile during the change stream; nil: none
	WarmupCPUProfile io.Writer // herolink's CPU profile during the first sync; nil: none
	// WarmupAllocProfile receives, when the first sync ends, what herolink's process has
	// allocated since it started (pprof's allocs profile: set-up included); nil: none.
	WarmupAllocProfile io.Writer
	// SandboxCPUProfile is a file the sandbox child writes its CPU profile to, from its start
	// (the first sync included) to its stop; "": none.
	SandboxCPUProfile string
}

// How SyncOptions.Refreshes makes rolling refreshes fall due.
const (
	RefreshesSteady    = "steady"
	RefreshesBackdated = "backdated"
	RefreshesNone      = "none"
)

// CheckRefreshes says whether s is one of the ways refreshes fall due.
func CheckRefreshes(s string) error {
	switch s {
	case RefreshesSteady, RefreshesBackdated, RefreshesNone:
		return nil
	}
	return fmt.Errorf("refreshes must be %q, %q or %q, not %q", RefreshesSteady, RefreshesBackdated, RefreshesNone, s)
}

func (o *SyncOptions) defaults() {
	if o.ReferenceDuration <= 0 {
		o.ReferenceDuration = 5 * time.Second
	}
	if o.Refreshes == "" {
		o.Refreshes = RefreshesSteady
	}
	if o.Refreshes == RefreshesBackdated && o.RefreshBackdate <= 0 {
		o.RefreshBackdate = 15 * time.Minute
	}
	if o.DiaryWeeks <= 0 {
		o.DiaryWeeks = 4
	}
	if o.SyncConcurrency <= 0 {
		o.SyncConcurrency = 256
	}
	if o.SlotConcurrency <= 0 {
		o.SlotConcurrency = 8
	}
	if o.FullInterval <= 0 {
		o.FullInterval = 45 * time.Second
	}
	if o.NearInterval <= 0 {
		o.NearInterval = o.FullInterval / 2 // herolink's default
	}
	if o.HorizonDays <= 0 {
		o.HorizonDays = 14
	}
	if o.WarmupTimeout <= 0 {
		o.WarmupTimeout = 20 * time.Minute
	}
	if o.ChangeEvery <= 0 {
		o.ChangeEvery = time.Minute
	}
}

// SyncResult holds the figures of one size of `herolink bench sync`; the JSON names are the
// --json keys.
type SyncResult struct {
	Database  string  `json:"database"` // sqlite or postgres
	Practices int     `json:"practices"`
	DurationS float64 `json:"duration_s"` // of the measured change stream

	// Changes made in EMIS during the measurement and how long herolink took to show them.
	Changes       int64   `json:"changes"`
	Unobserved    int     `json:"unobserved"` // not shown by herolink by the end of the drain
	StalenessP50S float64 `json:"staleness_p50_s"`
	StalenessP95S float64 `json:"staleness_p95_s"`
	StalenessP99S float64 `json:"staleness_p99_s"`
	StalenessMaxS float64 `json:"staleness_max_s"`
	// Changes in the next three working days, and how long they took to show. A slot search answers
	// from the store at once (the free-slot index reads the practice's change counters first),
	// so this is also how long a reception change takes to show in /v1/slots.
	NearChanges       int     `json:"near_changes"`
	NearStalenessP50S float64 `json:"near_staleness_p50_s"`
	NearStalenessP99S float64 `json:"near_staleness_p99_s"`
	NearStalenessMaxS float64 `json:"near_staleness_max_s"`
	ChangesRefused    int64   `json:"changes_refused"` // EMIS said 409 (slot type not bookable): skipped
	ChangesNoSlot     int64   `json:"changes_no_slot"` // no free stored slot found in a few windows
	ChangesBehind     int64   `json:"changes_behind"`  // dropped: every change worker busy
	ChangeErrors      int64   `json:"change_errors"`

	// Cost during the measurement.
	EMISCallsPerPracticeHour float64          `json:"emis_calls_per_practice_hour"`
	EMISCallsByMethod        map[string]int64 `json:"emis_calls_by_method"`
	CPUSeconds               float64          `json:"cpu_seconds"`           // herolink (this process)
	SandboxCPUSeconds        float64          `json:"sandbox_cpu_seconds"`   // the sandbox child
	ReceptionCPUSeconds      float64          `json:"reception_cpu_seconds"` // the change stream's child
	OtherCPUCores            float64          `json:"other_cpu_cores"`       // the rest of the machine, cores
	RSSBytes                 int64            `json:"rss_bytes"`             // herolink's VmRSS at the end
	PeakRSSBytes             int64            `json:"peak_rss_bytes"`        // herolink's VmHWM during the measurement
	GoHeapBytes              int64            `json:"go_heap_bytes"`         // live plus unswept heap at the end
	SandboxRSSBytes          int64            `json:"sandbox_rss_bytes"`
	DBBytes                  int64            `json:"db_bytes"` // SQLite database and WAL

	// Sync passes during the measurement, their mean duration and the scheduler's view at the end.
	FullPasses         int64   `json:"full_passes"`
	NearPasses         int64   `json:"near_passes"`
	FailedPasses       int64   `json:"failed_passes"`
	RememberedPasses   int64   `json:"remembered_passes"`   // found nothing changed: recorded themselves only
	StoredFromCopy     int64   `json:"stored_from_copy"`    // compared with the engine's copy of the stored sessions
	RefreshesConfirmed int64   `json:"refreshes_confirmed"` // rolling refreshes whose list was the one last applied
	RefreshesCompared  int64   `json:"refreshes_compared"`  // rolling refreshes compared slot by slot
	IncompletePasses   int64   `json:"incomplete_passes"`   // applied what they read; some sessions left for the next pass
	FullPassMeanS      float64 `json:"full_pass_mean_s"`
	NearPassMeanS      float64 `json:"near_pass_mean_s"`
	OldestFullPassAgeS float64 `json:"oldest_full_pass_age_s"`
	StalePractices     int     `json:"stale_practices"` // last full pass older than twice the interval

	// Set-up and warm-up.
	SetupS              float64 `json:"setup_s"`      // connecting the practices in herolink's store
	FirstSyncS          float64 `json:"first_sync_s"` // scheduler start to every practice FirstSyncDone
	FirstSyncDone       int     `json:"first_sync_done"`
	FirstSyncEMISCalls  int64   `json:"first_sync_emis_calls"`
	FirstSyncCPUSeconds float64 `json:"first_sync_cpu_seconds"`
	FirstSyncPeakRSS    int64   `json:"first_sync_peak_rss_bytes"`
	FirstSyncFailedPass int64   `json:"first_sync_failed_passes"`
	SyncConcurrency     int     `json:"sync_concurrency"`
	SlotConcurrency     int     `json:"slot_concurrency"`
	FullIntervalS       float64 `json:"full_interval_s"`
	NearIntervalS       float64 `json:"near_interval_s"`
	LatencyP50Ms        float64 `json:"latency_p50_ms"`
	LatencyP99Ms        float64 `json:"latency_p99_ms"`
	ErrorRate           float64 `json:"error_rate"`
	TimeoutRate         float64 `json:"timeout_rate"`
	EMISFaults          int64   `json:"emis_faults"` // injected errors and timeouts during the measurement
	ChangeEveryS        float64 `json:"change_every_s"`
	DrainS              float64 `json:"drain_s"`
	// The machine's speed at the start of the run (MachineReference): figures of two runs are
	// compared next to these.
	ReferenceRPS             float64 `json:"reference_rps"`
	ReferenceCPUPerRequestUS float64 `json:"reference_cpu_us_per_request"`
	Refreshes                string  `json:"refreshes"`          // SyncOptions.Refreshes
	RefreshBackdateS         float64 `json:"refresh_backdate_s"` // with "backdated"
	SpreadSessions           int64   `json:"spread_sessions"`    // with "steady": sessions whose last slot read was dated
	SettleS                  float64 `json:"settle_s"`           // with "steady": from the restart to the measurement
	// With "steady": passes of the settling that read the stored sessions from the store, being
	// neither remembered nor served from the engine's copy (each practice's first, at least).
	SettleStoreReads     int64 `json:"settle_store_reads"`
	MeasurementCompleted bool  `json:"measurement_completed"`
}

// ErrWarmupTimeout means the first sync of every practice did not finish within the warm-up
// bound; the result then holds the set-up and warm-up figures only.
var ErrWarmupTimeout = errors.New("first sync not finished within the warm-up timeout")

// RunSync measures herolink's slot sync against a sandbox of opts.Practices generated practices:
// it starts the sandbox as a child process with injected latency, connects every practice in an
// in-process herolink, runs the sync scheduler until every practice has had its first sync,
// then for opts.Duration books random free slots by reception at about one per practice per
// opts.ChangeEvery and measures how long each takes to appear in herolink's store, what the sync
// costs in EMIS calls, CPU and memory. Everything it starts is stopped before it returns.
func RunSync(ctx context.Context, opts SyncOptions) (res SyncResult, err error) {
	opts.defaults()
	if opts.Practices < 1 {
		return res, errors.New("practices must be at least 1")
	}
	if opts.Duration <= 0 {
		return res, errors.New("duration must be positive")
	}
	if err := CheckRefreshes(opts.Refreshes); err != nil {
		return res, err
	}
	backdate := time.Duration(0)
	if opts.Refreshes == RefreshesBackdated {
		backdate = opts.RefreshBackdate
	}
	res = SyncResult{Practices: opts.Practices, DurationS: opts.Duration.Seconds(), SyncConcurrency: opts.SyncConcurrency,
		SlotConcurrency: opts.SlotConcurrency, FullIntervalS: opts.FullInterval.Seconds(), NearIntervalS: opts.NearInterval.Seconds(),
		LatencyP50Ms: msFloat(opts.LatencyP50), LatencyP99Ms: msFloat(opts.LatencyP99), ChangeEveryS: opts.ChangeEvery.Seconds(),
		ErrorRate: opts.ErrorRate, TimeoutRate: opts.TimeoutRate,
		DrainS: opts.Drain.Seconds(), Refreshes: opts.Refreshes, RefreshBackdateS: backdate.Seconds()}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench sync: %d practices: "+format+"\n", append([]any{opts.Practices}, args...)...)
		}
	}

	// A fresh start for this size: what an earlier size left is garbage, and the peak RSS
	// (VmHWM) is reset so that it is this size's.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	ref, err := measureMachineReference(ctx, opts.ReferenceDuration)
	if err != nil {
		return res, err
	}
	res.ReferenceRPS, res.ReferenceCPUPerRequestUS = ref.RequestsPerSecond, ref.CPUPerRequestUS
	progress("machine reference: %.0f requests/s to a trivial handler, %.1f µs of CPU each", ref.RequestsPerSecond, ref.CPUPerRequestUS)

	args := []string{"emis-sandbox", "--addr", "127.0.0.1:0", "--practices", strconv.Itoa(opts.Practices),
		"--seed", strconv.FormatUint(opts.Seed, 10), "--diary-weeks", strconv.Itoa(opts.DiaryWeeks)}
	if opts.SandboxCPUProfile != "" {
		args = append(args, "--cpuprofile", opts.SandboxCPUProfile)
	}
	child, err := StartChild(ctx, ChildOptions{Exe: opts.Exe, Env: opts.Env, Stderr: opts.Stderr, Args: args})
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := child.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	admin := newSandboxAdmin(child.BaseURL, 32)
	defer admin.close()
	if opts.LatencyP50 > 0 || opts.LatencyP99 > 0 || opts.ErrorRate > 0 || opts.TimeoutRate > 0 {
		if err := admin.setFaults(ctx, opts.LatencyP50, opts.LatencyP99, opts.ErrorRate, opts.TimeoutRate); err != nil {
			return res, err
		}
	}
	orgs, err := admin.organisations(ctx)
	if err != nil {
		return res, err
	}
	names := make(map[int]string, len(orgs))
	for _, o := range orgs {
		names[o.CDB] = o.Name
	}

	tracker := newChangeTracker(nil)
	h, err := newHerolink(ctx, herolinkOptions{SandboxURL: child.BaseURL, SyncConcurrency: opts.SyncConcurrency,
		SlotConcurrency: opts.SlotConcurrency, FullInterval: opts.FullInterval, NearInterval: opts.NearInterval,
		HorizonDays: opts.HorizonDays, OnChange: tracker.onChange, Backdate: backdate, ReadTimeout: opts.ReadTimeout,
		DatabaseURL: opts.DatabaseURL})
	if err != nil {
		return res, err
	}
	defer h.close()
	setupBegin := time.Now()
	practices, err := h.connectGenerated(ctx, opts.Practices, names)
	if err != nil {
		return res, err
	}
	res.SetupS = round(time.Since(setupBegin).Seconds(), 3)
	progress("connected in herolink's store in %.1f s", res.SetupS)

	// The scheduler runs until this function returns, or until it is restarted; stopping it
	// waits for passes in flight.
	var stopSched func()
	startSched := func() {
		schedCtx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = h.sched.Run(schedCtx)
		}()
		stopSched = func() {
			cancel()
			wg.Wait()
		}
	}
	defer func() {
		if stopSched != nil {
			stopSched()
		}
	}()

	stats0, err := admin.stats(ctx)
	if err != nil {
		return res, err
	}
	cpu0, _ := selfCPU()
	passes0, _ := h.passStats()
	if opts.WarmupCPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.WarmupCPUProfile); err != nil {
			return res, fmt.Errorf("first sync's CPU profile: %w", err)
		}
	}
	warmBegin := time.Now()
	startSched()

	done, werr := waitFirstSync(ctx, h, practices, opts.WarmupTimeout, func(done int) {
		progress("first sync: %d of %d practices done after %s", done, len(practices), time.Since(warmBegin).Round(time.Second))
	})
	res.FirstSyncS = round(time.Since(warmBegin).Seconds(), 3)
	res.FirstSyncDone = done
	if opts.WarmupCPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if opts.WarmupAllocProfile != nil {
		if err := pprof.Lookup("allocs").WriteTo(opts.WarmupAllocProfile, 0); err != nil {
			return res, fmt.Errorf("first sync's allocation profile: %w", err)
		}
	}
	if stats1, err := admin.stats(ctx); err == nil {
		res.FirstSyncEMISCalls = stats1.Total - stats0.Total
	}
	if cpu1, err := selfCPU(); err == nil {
		res.FirstSyncCPUSeconds = round((cpu1 - cpu0).Seconds(), 2)
	}
	if mem, err := ReadMemStatus(os.Getpid()); err == nil {
		res.FirstSyncPeakRSS = mem.Peak
	}
	if ps, err := h.passStats(); err == nil {
		d := ps.minus(passes0)
		res.FirstSyncFailedPass = int64(d.Passes["full/error"] + d.Passes["near/error"])
	}
	if werr != nil {
		return res, werr
	}
	h.backdating.Store(false)
	progress("first sync of every practice done in %.1f s (%d EMIS calls)", res.FirstSyncS, res.FirstSyncEMISCalls)
	if opts.Refreshes == RefreshesSteady {
		settleBegin := time.Now()
		stopSched()
		now := time.Now()
		nearEnd := slotsync.NearTermEnd(emis.Today(now), slotsync.DefaultNearDays).String()
		if res.SpreadSessions, err = h.spreadSlotReads(ctx, now, nearEnd); err != nil {
			return res, err
		}
		h.engine.ForgetStoredCopies()
		h.newScheduler()
		startSched()
		settled, err := waitRestarted(ctx, h, len(practices), 4*opts.FullInterval)
		if err != nil {
			return res, err
		}
		res.SettleStoreReads = int64(settled.storeReads())
		res.SettleS = round(time.Since(settleBegin).Seconds(), 1)
		progress("%d sessions' last slot reads dated over their refresh age and the scheduler restarted; every practice had a full pass after %.1f s",
			res.SpreadSessions, res.SettleS)
	}
	progress("measuring for %s", opts.Duration)

	// The measurement: a change stream for opts.Duration, costs measured over exactly that window.
	ids := make([]int64, len(practices))
	cdbs := make(map[int64]int, len(practices))
	for i, p := range practices {
		ids[i], cdbs[p.ID] = p.ID, p.CDB
	}
	// Reception runs in a process of its own, so that its bookings' cost is not counted as
	// herolink's (reception.go).
	reception, err := startReception(ctx, opts.Exe, opts.Env, opts.Stderr, receptionConfig{AdminURL: child.BaseURL,
		Practices: ids, CDB: cdbs, Rate: float64(len(ids)) / opts.ChangeEvery.Seconds(), Duration: opts.Duration,
		Horizon: time.Duration(opts.HorizonDays) * 24 * time.Hour, Lead: 10 * time.Minute,
		Workers: 16, PatientID: 500, Seed: opts.Seed})
	if err != nil {
		return res, err
	}
	defer func() { _ = reception.stop() }()
	stats0, err = admin.stats(ctx)
	if err != nil {
		return res, err
	}
	passes0, _ = h.passStats()
	// The warm-up's peak is reported above; from here on, the measurement's. The heap the first
	// sync grew is returned first, or the reset would start from the warm-up's high-water mark.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	meter := newCPUMeter(func() (time.Duration, error) { return ReadCPUTime(child.PID()) })
	cpu0, _ = selfCPU()
	if opts.CPUProfile != nil {
		if err := pprof.StartCPUProfile(opts.CPUProfile); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	tracker.watchEarly(true)
	measureBegin := time.Now()
	sc, streamErr := reception.run(tracker)
	elapsed := time.Since(measureBegin)
	tracker.watchEarly(false)
	if opts.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	cpu1, _ := selfCPU()
	sandboxCPU, _, other := meter.since()
	if streamErr != nil {
		return res, streamErr
	}
	if err := reception.stop(); err != nil {
		return res, err
	}
	// The child's own figure (getrusage): /proc's, in 10 ms ticks, read 0 for the few
	// bookings of a short run on a fast machine.
	res.ReceptionCPUSeconds = round(sc.CPU.Seconds(), 3)
	other = max(other-sc.CPU, 0)
	stats1, err := admin.stats(ctx)
	if err != nil {
		return res, err
	}
	passes1, _ := h.passStats()
	fresh, ferr := h.sched.StoredFreshness(ctx)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if ferr != nil {
		return res, ferr
	}

	// Changes made near the end get the drain to appear; the sync keeps running meanwhile.
	if opts.Drain > 0 {
		waitDrained(ctx, tracker, opts.Drain)
	}
	staleness, nearStaleness, unobserved := tracker.result()
	if sc.FirstErr != "" {
		progress("change stream: %d errors, the first: %s", sc.Errors, sc.FirstErr)
	}

	res.MeasurementCompleted = true
	res.DurationS = round(elapsed.Seconds(), 3)
	res.Changes, res.Unobserved = sc.Made, unobserved
	sum := SummariseStaleness(staleness)
	res.StalenessP50S, res.StalenessP95S, res.StalenessP99S, res.StalenessMaxS = sum.P50, sum.P95, sum.P99, sum.Max
	near := SummariseStaleness(nearStaleness)
	res.NearChanges, res.NearStalenessP50S, res.NearStalenessP99S, res.NearStalenessMaxS = len(nearStaleness), near.P50, near.P99, near.Max
	res.ChangesRefused, res.ChangesNoSlot, res.ChangesBehind, res.ChangeErrors = sc.Refused, sc.NoSlot, sc.Behind, sc.Errors
	calls := stats1.Total - stats0.Total
	res.EMISCallsPerPracticeHour = round(float64(calls)/float64(opts.Practices)/elapsed.Hours(), 1)
	res.EMISCallsByMethod = map[string]int64{}
	for m, n := range stats1.Calls {
		if d := n - stats0.Calls[m]; d > 0 {
			res.EMISCallsByMethod[m] = d
		}
	}
	res.CPUSeconds = round((cpu1 - cpu0).Seconds(), 2)
	res.SandboxCPUSeconds = round(sandboxCPU.Seconds(), 2)
	res.OtherCPUCores = round(other.Seconds()/elapsed.Seconds(), 2)
	d := passes1.minus(passes0)
	res.FullPasses = int64(d.Passes["full/ok"] + d.Passes["full/error"] + d.Passes["full/incomplete"])
	res.NearPasses = int64(d.Passes["near/ok"] + d.Passes["near/error"] + d.Passes["near/incomplete"])
	res.RememberedPasses = int64(d.Passes["full/remembered"] + d.Passes["near/remembered"])
	res.StoredFromCopy = int64(d.Passes["full/from_copy"] + d.Passes["near/from_copy"])
	res.RefreshesConfirmed, res.RefreshesCompared = int64(d.Passes["refresh/confirmed"]), int64(d.Passes["refresh/compared"])
	res.FailedPasses = int64(d.Passes["full/error"] + d.Passes["near/error"])
	res.IncompletePasses = int64(d.Passes["full/incomplete"] + d.Passes["near/incomplete"])
	res.EMISFaults = (stats1.Faults["error"] - stats0.Faults["error"]) + (stats1.Faults["timeout"] - stats0.Faults["timeout"])
	res.FullPassMeanS, res.NearPassMeanS = round(d.meanSeconds("full"), 3), round(d.meanSeconds("near"), 3)
	res.OldestFullPassAgeS = round(fresh.OldestAge.Seconds(), 1)
	res.StalePractices = fresh.Stale

	if mem, err := ReadMemStatus(os.Getpid()); err == nil {
		res.RSSBytes, res.PeakRSSBytes = mem.RSS, mem.Peak
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GoHeapBytes = int64(ms.HeapAlloc)
	if mem, err := ReadMemStatus(child.PID()); err == nil {
		res.SandboxRSSBytes = mem.RSS
	}
	res.DBBytes = dirSize(h.dir)
	res.Database = "sqlite"
	if opts.DatabaseURL != "" {
		res.Database, res.DBBytes = "postgres", 0 // the data directory holds only the key file
	}
	progress("measured: %d changes, p99 staleness %.1f s, %d unobserved", res.Changes, res.StalenessP99S, res.Unobserved)
	return res, nil
}

// waitFirstSync runs until every practice has finished its first sync (store.SyncStatus
// FirstSyncDone), the timeout passes, or ctx ends. It polls the scheduler's own view a few
// times a second (cheap) and confirms in the store the practices it does not yet know to be
// done only when the scheduler says they all are, so that polling does not queue thousands
// of queries on the single SQLite connection the sync writes through. It returns how many
// practices are done.
func waitFirstSync(ctx context.Context, h *herolinkUnderTest, practices []generatedPractice, timeout time.Duration, report func(done int)) (int, error) {
	remaining := make(map[int64]bool, len(practices))
	for _, p := range practices {
		remaining[p.ID] = true
	}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		f := h.sched.Freshness()
		if f.Practices >= len(practices) && f.FirstSyncing == 0 {
			for id := range remaining {
				done, err := h.store.FirstSyncDone(ctx, id)
				if err != nil {
					return len(practices) - len(remaining), err
				}
				if done {
					delete(remaining, id)
				}
			}
			if len(remaining) == 0 {
				return len(practices), nil
			}
		}
		done := max(f.Practices-f.FirstSyncing, len(practices)-len(remaining))
		if time.Since(lastReport) >= 15*time.Second {
			report(done)
			lastReport = time.Now()
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("%w: %d of %d practices done after %s", ErrWarmupTimeout, done, len(practices), timeout)
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-tick.C:
		}
	}
}

// waitRestarted waits until the restarted scheduler has finished a full pass of at least n
// practices (its first passes are spread over one full interval), at most timeout.
// It returns the scheduler's pass counts then.
func waitRestarted(ctx context.Context, h *herolinkUnderTest, n int, timeout time.Duration) (passStats, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		ps, err := h.passStats()
		if err != nil {
			return ps, err
		}
		if full := ps.Passes["full/ok"] + ps.Passes["full/incomplete"] + ps.Passes["full/error"]; full >= float64(n) {
			return ps, nil
		}
		if time.Now().After(deadline) {
			return ps, fmt.Errorf("after the restart, fewer than %d full passes within %s", n, timeout)
		}
		select {
		case <-ctx.Done():
			return ps, ctx.Err()
		case <-tick.C:
		}
	}
}

// waitDrained waits until every registered change has been seen, at most d.
func waitDrained(ctx context.Context, t *changeTracker, d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, pending := t.counts(); pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// resetPeakRSS resets this process's VmHWM to its current RSS (Linux: "5" to clear_refs), so
// that each size reports its own peak. Best effort.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func dirSize(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && !e.IsDir() {
			n += info.Size()
		}
	}
	return n
}

// Table is the result as `herolink bench sync` prints it.
func (r SyncResult) Table() Table {
	const mib = 1 << 20
	var t Table
	t.Add("practices", r.Practices, "", "")
	t.Add("connect practices in the store", r.SetupS, "%.1f", "s")
	t.Add("first sync of every practice", r.FirstSyncS, "%.1f", "s")
	t.Add("  practices done", r.FirstSyncDone, "", "")
	t.Add("  EMIS calls", r.FirstSyncEMISCalls, "", "")
	t.Add("  herolink CPU", r.FirstSyncCPUSeconds, "%.1f", "s")
	t.Add("  herolink peak RSS", float64(r.FirstSyncPeakRSS)/mib, "%.1f", "MiB")
	t.Add("  failed passes", r.FirstSyncFailedPass, "", "")
	if !r.MeasurementCompleted {
		t.Add("measurement", "not run", "", "")
		return t
	}
	t.Add("measured change stream", r.DurationS, "%.1f", "s")
	t.Add("changes (reception bookings)", r.Changes, "", "")
	t.Add("  unobserved at the end", r.Unobserved, "", "")
	t.Add("  staleness p50", r.StalenessP50S, "%.2f", "s")
	t.Add("  staleness p95", r.StalenessP95S, "%.2f", "s")
	t.Add("  staleness p99", r.StalenessP99S, "%.2f", "s")
	t.Add("  staleness max", r.StalenessMaxS, "%.2f", "s")
	t.Add("remembered passes (nothing changed)", float64(r.RememberedPasses), "%.0f", "")
	t.Add("passes comparing with the copy of the stored sessions", float64(r.StoredFromCopy), "%.0f", "")
	t.Add("rolling refreshes confirmed by their bytes", float64(r.RefreshesConfirmed), "%.0f", "")
	t.Add("rolling refreshes compared slot by slot", float64(r.RefreshesCompared), "%.0f", "")
	t.Add("changes in the next 3 working days", float64(r.NearChanges), "%.0f", "")
	t.Add("  staleness p50 (also to /v1/slots)", r.NearStalenessP50S, "%.2f", "s")
	t.Add("  staleness p99 (also to /v1/slots)", r.NearStalenessP99S, "%.2f", "s")
	t.Add("  staleness max (also to /v1/slots)", r.NearStalenessMaxS, "%.2f", "s")
	t.Add("  refused by EMIS (skipped)", r.ChangesRefused, "", "")
	t.Add("  no free slot found / behind / errors", fmt.Sprintf("%d / %d / %d", r.ChangesNoSlot, r.ChangesBehind, r.ChangeErrors), "", "")
	t.Add("EMIS calls per practice per hour", r.EMISCallsPerPracticeHour, "%.1f", "")
	t.Add("  injected errors and timeouts", r.EMISFaults, "", "calls")
	for _, m := range emis.Methods {
		if n := r.EMISCallsByMethod[m]; n > 0 {
			t.Add("  "+m, n, "", "calls")
		}
	}
	t.Add("sync passes full / near", fmt.Sprintf("%d / %d", r.FullPasses, r.NearPasses), "", "")
	t.Add("  failed", r.FailedPasses, "", "")
	t.Add("  incomplete (applied what they read)", r.IncompletePasses, "", "")
	t.Add("  mean duration full / near", fmt.Sprintf("%.2f / %.2f", r.FullPassMeanS, r.NearPassMeanS), "", "s")
	t.Add("  oldest full pass at the end", r.OldestFullPassAgeS, "%.1f", "s ago")
	t.Add("  practices stale (> 2 full intervals)", r.StalePractices, "", "")
	t.Add("herolink CPU", r.CPUSeconds, "%.1f", "s")
	t.Add("  in cores", safeDiv(r.CPUSeconds, r.DurationS), "%.2f", "cores")
	t.Add("sandbox CPU", r.SandboxCPUSeconds, "%.1f", "s")
	t.Add("reception's CPU (the change stream's child)", r.ReceptionCPUSeconds, "%.1f", "s")
	t.Add("other processes' CPU", r.OtherCPUCores, "%.2f", "cores")
	t.Add("herolink RSS at the end", float64(r.RSSBytes)/mib, "%.1f", "MiB")
	t.Add("herolink peak RSS (VmHWM)", float64(r.PeakRSSBytes)/mib, "%.1f", "MiB")
	t.Add("herolink Go heap at the end", float64(r.GoHeapBytes)/mib, "%.1f", "MiB")
	t.Add("sandbox RSS at the end", float64(r.SandboxRSSBytes)/mib, "%.1f", "MiB")
	if r.Database == "postgres" {
		t.Add("database", "PostgreSQL", "", "")
	} else {
		t.Add("SQLite database", float64(r.DBBytes)/mib, "%.1f", "MiB")
	}
	t.Add("settings: passes in flight x slot calls each", fmt.Sprintf("%d x %d", r.SyncConcurrency, r.SlotConcurrency), "", "")
	t.Add("settings: full / near interval", fmt.Sprintf("%g / %g", r.FullIntervalS, r.NearIntervalS), "", "s")
	t.Add("settings: latency p50 / p99", fmt.Sprintf("%g / %g", r.LatencyP50Ms, r.LatencyP99Ms), "", "ms")
	t.Add("settings: EMIS error / timeout rate", fmt.Sprintf("%g / %g", r.ErrorRate, r.TimeoutRate), "", "")
	t.Add("settings: each practice changes every", r.ChangeEveryS, "%g", "s")
	t.Add("settings: drain after the stream", r.DrainS, "%g", "s")
	t.Add("machine reference: trivial handler, 64 clients", r.ReferenceRPS, "%.0f", "req/s")
	t.Add("machine reference: CPU per request", r.ReferenceCPUPerRequestUS, "%.1f", "µs")
	t.Add("settings: rolling refreshes", r.Refreshes, "", "")
	if r.Refreshes == RefreshesBackdated {
		t.Add("settings: first sync's slot reads backdated up to", r.RefreshBackdateS, "%g", "s")
	}
	if r.Refreshes == RefreshesSteady {
		t.Add("sessions whose last slot read was dated over its refresh age", r.SpreadSessions, "%d", "")
		t.Add("from the scheduler's restart to the measurement", r.SettleS, "%g", "s")
		t.Add("passes of the settling that read the stored sessions", r.SettleStoreReads, "%d", "")
	}
	return t
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// ParseSizes reads a comma-separated list of practice counts ("100,1000,7000", spaces and
// thousands separators as "7_000" allowed); each must be between 1 and 99999.
func ParseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n < 1 || n > 99999 {
			return nil, fmt.Errorf("%q is not a number of practices between 1 and 99999", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no practice count given")
	}
	return out, nil
}

// randSource is a seeded generator for the change stream, so two runs pick alike.
func randSource(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
