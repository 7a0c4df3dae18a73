package apikey

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"herolink/internal/store"
)

// slowDatabase answers key reads only when let go, counting them and the uses recorded.
type slowDatabase struct {
	reads   atomic.Int32
	touches atomic.Int32
	gate    chan struct{}
	release func() // lets every read answer; deferred, so a failed test still ends its requests
	now     time.Time
}

func (d *slowDatabase) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	d.reads.Add(1)
	select {
	case <-d.gate:
	case <-ctx.Done():
		return store.APIKey{}, ctx.Err()
	}
	// Last used two minutes ago: this use is to be recorded, once.
	return store.APIKey{ID: "key_1", PracticeGroupID: "grp_1", Scopes: ScopeBooking, KeyHash: hash, LastUsedAt: d.now.Add(-2 * time.Minute)}, nil
}

func (d *slowDatabase) TouchAPIKey(context.Context, string, time.Time) error {
	d.touches.Add(1)
	return nil
}

func newSlowService() (*Service, *slowDatabase) {
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	d := &slowDatabase{gate: make(chan struct{}), now: now}
	d.release = sync.OnceFunc(func() { close(d.gate) })
	return &Service{Now: func() time.Time { return now }, rows: d}, d
}

// authenticateAll starts n requests with the secret and returns a wait for their answers.
func authenticateAll(ctx context.Context, s *Service, n int) func() []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, err := s.Authenticate(ctx, "hl_live_secret")
			if err == nil && k.ID != "key_1" {
				err = ErrUnknownKey
			}
			errs[i] = err
		})
	}
	return func() []error { wg.Wait(); return errs }
}

func TestABurstArrivingAsTheKeysCacheEntryExpiresReadsTheKeyAndRecordsItsUseOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, db := newSlowService()
		defer db.release()
		wait := authenticateAll(context.Background(), s, 200)
		synctest.Wait() // every request is waiting for the database or for the one read
		if n := db.reads.Load(); n != 1 {
			t.Fatalf("200 requests with one key read it %d times, want once", n)
		}
		db.release()
		for i, err := range wait() {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if n := db.touches.Load(); n != 1 {
			t.Fatalf("200 requests sharing one read recorded the key's use %d times, want once", n)
		}
		// And the key is cached for the next ones.
		if _, err := s.Authenticate(context.Background(), "hl_live_secret"); err != nil || db.reads.Load() != 1 || db.touches.Load() != 1 {
			t.Fatalf("after the burst: %v, %d reads, %d uses recorded", err, db.reads.Load(), db.touches.Load())
		}
	})
}

func TestTheRequestThatBeganAKeysReadGoingAwayDoesNotFailTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, db := newSlowService()
		defer db.release()
		first, leave := context.WithCancel(context.Background())
		waitFirst := authenticateAll(first, s, 1)
		synctest.Wait()
		waitOthers := authenticateAll(context.Background(), s, 20)
		synctest.Wait()
		leave() // the first partner request is abandoned while its read is in flight
		synctest.Wait()
		db.release()
		for i, err := range waitOthers() {
			if err != nil {
				t.Fatalf("request %d, waiting for the abandoned one's read: %v", i, err)
			}
		}
		waitFirst()
		if n := db.reads.Load(); n != 1 {
			t.Fatalf("%d reads, want 1", n)
		}
	})
}

func TestARequestAfterARevocationDoesNotJoinAReadBegunBeforeIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, db := newSlowService()
		defer db.release()
		before := authenticateAll(context.Background(), s, 1)
		synctest.Wait()
		s.ForgetAll() // another instance revoked or rotated a key
		after := authenticateAll(context.Background(), s, 1)
		synctest.Wait()
		if n := db.reads.Load(); n != 2 {
			t.Fatalf("a request after the revocation made %d reads in all, want its own (2)", n)
		}
		db.release()
		before()
		after()
	})
}
