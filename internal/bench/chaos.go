package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
)

// ChaosOptions configure `herolink bench chaos`.
type ChaosOptions struct {
	Exe      string    // the herolink binary, run as `serve` and `emis-sandbox`
	Stderr   io.Writer // the children's stderr; nil: discarded
	Progress io.Writer // progress lines; nil: none

	DatabaseURL string        // "": SQLite in a temporary data directory; postgres://: that server
	Instances   int           // herolink serve instances on the one database (1)
	Kills       int           // SIGKILLs of a random instance (20)
	Duration    time.Duration // partner traffic and kills (5 minutes)
	Settle      time.Duration // after the traffic, bound on waiting for every booking to be final (3 minutes)
	Rate        float64       // partner operations per second (4)
	Seed        uint64

	LatencyP50, LatencyP99 time.Duration // EMIS latency (150 ms / 600 ms)
	ErrorRate              float64       // EMIS calls answering 503 (0.03)
	TimeoutRate            float64       // EMIS calls stalling, nothing applied (0.02)
	TimeoutAfterWriteRate  float64       // EMIS writes applied, then stalling (0.02)
}

// ErrSQLiteOneInstance refuses several instances on SQLite: its file is one process's.
var ErrSQLiteOneInstance = errors.New("SQLite allows one instance: give --database-url postgres://HOST/DB for --instances above 1")

// Validate checks the options a person chose; defaults fill the rest.
func (o ChaosOptions) Validate() error {
	switch {
	case o.DatabaseURL != "" && !strings.HasPrefix(o.DatabaseURL, "postgres://") && !strings.HasPrefix(o.DatabaseURL, "postgresql://"):
		return errors.New("--database-url must be empty (SQLite) or a postgres:// URL")
	case o.Instances < 1 || o.Instances > 16:
		return errors.New("--instances must be between 1 and 16")
	case o.DatabaseURL == "" && o.Instances > 1:
		return ErrSQLiteOneInstance
	case o.Kills < 0 || o.Kills > 1000:
		return errors.New("--kills must be between 0 and 1000")
	case o.Duration < 0 || o.Settle < 0 || o.Rate < 0:
		return errors.New("--duration, --settle and --rate must not be negative")
	}
	return nil
}

