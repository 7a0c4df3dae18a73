// Package app wires herolink together from a Config: storage, the vault, the EMIS client,
// the practice service, durable jobs and the HTTP server. cmd/herolink and tests use it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"herolink/internal/api/apikey"
	"herolink/internal/booking"
	"herolink/internal/bookinglink"
	"herolink/internal/emis"
	"herolink/internal/jobs"
	"herolink/internal/mapping"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/vault"
	"herolink/internal/web"
	"herolink/internal/webhook"
)

// Config is everything herolink needs to run. Zero values take the documented defaults.
type Config struct {
	DataDir         string        // holds herolink.db and secret.keys; created 0700 if missing
	DatabaseURL     string        // postgres://...; empty: SQLite at DataDir/herolink.db
	Addr            string        // HTTP listen address
	EMISURL         string        // base URL of EMIS's Partner API (the sandbox's in demo)
	DirectoryURL    string        // ODS -> CDB directory; EMISURL/sandbox/v1/directory if empty
	SupplierID      string        // Hero Health's supplier id issued by EMIS
	EMISCallTimeout time.Duration // per Partner API call; 30 s if zero
	HealthInterval  time.Duration // connection health checks; 5 minutes if zero
	SweepInterval   time.Duration // how often due health checks are enqueued; 30 s if zero
	SecureCookies   bool          // set Secure on session cookies (behind HTTPS)
	SandboxURL      string        // shown in pages when running the demo
	PublicURL       string        // where patients reach herolink; booking link URLs start with it (http://Addr if empty)
	Log             *slog.Logger

	SyncHorizonDays  int           // days of diary kept fresh; 14 if zero, at most 56
	SyncFullInterval time.Duration // whole horizon per practice; 45 s if zero
	SyncNearInterval time.Duration // the next three working days; half SyncFullInterval if zero
	SyncConcurrency  int           // sync passes in flight; 32 if zero
	// InstanceID names this process among the instances sharing the database (sync leases,
	// /metrics); a fresh host-pid-random id if empty.
	InstanceID string
	// CachePollInterval is how often this instance looks for changes other instances made
	// that its caches must drop (revoked API keys, replaced credentials); 250 ms if zero.
	CachePollInterval time.Duration

	APIRateLimit float64 // partner API requests per second per key, sustained; 20 if zero
	APIBurst     int     // partner API requests per key at once; 40 if zero

	HoldDuration         time.Duration // overrides every practice's hold length (15 minutes by default) when set
	BookingSweepInterval time.Duration // expire holds, re-enqueue stalled write-backs, follow EMIS changes; 10 s if zero
	WritebackWorkers     int           // write-back jobs in flight; 64 if zero (they mostly wait on EMIS)
	BookingAlertAfter    time.Duration // alert staff when a booking waits this long for EMIS; 5 minutes if zero

	// WebhookAllowHTTPLoopback lets webhook endpoints use plain http to this machine (demo,
	// tests); WebhookAllowPrivate lets deliveries reach private network addresses.
	WebhookAllowHTTPLoopback bool
	WebhookAllowPrivate      bool
	// Webhook tunes delivery (retry schedule, timeouts; tests); its Network is set from the
	// two fields above.
	Webhook webhook.Config

	// OrphanWatchInterval is how often every instance looks for write-backs whose worker died
	// (their lease lapsed); 2 s if zero.
	OrphanWatchInterval time.Duration
}

// App is a running herolink.
type App struct {
	cfg       Config
	log       *slog.Logger
	Store     *store.Store
	Vault     *vault.Keyring
	Practices *practice.Service
	Sessions  *staff.Sessions
	Keys      *apikey.Service
	Booking   *booking.Service
	Mapping   *mapping.Service
	Webhooks  *webhook.Service
	River     jobs.Queue
	Sync      *slotsync.Scheduler
	Metrics   *prometheus.Registry
	Handler   http.Handler

	caches *cacheWatch
	links  *bookinglink.Service
}

// emisIdleConns keeps a connection to EMIS open for every call herolink can have in flight:
// the sync's slot reads, the write-backs, and a few more for connection tests, health checks
// and staff actions. Fewer, and every call beyond them opens a new connection.
func emisIdleConns(cfg Config) int {
	return slotsync.CallsInFlight(cfg.SyncConcurrency, 0) + cfg.WritebackWorkers + 16
}

