package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Calls arriving together (sync passes reading their diary versions, or recording passes that
// found nothing new) are one batch; each gets its own answer, from a batch run after it asked.
func TestCallsArrivingTogetherAreOneBatchAndEachGetsItsOwnAnswer(t *testing.T) {
	g := gatherer[int64, int64]{window: 300 * time.Millisecond} // every goroutine joins, on a loaded machine too
	var batches atomic.Int64
	var asked sync.Map // call → when it was made
	run := func(_ context.Context, ids []int64) ([]int64, error) {
		batches.Add(1)
		began := time.Now()
		out := make([]int64, len(ids))
		for i, id := range ids {
			if at, _ := asked.Load(id); at.(time.Time).After(began) {
				t.Errorf("call %d made at %v, after its batch began at %v", id, at, began)
			}
			out[i] = id * 100
		}
		return out, nil
	}
	const n = 20
	var wg sync.WaitGroup
	for id := int64(1); id <= n; id++ {
		wg.Go(func() {
			asked.Store(id, time.Now())
			v, err := g.do(context.Background(), id, run)
			if err != nil || v != id*100 {
				t.Errorf("call %d: %d, %v; want %d", id, v, err, id*100)
			}
		})
	}
	wg.Wait()
	if b := batches.Load(); b > 2 {
		t.Errorf("%d calls made together ran in %d batches, want one or two", n, b)
	}

	// A failed batch fails every call in it; one answered for another number of calls too.
	boom := errors.New("database gone")
	if _, err := g.do(context.Background(), 7, func(context.Context, []int64) ([]int64, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("failed batch: %v", err)
	}
	if _, err := g.do(context.Background(), 7, func(context.Context, []int64) ([]int64, error) { return nil, nil }); err == nil {
		t.Error("a batch answered for no call was taken as an answer")
	}
}
