package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/vault"
)

// herolinkOptions say how to build the herolink under test.
type herolinkOptions struct {
	SandboxURL      string
	DatabaseURL     string // "": SQLite in the data directory; postgres://: a fresh database on that server
	SyncConcurrency int    // passes in flight
	SlotConcurrency int    // GetSlotsForSession calls in flight per pass
	FullInterval    time.Duration
	NearInterval    time.Duration
	HorizonDays     int
	OnChange        func(practiceID int64, changes []store.SlotChange)
	// Backdate, while backdating is on, makes the store record each write as made a random
	// time up to Backdate ago (0: never).
	Backdate    time.Duration
	ReadTimeout time.Duration // the engine's bound on one EMIS read (0: its default)
}

// herolinkUnderTest is herolink's sync as internal/app wires it, in this process, on a fresh data
// directory: SQLite store, vault, EMIS caller, practice service (for its connection cache),
// sync engine and scheduler. close releases everything and removes the data directory.
type herolinkUnderTest struct {
	dir        string
	store      *store.Store
	vault      *vault.Keyring
	transport  *http.Transport
	practices  *practice.Service
	engine     *slotsync.Engine
	sched      *slotsync.Scheduler
	registry   *prometheus.Registry
	backdating atomic.Bool
	dropDB     func()
	opts       herolinkOptions
}

func newHerolink(ctx context.Context, opts herolinkOptions) (h *herolinkUnderTest, err error) {
	h = &herolinkUnderTest{}
	defer func() {
		if err != nil {
			h.close()
			h = nil
		}
	}()
	if h.dir, err = os.MkdirTemp("", "herolink-bench-sync-"); err != nil {
		return h, err
	}
	dbURL, drop, err := prepareBenchDatabase(ctx, opts.DatabaseURL, "herolink_bench_sync")
	if err != nil {
		return h, err
	}
	h.dropDB = drop
	if h.store, err = store.Open(ctx, store.Options{DatabaseURL: dbURL, DataDir: h.dir}); err != nil {
		return h, err
	}
	if err = h.store.Migrate(ctx); err != nil {
		return h, err
	}
	if opts.Backdate > 0 {
		// Set once, before anything else uses the store; the switch is an atomic.
		h.backdating.Store(true)
		h.store.SetClock(func() time.Time {
			if h.backdating.Load() {
				return time.Now().Add(-rand.N(opts.Backdate))
			}
			return time.Now()
		})
	}
	if h.vault, err = vault.LoadFile(filepath.Join(h.dir, "secret.keys")); err != nil {
		return h, err
	}
	// Every pass in flight may have SlotConcurrency calls open: keep that many connections idle
	// between calls, or each call would open a new one.
	conns := opts.SyncConcurrency*max(opts.SlotConcurrency, 1) + 16
	h.transport = emis.NewTransport(conns) // herolink's own, so that the benchmark measures it
	caller, err := emis.NewCaller(emis.Config{BaseURL: opts.SandboxURL, SupplierID: sandbox.DefaultSupplierID,
		HTTPClient: &http.Client{Transport: h.transport}, CallTimeout: 30 * time.Second})
	if err != nil {
		return h, err
	}
	h.practices = &practice.Service{Store: h.store, Vault: h.vault, HealthInterval: time.Hour,
		Tester: &practice.Tester{Caller: caller,
			Directory: &practice.HTTPDirectory{BaseURL: strings.TrimRight(opts.SandboxURL, "/") + "/sandbox/v1/directory"}}}
	h.opts = opts
	h.newSync()
	return h, nil
}

// newSync builds a sync engine and its scheduler with nothing in memory, as a start of herolink
// would.
func (h *herolinkUnderTest) newSync() {
	opts := h.opts
	h.engine = &slotsync.Engine{Store: h.store, Conns: h.practices, SlotConcurrency: opts.SlotConcurrency, ActiveTypes: slotsync.StoredActiveTypes(h.store),
		OnChange: opts.OnChange, ReadTimeout: opts.ReadTimeout}
	h.newScheduler()
}

