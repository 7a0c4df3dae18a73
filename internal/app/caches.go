package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"herolink/internal/store"
)

// cacheWatch keeps this instance's in-memory caches true to changes other instances make:
// it polls the cache_versions table (a few rows) and, for each scope whose version moved,
// drops what that scope covers. Polling rather than LISTEN/NOTIFY: it works the same on
// SQLite and PostgreSQL, needs no connection held open, cannot miss a notification sent
// while reconnecting, and a 250 ms poll of a three-row table costs the database nothing.
type cacheWatch struct {
	store *store.Store
	every time.Duration
	log   *slog.Logger
	drop  map[string]func(context.Context) error

	mu   sync.Mutex       // one poll at a time (Run's and a test's)
	seen map[string]int64 // nil until the first poll, which drops everything
}

// poll reads the versions once and drops what moved since the last poll.
func (w *cacheWatch) poll(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := w.store.CacheVersions(ctx)
	if err != nil {
		return err
	}
	first := w.seen == nil
	for scope, drop := range w.drop {
		if !first && v[scope] == w.seen[scope] {
			continue
		}
		// The first poll drops everything: what was cached before it ran has no version
		// to compare with.
		if err := drop(ctx); err != nil {
			return err // not recorded as seen: tried again at the next poll
		}
		if w.seen == nil {
			w.seen = map[string]int64{}
		}
		w.seen[scope] = v[scope]
	}
	return nil
}

// run polls until ctx ends.
func (w *cacheWatch) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		if err := w.poll(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("cache versions: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PollCaches drops whatever other instances changed since the last poll, at once: tests drive
// the poller by hand with it; Run polls every CachePollInterval.
func (a *App) PollCaches(ctx context.Context) error { return a.caches.poll(ctx) }
