package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// A batch that waited and gathered nobody makes the next lonely batches run at once: a single
// practice's passes, or a test's one after another, do not each wait the window. The batch
// after them waits again, and a batch that gathered company keeps the next one waiting.
func TestBatchesRunAtOnceAfterOneThatWaitedAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window = 50 * time.Millisecond
		g := gatherer[int64, int64]{window: window, lonely: 2}
		echo := func(_ context.Context, ids []int64) ([]int64, error) { return ids, nil }
		took := func() time.Duration {
			began := time.Now()
			if v, err := g.do(context.Background(), 1, echo); err != nil || v != 1 {
				t.Fatalf("call: %d, %v", v, err)
			}
			return time.Since(began)
		}
		for i, want := range []time.Duration{window, 0, 0, window, 0} {
			if got := took(); got != want {
				t.Errorf("call %d alone waited %v; want %v", i, got, want)
			}
		}
		took() // the last lonely batch: the next one waits
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { took() })
		}
		wg.Wait()
		if got := took(); got != window {
			t.Errorf("a call after a batch of two waited %v; want the window, %v", got, window)
		}
	})
}

// A pass joins others' transaction only when it is small: a first sync's goes alone.
func TestOnlySmallPassesJoinOthersWrites(t *testing.T) {
	rows := func(n int) []SlotRow { return make([]SlotRow, n) }
	for _, c := range []struct {
		name string
		d    DiaryDiff
		want bool
	}{
		{"nothing", DiaryDiff{}, true},
		{"a session's slots", DiaryDiff{Slots: map[int64][]SlotRow{1: rows(40)}}, true},
		{"as many rows as may join", DiaryDiff{Upsert: make([]SessionRow, 6), Remove: []int64{7, 8}, Confirmed: make([]int64, 8),
			Slots: map[int64][]SlotRow{1: rows(120), 2: rows(120)}}, true},
		{"one row more", DiaryDiff{Upsert: make([]SessionRow, 7), Remove: []int64{7, 8}, Confirmed: make([]int64, 8),
			Slots: map[int64][]SlotRow{1: rows(120), 2: rows(120)}}, false},
		{"a first sync", func() DiaryDiff {
			d := DiaryDiff{Upsert: make([]SessionRow, 20), Slots: map[int64][]SlotRow{}}
			for i := range 20 {
				d.Slots[int64(i)] = rows(30)
			}
			return d
		}(), false},
		{"many sessions' slots", DiaryDiff{Slots: map[int64][]SlotRow{1: rows(200), 2: rows(200), 3: rows(200)}}, false},
		{"a prune of past days", DiaryDiff{PruneBefore: "2026-12-06", Slots: map[int64][]SlotRow{1: rows(40)}}, false},
	} {
		if got := c.d.joinsWrites(); got != c.want {
			t.Errorf("%s: joins others %v; want %v", c.name, got, c.want)
		}
	}
}