// newScheduler builds a scheduler for the engine, its metrics from zero: every practice's
// first pass is spread over one interval.
func (h *herolinkUnderTest) newScheduler() {
	opts := h.opts
	h.sched = &slotsync.Scheduler{Engine: h.engine, Store: h.store, HorizonDays: opts.HorizonDays,
		FullInterval: opts.FullInterval, NearInterval: opts.NearInterval, Concurrency: opts.SyncConcurrency}
	h.registry = prometheus.NewRegistry()
	h.sched.Metrics = slotsync.NewMetrics(h.registry, h.sched)
	h.engine.Calls = h.sched.Metrics.CountCall
}

// spreadSlotReads dates every session's last slot read a random time before now, uniform over
// the part of its rolling refresh age before it is nearly due (slotsync.NearlyDue: three
// quarters of the engine's defaults, near-term sessions, today to nearEnd, 15 minutes; later
// ones 2 hours). That is about how they lie in
// steady operation: a session is refreshed once its slots are older than its age, or from three
// quarters of it when a pass reads slots anyway (the engine's "nearly due"), which with
// reception's changes comes within a minute or so. From now on refreshes fall due at about the
// steady rate, a little above it (the refreshes brought forward come at once, where steady
// operation waits for a pass that reads slots). Setting the column moves no diary version
// (migrations 0027 and 0033), so the engine must forget its copies after
// (Engine.ForgetStoredCopies). It returns how many sessions it dated.
func (h *herolinkUnderTest) spreadSlotReads(ctx context.Context, now time.Time, nearEnd string) (int64, error) {
	random := "(abs(random()) % ?)" // SQLite: random() is a 64-bit integer
	nearMS, farMS := slotsync.NearlyDue(slotsync.DefaultRefreshNear).Milliseconds(), slotsync.NearlyDue(slotsync.DefaultRefreshFar).Milliseconds()
	var nearAge, farAge any = nearMS, farMS
	if h.store.Dialect() == store.Postgres {
		random = "floor(random() * ?)::bigint"
		nearAge, farAge = float64(nearMS), float64(farMS)
	}
	res, err := h.store.DBQ().ExecContext(ctx, `UPDATE diary_sessions SET slots_synced_at = ? - CASE WHEN date <= ? THEN `+random+` ELSE `+random+` END
		WHERE slots_synced_at IS NOT NULL`, now.UnixMilli(), nearEnd, nearAge, farAge)
	if err != nil {
		return 0, fmt.Errorf("date the slot reads as in steady operation: %w", err)
	}
	return res.RowsAffected()
}

func (h *herolinkUnderTest) close() {
	if h.transport != nil {
		h.transport.CloseIdleConnections()
	}
	if h.store != nil {
		_ = h.store.Close()
	}
	if h.dropDB != nil {
		h.dropDB()
	}
	if h.dir != "" {
		_ = os.RemoveAll(h.dir)
	}
}

// generatedPractice is one of the sandbox's generated practices as herolink knows it.
type generatedPractice struct {
	ID  int64 // herolink's practice id
	CDB int
}