// New opens storage (running migrations), loads the vault keys and builds the services. It
// starts nothing: Run does.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("app: a data directory is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data directory: %w", err)
	}
	if cfg.EMISURL == "" {
		return nil, errors.New("app: the EMIS URL is required (--emis-url or HEROLINK_EMIS_URL)")
	}
	if cfg.DirectoryURL == "" {
		cfg.DirectoryURL = strings.TrimRight(cfg.EMISURL, "/") + "/sandbox/v1/directory"
	}
	if cfg.SyncHorizonDays < 0 || cfg.SyncHorizonDays > 56 {
		return nil, fmt.Errorf("app: the sync horizon must be between 1 and 56 days, not %d", cfg.SyncHorizonDays)
	}
	switch {
	case cfg.APIRateLimit < 0 || cfg.APIBurst < 0:
		return nil, fmt.Errorf("app: the API rate limit and burst must be positive, not %v and %d", cfg.APIRateLimit, cfg.APIBurst)
	case cfg.WritebackWorkers < 0:
		return nil, fmt.Errorf("app: the write-back workers must be at least 1, not %d", cfg.WritebackWorkers)
	case cfg.BookingAlertAfter < 0 || cfg.HoldDuration < 0:
		return nil, errors.New("app: the booking alert delay and the hold duration cannot be negative")
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 5 * time.Minute
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 30 * time.Second
	}
	keys, err := vault.Load(filepath.Join(cfg.DataDir, "secret.keys"))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.WritebackWorkers <= 0 {
		cfg.WritebackWorkers = 64
	}
	caller, err := emis.NewCaller(emis.Config{BaseURL: cfg.EMISURL, SupplierID: cfg.SupplierID,
		CallTimeout: cfg.EMISCallTimeout, Logger: cfg.Log.With("component", "emis"), IdleConns: emisIdleConns(cfg)})
	if err != nil {
		st.Close()
		return nil, err
	}
	svc := &practice.Service{Store: st, Vault: keys, Log: cfg.Log.With("component", "practice"), HealthInterval: cfg.HealthInterval,
		Tester: &practice.Tester{Directory: &practice.HTTPDirectory{BaseURL: cfg.DirectoryURL}, Caller: caller}}

	if cfg.BookingSweepInterval <= 0 {
		cfg.BookingSweepInterval = 10 * time.Second
	}
	if cfg.OrphanWatchInterval <= 0 {
		cfg.OrphanWatchInterval = 2 * time.Second
	}
	bookings := &booking.Service{Store: st, Conns: svc, Log: cfg.Log.With("component", "booking"),
		HoldDuration: cfg.HoldDuration, AlertAfter: cfg.BookingAlertAfter}
	bookings.SyncHorizonDays = cfg.SyncHorizonDays

	workers := river.NewWorkers()
	practice.AddWorkers(workers, svc)
	booking.AddWorkers(workers, bookings)
	// Every live booking is read back from EMIS within one full sync interval (issue 9).
	booking.AddVerifyWorker(workers, &booking.Verifier{Service: bookings, Every: verifyEvery(cfg)})
	river.AddWorker(workers, &purgeWorker{store: st})
	whcfg := cfg.Webhook
	whcfg.Network = webhook.Network{AllowHTTPLoopback: cfg.WebhookAllowHTTPLoopback, AllowPrivate: cfg.WebhookAllowPrivate}
	hooks := webhook.New(st, keys, cfg.Log.With("component", "webhook"), whcfg)
	webhook.AddWorkers(workers, hooks)
	rc, err := jobs.New(st, &river.Config{
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4},
			booking.WritebackQueue: {MaxWorkers: cfg.WritebackWorkers}, webhook.DeliveryQueue: {MaxWorkers: 16}},
		Workers:           workers,
		PeriodicJobs:      []*river.PeriodicJob{practice.HealthSweepJob(cfg.SweepInterval), booking.SweepJob(cfg.BookingSweepInterval), purgeJob(), booking.VerifyJob(cfg.BookingSweepInterval)},
		FetchPollInterval: 200 * time.Millisecond, // SQLite has no LISTEN: poll often so bookings reach EMIS quickly (PostgreSQL is told at once)
		// A job left running by a killed process is retried after this long (River's default
		// is an hour; River also waits for a kind's own Timeout, 45 s for write-backs). The
		// write-backs do not wait for it: one whose lease lapsed (12 s without renewal) gets a
		// new job from the next orphan watch on any instance (booking/takeover.go, Run).
		JobTimeout:           30 * time.Second,
		RescueStuckJobsAfter: 45 * time.Second,
		Logger:               slog.New(atLeast{cfg.Log.Handler(), slog.LevelWarn}).With("component", "river"),
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("app: river: %w", err)
	}
	bookings.River = rc
	hooks.Queue = rc
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(placeholderMetrics{store: st, now: time.Now})
	if cfg.InstanceID == "" {
		cfg.InstanceID = slotsync.NewInstanceID()
	}
	// Instances on one database split the practices by lease (slotsync/lease.go).
	leases := &slotsync.Leases{Store: st, Instance: cfg.InstanceID}
	engine := &slotsync.Engine{Store: st, Conns: svc, ActiveTypes: slotsync.StoredActiveTypes(st), Log: cfg.Log.With("component", "sync"), Leases: leases}
	sched := &slotsync.Scheduler{Engine: engine, Store: st, Log: cfg.Log.With("component", "sync"),
		HorizonDays: cfg.SyncHorizonDays, FullInterval: cfg.SyncFullInterval, NearInterval: cfg.SyncNearInterval,
		Concurrency: cfg.SyncConcurrency, Leases: leases}
	sched.Metrics = slotsync.NewMetrics(reg, sched)
	engine.Calls = sched.Metrics.CountCall
	mappings := &mapping.Service{Store: st, Conns: svc, Log: cfg.Log.With("component", "mapping"), OnChange: sched.SyncNow}
	svc.OnConnected = func(ctx context.Context, practiceID int64) {
		// Read the practice's sites, holders and slot types now, so mapping can start at once,
		// and copy its diary without waiting for the scheduler's next round.
		rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := mappings.RefreshFromEMIS(rctx, "herolink", practiceID); err != nil {
			cfg.Log.Warn("read EMIS configuration after connecting", "practice", practiceID, "err", err)
		}
		sched.SyncNow(practiceID)
	}

	sessions := &staff.Sessions{Store: st}
	apiKeys := &apikey.Service{Store: st, Log: cfg.Log.With("component", "apikey")}
	a := &App{cfg: cfg, log: cfg.Log, Store: st, Vault: keys, Practices: svc, Sessions: sessions, Keys: apiKeys, Booking: bookings, Mapping: mappings, Webhooks: hooks, River: rc, Sync: sched, Metrics: reg}
	// Staff sessions and the mapping are read from the database on every use: only these
	// two caches need telling about other instances' changes.
	a.caches = &cacheWatch{store: st, every: cfg.CachePollInterval, log: cfg.Log.With("component", "caches"),
		drop: map[string]func(context.Context) error{
			store.CacheAPIKeys:     func(context.Context) error { apiKeys.ForgetAll(); return nil },
			store.CacheConnections: svc.DropStaleConns,
		}}
	if a.caches.every <= 0 {
		a.caches.every = 250 * time.Millisecond
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	links := &bookinglink.Service{Store: st, Booking: bookings, BaseURL: publicURL(cfg), Log: cfg.Log.With("component", "bookinglink")}
	a.links = links
	partner := partnerAPI(cfg, st, apiKeys, bookings, hooks, links)
	mux.Handle("/v1/", partner)
	mux.Handle("/openapi.json", partner)
	explain := &slotsync.Explainer{Store: st, Conns: svc, ActiveTypes: slotsync.StoredActiveTypes(st)}
	explain.HorizonDays = cfg.SyncHorizonDays
	mux.Handle("/", web.New(web.Config{Store: st, Practices: svc, Mapping: mappings, Explain: explain, Sessions: sessions, Booking: bookings, APIKeys: apiKeys, Webhooks: hooks, BookingLinks: links, Log: cfg.Log.With("component", "web"),
		SecureCookies: cfg.SecureCookies, SandboxURL: cfg.SandboxURL}))
	a.Handler = partnerFirst(partner, mux)
	return a, nil
}

// Run serves HTTP on ln and runs the job workers until ctx ends, then stops both gracefully
// (in-flight requests and jobs get 10 seconds) and closes the database.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	defer a.Store.Close()
	if a.cfg.PublicURL == "" {
		// Links made from now on name the address actually listened on (a port chosen by
		// the system, say), not the configured one.
		a.links.SetListenURL("http://" + ln.Addr().String())
	}
	if err := a.River.Start(ctx); err != nil {
		return fmt.Errorf("app: start jobs: %w", err)
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = a.Sync.Run(syncCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.caches.run(syncCtx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Booking.WatchOrphans(syncCtx, a.cfg.OrphanWatchInterval)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Webhooks.RunFanOut(syncCtx) // every instance; they never make a delivery twice
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopSync()
	if serr := srv.Shutdown(stopCtx); serr != nil && err == nil {
		err = serr
	}
	if rerr := a.River.Stop(stopCtx); rerr != nil && err == nil {
		err = rerr
	}
	wg.Wait()
	return err
}

// atLeast drops records below a level: River reports its job counts at INFO every few seconds,
// which buries herolink's own lines; its warnings and errors still come through.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(as), h.min}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.min}
}