func (o *ChaosOptions) defaults() {
	if o.Instances <= 0 {
		o.Instances = 1
	}
	if o.Duration <= 0 {
		o.Duration = 5 * time.Minute
	}
	if o.Settle <= 0 {
		o.Settle = 3 * time.Minute
	}
	if o.Rate <= 0 {
		o.Rate = 4
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.LatencyP50 <= 0 {
		o.LatencyP50 = 150 * time.Millisecond
	}
	if o.LatencyP99 < o.LatencyP50 {
		o.LatencyP99 = 4 * o.LatencyP50
	}
}

// ChaosResult is what `herolink bench chaos` counted. The JSON names are the contract of
// `--json`.
type ChaosResult struct {
	Instances      int     `json:"instances"`
	Database       string  `json:"database"` // "sqlite" or "postgres"
	Kills          int     `json:"kills"`    // SIGKILLs of instances done
	Acknowledged   int     `json:"acknowledged"`
	Booked         int     `json:"booked"`
	Placeholders   int     `json:"placeholders"`
	Failed         int     `json:"failed"`
	Cancelled      int     `json:"cancelled"`
	Lost           int     `json:"lost"`
	Duplicated     int     `json:"duplicated"`
	Stuck          int     `json:"stuck"`
	DoubleSynced   int     `json:"double_synced"`
	TakeoverP99S   float64 `json:"takeover_p99_s"`
	KeyRevocationS float64 `json:"key_revocation_s"`
}

// Table is the result as printed.
func (r ChaosResult) Table() Table {
	var t Table
	t.Add("instances", r.Instances, "", "")
	t.Add("database", r.Database, "", "")
	t.Add("SIGKILLs of an instance", r.Kills, "", "")
	t.Add("bookings acknowledged", r.Acknowledged, "", "")
	t.Add("booked / placeholder / failed / cancelled", fmt.Sprintf("%d / %d / %d / %d", r.Booked, r.Placeholders, r.Failed, r.Cancelled), "", "")
	t.Add("lost", r.Lost, "", "")
	t.Add("duplicated", r.Duplicated, "", "")
	t.Add("stuck after the settle time", r.Stuck, "", "")
	t.Add("double synced (windows)", r.DoubleSynced, "", "")
	t.Add("takeover after a kill p99", r.TakeoverP99S, "%.1f", "s")
	t.Add("key revocation, every instance", r.KeyRevocationS, "%.3f", "s")
	return t
}

// chaosSeed is what the set-up left for the run: the partner's key, a second key to revoke,
// and a member of the practice's staff who may revoke it.
type chaosSeed struct {
	APIKey, Group       string
	RevokeKeyID         string
	RevokeSecret        string
	PracticeID          int64
	StaffUser, StaffPwd string
}

// seedChaos connects the demo practice in the data directory (connect, map, first sync) and
// makes the keys, in this process, before any instance starts.
func seedChaos(ctx context.Context, dir, databaseURL, emisURL string) (chaosSeed, error) {
	var s chaosSeed
	a, err := app.New(ctx, app.Config{DataDir: dir, DatabaseURL: databaseURL, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		SyncHorizonDays: 42, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return s, err
	}
	defer a.Store.Close()
	info, err := a.SeedDemo(ctx, "", emisURL)
	if err != nil {
		return s, err
	}
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		return s, err
	}
	k, err := a.Keys.Create(ctx, apikey.Actor{Name: "herolink bench chaos", PracticeID: p.ID}, p.PracticeGroupID,
		apikey.NewKey{Name: "Revoked by bench chaos", Partner: "herolink bench chaos", Scopes: apikey.AllScopes})
	if err != nil {
		return s, err
	}
	return chaosSeed{APIKey: info.APIKey, Group: info.PracticeGroupID, RevokeKeyID: k.Key.ID, RevokeSecret: k.Secret,
		PracticeID: p.ID, StaffUser: info.PracticeUsername, StaffPwd: info.PracticePassword}, nil
}

// RunChaos runs the EMIS sandbox (with faults and a state file) and Instances `herolink serve`
// children on one database, drives partner traffic spread over them, SIGKILLs a random instance
// Kills times at random moments and the sandbox once, restarting each, then lets everything
// settle and counts every acknowledged booking against the sandbox's appointment book.
func RunChaos(ctx context.Context, o ChaosOptions) (ChaosResult, error) {
	if err := o.Validate(); err != nil {
		return ChaosResult{}, err
	}
	o.defaults()
	res := ChaosResult{Instances: o.Instances, Database: "sqlite"}
	if o.DatabaseURL != "" {
		res.Database = "postgres"
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d))
	dir, err := os.MkdirTemp("", "herolink-bench-chaos-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	dbURL, dropDB, err := prepareBenchDatabase(ctx, o.DatabaseURL, "herolink_chaos")
	if err != nil {
		return res, err
	}
	defer dropDB()

	emisProc, err := newSandboxProc(o.Exe, filepath.Join(dir, "sandbox-state.json"), o.Stderr)
	if err != nil {
		return res, err
	}
	if err := emisProc.up(ctx); err != nil {
		return res, err
	}
	defer func() { _ = emisProc.stop() }()
	admin := newSandboxAdmin(emisProc.url(), 8)
	defer admin.close()
	emisURL := emisProc.url()

	progress("preparing the demo practice (connect, map, first sync of 6 weeks)")
	seed, err := seedChaos(ctx, dir, dbURL, emisURL)
	if err != nil {
		return res, fmt.Errorf("set up: %w", err)
	}
	faults := sandbox.Faults{Global: sandbox.FaultConfig{LatencyP50MS: msFloat(o.LatencyP50), LatencyP99MS: msFloat(o.LatencyP99),
		ErrorRate: o.ErrorRate, TimeoutRate: o.TimeoutRate, TimeoutAfterWriteRate: o.TimeoutAfterWriteRate, StallMS: 10000}}
	if err := admin.do(ctx, http.MethodPut, "/sandbox/v1/faults", faults, nil); err != nil {
		return res, err
	}

	// Short sync intervals, so that two instances syncing the one practice at once would show
	// in many windows of the double-sync watch.
	args := []string{"--data-dir", dir, "--emis-url", emisURL, "--directory-url", emisURL + "/sandbox/v1/directory",
		"--sync-horizon-days", "42", "--sync-near-interval", "3s", "--sync-full-interval", "15s",
		"--api-rate-limit", "1000000", "--api-burst", "1000000", "--emis-timeout", "5s",
		"--secure-cookies=false", "--log-level", "warn"}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	instances := make([]*chaosProc, o.Instances)
	for i := range instances {
		if instances[i], err = newServeProc("instance "+strconv.Itoa(i+1), o.Exe, args, nil, o.Stderr); err != nil {
			return res, err
		}
		if err := instances[i].up(ctx); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, p := range instances {
			_ = p.stop()
		}
	}()

	first := newAPIClient(instances[0].url(), seed.APIKey, seed.Group, 8)
	want := int(o.Rate*o.Duration.Seconds()*1.3) + 100
	slots, err := first.freeSlots(ctx, want, 41)
	if err != nil {
		return res, err
	}
	var patients []sandbox.Patient
	if err := admin.do(ctx, http.MethodGet, "/sandbox/v1/organisations/"+strconv.Itoa(sandbox.DemoCDB)+"/patients?limit=1000", nil, &patients); err != nil {
		return res, err
	}
	if len(patients) == 0 {
		return res, errors.New("the demo register is empty")
	}
	progress("%d instance(s) on %s, %d free slots; traffic for %s with %d kills", o.Instances, res.Database, len(slots), o.Duration, o.Kills)
	d := newChaosDriver(instances, seed.APIKey, seed.Group, slots, patients, o.Seed)

	var wg sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer func() { stopWatch(); wg.Wait() }()
	dsw := newDoubleSyncWatch(instances)
	wg.Add(2)
	go func() { defer wg.Done(); d.watch(watchCtx, 500*time.Millisecond) }()
	go func() { defer wg.Done(); dsw.run(watchCtx, 3*time.Second) }()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad() // before the wait above: deferred calls run last first
	wg.Add(1)
	go func() { defer wg.Done(); d.steady(loadCtx, o.Rate) }()

	// The kill moments, and the sandbox's one kill, at random over the traffic.
	begin := time.Now()
	moments := make([]time.Duration, o.Kills)
	for i := range moments {
		moments[i] = time.Duration((0.05 + 0.85*rng.Float64()) * float64(o.Duration))
	}
	slices.Sort(moments)
	sandboxAt := time.Duration((0.3 + 0.4*rng.Float64()) * float64(o.Duration))
	type killed struct {
		at      time.Time
		pending []string
	}
	var kills []killed
	sandboxKilled := false
	for _, m := range moments {
		if !sandboxKilled && sandboxAt <= m {
			if err := killSandbox(ctx, begin.Add(sandboxAt), emisProc, admin, faults, progress); err != nil {
				return res, err
			}
			sandboxKilled = true
		}
		if err := sleepCtx(ctx, time.Until(begin.Add(m))); err != nil {
			return res, err
		}
		p := instances[rng.IntN(len(instances))]
		k := killed{at: time.Now(), pending: d.pendingIDs()}
		if err := p.kill(); err != nil {
			return res, fmt.Errorf("kill %s: %w", p.name, err)
		}
		kills = append(kills, k)
		// Several instances: the others must take over before this one is back.
		if o.Instances > 1 {
			if err := sleepCtx(ctx, 2*time.Second); err != nil {
				return res, err
			}
		}
		if err := p.up(ctx); err != nil {
			return res, fmt.Errorf("after kill %d: %w", len(kills), err)
		}
		progress("kill %d: %s, %d bookings in flight", len(kills), p.name, len(k.pending))
	}
	if !sandboxKilled {
		if err := killSandbox(ctx, begin.Add(sandboxAt), emisProc, admin, faults, progress); err != nil {
			return res, err
		}
	}
	if err := sleepCtx(ctx, time.Until(begin.Add(o.Duration))); err != nil {
		return res, err
	}
	stopLoad()
	progress("traffic stopped: %d partner requests, %d given up", d.requests.Load(), d.gaveUp.Load())
	res.Kills = len(kills)

	rev, err := measureKeyRevocation(ctx, instances, seed.StaffUser, seed.StaffPwd, seed.PracticeID,
		seed.RevokeKeyID, seed.RevokeSecret, seed.Group, 30*time.Second)
	if err != nil {
		return res, fmt.Errorf("key revocation: %w", err)
	}
	res.KeyRevocationS = rev.Seconds()

	// Settle: count until nothing is stuck or the settle time is up.
	progress("settling (at most %s)", o.Settle)
	var counts chaosCounts
	for deadline := time.Now().Add(o.Settle); ; {
		bookings, err := d.refresh(ctx)
		if err != nil {
			return res, fmt.Errorf("read herolink's bookings: %w", err)
		}
		notes, err := admin.appointmentBookNotes(ctx, sandbox.DemoCDB)
		if err != nil {
			return res, fmt.Errorf("read the EMIS appointment book: %w", err)
		}
		counts = countChaos(bookings, emisArtefacts(notes))
		if counts.Stuck == 0 || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return res, err
		}
	}
	stopWatch()
	wg.Wait() // the watches have returned: their figures may be read
	res.Acknowledged, res.Booked, res.Placeholders, res.Failed = counts.Acknowledged, counts.Booked, counts.Placeholders, counts.Failed
	res.Cancelled, res.Lost, res.Duplicated, res.Stuck = counts.Cancelled, counts.Lost, counts.Duplicated, counts.Stuck
	res.DoubleSynced = dsw.doubled
	progress("double-sync watch: %d of %d windows had more than one instance completing sync passes", dsw.doubled, dsw.windows)

	// Takeover: for each kill, each booking in flight then until herolink answered it final
	// (its write-back was taken over), and the practice until a sync pass completed again.
	var takeover []time.Duration
	type sample struct {
		d    time.Duration
		what string
	}
	var samples []sample
	syncResumed := 0
	for i, k := range kills {
		for _, id := range k.pending {
			if t, ok := d.finalTime(id); ok && t.After(k.at) {
				takeover = append(takeover, t.Sub(k.at))
				later := 0 // further kills before it was final
				for _, k2 := range kills[i+1:] {
					if k2.at.Before(t) {
						later++
					}
				}
				samples = append(samples, sample{t.Sub(k.at), fmt.Sprintf("booking %s after kill %d (%d more kills before it was final)", id, i+1, later)})
			}
		}
		if t, ok := dsw.resumedAfter(k.at); ok {
			takeover = append(takeover, t.Sub(k.at))
			samples = append(samples, sample{t.Sub(k.at), fmt.Sprintf("sync after kill %d", i+1)})
			syncResumed++
		}
	}
	res.TakeoverP99S = sortedPercentile(takeover, 0.99).Seconds()
	progress("takeover: %d write-backs in flight at the kills reached a final state; sync resumed after %d of %d kills",
		len(takeover)-syncResumed, syncResumed, len(kills))
	sort.Slice(samples, func(i, j int) bool { return samples[i].d > samples[j].d })
	for _, s := range samples[:min(len(samples), 8)] {
		progress("  slowest takeovers: %5.1f s  %s", s.d.Seconds(), s.what)
	}
	return res, nil
}

