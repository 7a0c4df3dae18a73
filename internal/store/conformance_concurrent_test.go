package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"herolink/internal/store/storetest"
)

// Guarantees under concurrency, where PostgreSQL runs transactions at once (SQLite's single
// writer serialises them): each test here has a deterministic sibling that runs on both engines.

// Two requests with one Idempotency-Key arriving together: exactly one runs, the other is told
// the first is under way; neither fails.
func TestConcurrentRequestsWithOneIdempotencyKeyRunOnce(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	p := newPractice(t, st, "A81001")
	must(t, st.CreateAPIKey(ctx, apiKey(p.PracticeGroupID, "key1"), auditOf("k")))
	for round := range 5 {
		key := "idem-" + string(rune('a'+round))
		const n = 8
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		started, errs := 0, []error{}
		for range n {
			wg.Go(func() {
				<-start
				_, ok, err := st.BeginIdempotent(ctx, "key1", key, "req", time.Minute, time.Hour)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					started++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if started != 1 || len(errs) != 0 {
			t.Fatalf("%d concurrent requests with one key: %d ran, errors %v; want exactly one run, no error", n, started, errs)
		}
	}
}