// connectGenerated connects generated practices 1..n the way a successful connection form
// would leave them (practice, sealed API password, active connection), without running the
// connection test: that is the form's job, and n of them would dominate the benchmark.
func (h *herolinkUnderTest) connectGenerated(ctx context.Context, n int, names map[int]string) ([]generatedPractice, error) {
	out := make([]generatedPractice, 0, n)
	for i := 1; i <= n; i++ {
		ods, cdb := sandbox.GeneratedODS(i), sandbox.GeneratedCDB(i)
		name := names[cdb]
		if name == "" {
			name = "Generated practice " + ods
		}
		p, err := h.store.EnsurePractice(ctx, ods, cdb, name)
		if err != nil {
			return nil, err
		}
		keyID, sealed, err := h.vault.Seal([]byte(sandbox.GeneratedAPIPassword(i)), practice.PasswordPurpose)
		if err != nil {
			return nil, err
		}
		_, err = h.store.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: "Herouser",
			PasswordSealed: sealed, KeyID: keyID, ConnectedBy: "bench", Checklist: "[]", NextCheck: time.Now().Add(time.Hour)},
			store.AuditEntry{Actor: "bench", Action: "connection.created", Detail: "ODS " + ods + ", EMIS user Herouser; connection test skipped by herolink bench sync"})
		if err != nil && !errors.Is(err, store.ErrConnectionChanged) {
			return nil, fmt.Errorf("connect %s: %w", ods, err)
		}
		out = append(out, generatedPractice{ID: p.ID, CDB: cdb})
	}
	return out, nil
}

// passCounts reads the scheduler's pass counter from its registry: passes by "kind/result"
// (full/ok, near/error...), and the total seconds and count of passes by kind ("full", "near").
type passStats struct {
	Passes   map[string]float64 // "full/ok" -> count
	Seconds  map[string]float64 // "full" -> sum of pass durations
	Observed map[string]float64 // "full" -> passes timed
}

func (h *herolinkUnderTest) passStats() (passStats, error) {
	ps := passStats{Passes: map[string]float64{}, Seconds: map[string]float64{}, Observed: map[string]float64{}}
	mfs, err := h.registry.Gather()
	if err != nil {
		return ps, err
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "herolink_sync_passes_total":
			for _, m := range mf.GetMetric() {
				ps.Passes[label(m.GetLabel(), "kind")+"/"+label(m.GetLabel(), "result")] += m.GetCounter().GetValue()
			}
		case "herolink_sync_passes_remembered_total":
			for _, m := range mf.GetMetric() {
				ps.Passes[label(m.GetLabel(), "kind")+"/remembered"] += m.GetCounter().GetValue()
			}
		case "herolink_sync_passes_stored_from_copy_total":
			for _, m := range mf.GetMetric() {
				ps.Passes[label(m.GetLabel(), "kind")+"/from_copy"] += m.GetCounter().GetValue()
			}
		case "herolink_sync_refreshes_total":
			for _, m := range mf.GetMetric() {
				ps.Passes["refresh/"+label(m.GetLabel(), "how")] += m.GetCounter().GetValue()
			}
		case "herolink_sync_pass_duration_seconds":
			for _, m := range mf.GetMetric() {
				k := label(m.GetLabel(), "kind")
				ps.Seconds[k] += m.GetHistogram().GetSampleSum()
				ps.Observed[k] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return ps, nil
}

func label[L interface {
	GetName() string
	GetValue() string
}](labels []L, name string) string {
	for _, l := range labels {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// minus is the difference of two readings.
func (p passStats) minus(q passStats) passStats {
	out := passStats{Passes: map[string]float64{}, Seconds: map[string]float64{}, Observed: map[string]float64{}}
	for k, v := range p.Passes {
		out.Passes[k] = v - q.Passes[k]
	}
	for k, v := range p.Seconds {
		out.Seconds[k] = v - q.Seconds[k]
	}
	for k, v := range p.Observed {
		out.Observed[k] = v - q.Observed[k]
	}
	return out
}

// meanSeconds is the mean duration of the passes of a kind; 0 if none.
func (p passStats) meanSeconds(kind string) float64 {
	if p.Observed[kind] == 0 {
		return 0
	}
	return p.Seconds[kind] / p.Observed[kind]
}

// storeReads is how many complete passes read the practice's stored sessions from the store:
// neither remembered nor served from the engine's copy.
func (p passStats) storeReads() float64 {
	var n float64
	for _, kind := range []string{"full", "near"} {
		n += p.Passes[kind+"/ok"] - p.Passes[kind+"/remembered"] - p.Passes[kind+"/from_copy"]
	}
	return n
}
