package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Searches arriving together share counter reads, and every search gets a read that started
// after it arrived: never one already in flight, which could miss a commit made just before.
func TestConcurrentSearchesShareCounterReadsThatStartedAfterTheyArrived(t *testing.T) {
	var clock atomic.Int64 // orders arrivals and read starts
	var fetches atomic.Int64
	fetch := func(ctx context.Context, pid int64) (slotVersions, error) {
		fetches.Add(1)
		started := clock.Add(1)
		time.Sleep(time.Millisecond) // a round trip, during which others arrive
		return slotVersions{diary: started}, nil
	}
	var r counterReads
	const searches = 400
	var wg sync.WaitGroup
	errs := make(chan string, searches)
	for range searches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arrived := clock.Add(1)
			v, err := r.read(context.Background(), 7, fetch)
			if err != nil {
				errs <- err.Error()
				return
			}
			if v.diary <= arrived {
				errs <- "a search got a read that started before it arrived"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := fetches.Load(); n >= searches {
		t.Errorf("%d searches made %d reads: none was shared", searches, n)
	}
	// Every shared read has finished and handed on: the practice has none in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		idle := !r.m[7].running && r.m[7].next == nil
		r.mu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a read is still in flight after every search returned")
		}
		time.Sleep(time.Millisecond)
	}
}