// killSandbox stops EMIS from applying anything for a little over one state-saving interval,
// SIGKILLs the sandbox, and starts it again from its state file on the same address. The
// pause stands in for a real EMIS's durability: the sandbox saves its state once a second, so
// a kill right after a write would otherwise lose a write EMIS had acknowledged, which a real
// EMIS does not.
func killSandbox(ctx context.Context, at time.Time, p *chaosProc, admin *sandboxAdmin, faults sandbox.Faults, progress func(string, ...any)) error {
	if err := sleepCtx(ctx, time.Until(at)); err != nil {
		return err
	}
	down := faults
	down.Global.ErrorRate, down.Global.TimeoutRate, down.Global.TimeoutAfterWriteRate = 1, 0, 0
	if err := admin.do(ctx, http.MethodPut, "/sandbox/v1/faults", down, nil); err != nil {
		return err
	}
	if err := sleepCtx(ctx, 1500*time.Millisecond); err != nil {
		return err
	}
	if err := p.kill(); err != nil {
		return fmt.Errorf("kill the sandbox: %w", err)
	}
	if err := p.up(ctx); err != nil {
		return err
	}
	if err := admin.do(ctx, http.MethodPut, "/sandbox/v1/faults", faults, nil); err != nil {
		return err
	}
	progress("sandbox killed and restarted from its state file")
	return nil
}
