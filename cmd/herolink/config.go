package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
)

// serverFlags are the settings serve and demo share. Every flag has a HEROLINK_* environment
// variable; a flag given on the command line wins.
type serverFlags struct {
	addr, dataDir, databaseURL, emisURL, directoryURL, supplierID, logLevel, publicURL string
	healthInterval, emisTimeout                                                        time.Duration
	secureCookies                                                                      bool
	syncHorizonDays, syncConcurrency                                                   int
	syncFull, syncNear                                                                 time.Duration
	apiRate, apiBurst, writebackWorkers                                                int
	bookingAlertAfter                                                                  time.Duration
	webhookHTTPLoopback, webhookPrivate                                                bool
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			envErrors = append(envErrors, fmt.Errorf("%s=%q is not a whole number", name, v))
			return def
		}
		return n
	}
	return def
}

// checkEnv reports the environment values that did not parse.
func checkEnv() error {
	if len(envErrors) == 0 {
		return nil
	}
	return errors.Join(envErrors...)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envErrors collects HEROLINK_* values that do not parse: the command refuses to start rather
// than silently use a default the operator did not ask for.
var envErrors []error

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			envErrors = append(envErrors, fmt.Errorf("%s=%q is not a duration such as 30s or 5m", name, v))
			return def
		}
		return d
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			envErrors = append(envErrors, fmt.Errorf("%s=%q is not true or false", name, v))
			return def
		}
		return b
	}
	return def
}

func (f *serverFlags) register(fs *flag.FlagSet, defaultAddr, defaultDataDir string, secure bool) {
	fs.StringVar(&f.addr, "addr", env("HEROLINK_ADDR", defaultAddr), "HTTP listen address (HEROLINK_ADDR)")
	fs.StringVar(&f.dataDir, "data-dir", env("HEROLINK_DATA_DIR", defaultDataDir), "directory for the database and the key file (HEROLINK_DATA_DIR)")
	fs.StringVar(&f.databaseURL, "database-url", env("HEROLINK_DATABASE_URL", ""), "postgres://user:password@host:port/db to run on PostgreSQL; empty: SQLite in the data directory (HEROLINK_DATABASE_URL)")
	fs.StringVar(&f.emisURL, "emis-url", env("HEROLINK_EMIS_URL", ""), "base URL of the EMIS Partner API (HEROLINK_EMIS_URL)")
	fs.StringVar(&f.directoryURL, "directory-url", env("HEROLINK_DIRECTORY_URL", ""), "ODS to CDB directory; default EMIS_URL/sandbox/v1/directory (HEROLINK_DIRECTORY_URL)")
	fs.StringVar(&f.supplierID, "supplier-id", env("HEROLINK_SUPPLIER_ID", sandbox.DefaultSupplierID), "Hero Health's supplier id issued by EMIS (HEROLINK_SUPPLIER_ID)")
	fs.DurationVar(&f.healthInterval, "health-interval", envDuration("HEROLINK_HEALTH_INTERVAL", 5*time.Minute), "connection health check interval (HEROLINK_HEALTH_INTERVAL)")
	fs.DurationVar(&f.emisTimeout, "emis-timeout", envDuration("HEROLINK_EMIS_TIMEOUT", 30*time.Second), "timeout of one EMIS call (HEROLINK_EMIS_TIMEOUT)")
	fs.BoolVar(&f.secureCookies, "secure-cookies", envBool("HEROLINK_SECURE_COOKIES", secure), "mark session cookies Secure: serve behind HTTPS (HEROLINK_SECURE_COOKIES)")
	fs.IntVar(&f.syncHorizonDays, "sync-horizon-days", envInt("HEROLINK_SYNC_HORIZON_DAYS", 14), "days of each diary kept fresh, up to 56 (HEROLINK_SYNC_HORIZON_DAYS)")
	fs.DurationVar(&f.syncFull, "sync-full-interval", envDuration("HEROLINK_SYNC_FULL_INTERVAL", 45*time.Second), "how often each practice's whole horizon is synced (HEROLINK_SYNC_FULL_INTERVAL)")
	fs.DurationVar(&f.syncNear, "sync-near-interval", envDuration("HEROLINK_SYNC_NEAR_INTERVAL", 0), "how often the next three working days are synced between full passes; 0: half the full interval (HEROLINK_SYNC_NEAR_INTERVAL)")
	fs.IntVar(&f.syncConcurrency, "sync-concurrency", envInt("HEROLINK_SYNC_CONCURRENCY", 32), "sync passes in flight across all practices (HEROLINK_SYNC_CONCURRENCY)")
	fs.IntVar(&f.apiRate, "api-rate-limit", envInt("HEROLINK_API_RATE_LIMIT", 20), "partner API requests per second per key, sustained (HEROLINK_API_RATE_LIMIT)")
	fs.IntVar(&f.apiBurst, "api-burst", envInt("HEROLINK_API_BURST", 40), "partner API requests per key at once (HEROLINK_API_BURST)")
	fs.IntVar(&f.writebackWorkers, "writeback-workers", envInt("HEROLINK_WRITEBACK_WORKERS", 64), "bookings written into EMIS at once (HEROLINK_WRITEBACK_WORKERS)")
	fs.DurationVar(&f.bookingAlertAfter, "booking-alert-after", envDuration("HEROLINK_BOOKING_ALERT_AFTER", 5*time.Minute), "alert staff when a booking has waited this long for EMIS (HEROLINK_BOOKING_ALERT_AFTER)")
	fs.BoolVar(&f.webhookHTTPLoopback, "webhook-allow-http-loopback", envBool("HEROLINK_WEBHOOK_ALLOW_HTTP_LOOPBACK", !secure), "let webhook endpoints use plain http to this machine (the demo allows it) (HEROLINK_WEBHOOK_ALLOW_HTTP_LOOPBACK)")
	fs.BoolVar(&f.webhookPrivate, "webhook-allow-private", envBool("HEROLINK_WEBHOOK_ALLOW_PRIVATE", false), "let webhooks be delivered to private network addresses (HEROLINK_WEBHOOK_ALLOW_PRIVATE)")
	fs.StringVar(&f.publicURL, "public-url", env("HEROLINK_PUBLIC_URL", ""), "where patients reach herolink: booking link URLs start with it; default http://ADDR (HEROLINK_PUBLIC_URL)")
	fs.StringVar(&f.logLevel, "log-level", env("HEROLINK_LOG_LEVEL", "info"), "debug, info, warn or error (HEROLINK_LOG_LEVEL)")
}

func (f *serverFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", f.logLevel, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

func (f *serverFlags) config(log *slog.Logger) app.Config {
	return app.Config{DataDir: f.dataDir, DatabaseURL: f.databaseURL, Addr: f.addr, EMISURL: f.emisURL, DirectoryURL: f.directoryURL,
		SupplierID: f.supplierID, HealthInterval: f.healthInterval, EMISCallTimeout: f.emisTimeout,
		SecureCookies: f.secureCookies, Log: log, SyncHorizonDays: f.syncHorizonDays, SyncFullInterval: f.syncFull,
		SyncNearInterval: f.syncNear, SyncConcurrency: f.syncConcurrency, APIRateLimit: float64(f.apiRate), APIBurst: f.apiBurst,
		WritebackWorkers: f.writebackWorkers, BookingAlertAfter: f.bookingAlertAfter,
		WebhookAllowHTTPLoopback: f.webhookHTTPLoopback, WebhookAllowPrivate: f.webhookPrivate, PublicURL: f.publicURL}
}
