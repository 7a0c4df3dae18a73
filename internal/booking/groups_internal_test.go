package booking

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// queuedNow is how many requests wait in g's queue.
func queuedNow[In, Out any](g *groups[In, Out]) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// waitLeading yields until a group runs.
func waitLeading[In, Out any](t *testing.T, g *groups[In, Out]) {
	t.Helper()
	for i := 0; ; i++ {
		g.mu.Lock()
		n := g.leading
		g.mu.Unlock()
		if n > 0 {
			return
		}
		if i > 10_000_000 {
			t.Fatal("no group ran")
		}
		runtime.Gosched()
	}
}

// waitQueued yields until n requests are queued.
func waitQueued[In, Out any](t *testing.T, g *groups[In, Out], n int) {
	t.Helper()
	for i := 0; queuedNow(g) < n; i++ {
		if i > 10_000_000 {
			t.Fatalf("%d requests queued, want %d", queuedNow(g), n)
		}
		runtime.Gosched()
	}
}

func TestHoldsArrivingWhileAGroupRunsAreAnsweredTogetherByTheNext(t *testing.T) {
	var g groups[int, int]
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	r := grouped[int, int]{max: 1,
		all: func(_ context.Context, ins []int) ([]int, error) {
			mu.Lock()
			sizes = append(sizes, len(ins))
			mu.Unlock()
			out := make([]int, len(ins))
			for i, in := range ins {
				out[i] = in * 10
			}
			return out, nil
		},
		one: func(_ context.Context, in int) (int, error) {
			if in == 0 {
				<-release // the first request's group runs until the others are queued
			}
			return in * 10, nil
		}}
	ctx := context.Background()
	answers := make([]int, 11)
	var wg sync.WaitGroup
	wg.Go(func() { answers[0], _ = g.run(ctx, 0, r) })
	waitLeading(t, &g)
	for i := 1; i <= 10; i++ {
		wg.Go(func() { answers[i], _ = g.run(ctx, i, r) })
	}
	waitQueued(t, &g, 10)
	close(release)
	wg.Wait()
	for i, a := range answers {
		if a != i*10 {
			t.Errorf("request %d answered %d, want %d", i, a, i*10)
		}
	}
	if !slices.Equal(sizes, []int{10}) {
		t.Errorf("groups run together: %v, want one of 10 (the first ran alone)", sizes)
	}
	if g.leading != 0 || len(g.queue) != 0 {
		t.Errorf("after the last answer: %d leading, %d queued", g.leading, len(g.queue))
	}
}

func TestAGroupThatFailsAnswersEachHoldAloneSoOneRefusalRefusesNoOther(t *testing.T) {
	var g groups[int, int]
	release := make(chan struct{})
	errRefused := errors.New("slot taken")
	var groupsRun, alone atomic.Int32
	r := grouped[int, int]{max: 1,
		all: func(context.Context, []int) ([]int, error) {
			groupsRun.Add(1)
			return nil, errRefused // as a unique index refusing one slot fails the transaction
		},
		one: func(_ context.Context, in int) (int, error) {
			if in == 0 {
				<-release
				return 0, nil
			}
			alone.Add(1)
			if in == 3 {
				return 0, errRefused
			}
			return in, nil
		}}
	ctx := context.Background()
	errs := make([]error, 6)
	answers := make([]int, 6)
	var wg sync.WaitGroup
	wg.Go(func() { answers[0], errs[0] = g.run(ctx, 0, r) })
	waitLeading(t, &g)
	for i := 1; i <= 5; i++ {
		wg.Go(func() { answers[i], errs[i] = g.run(ctx, i, r) })
	}
	waitQueued(t, &g, 5)
	close(release)
	wg.Wait()
	if groupsRun.Load() != 1 || alone.Load() != 5 {
		t.Errorf("%d groups run and %d requests alone; want the failed group of 5 run again one by one", groupsRun.Load(), alone.Load())
	}
	for i := range 6 {
		switch {
		case i == 3 && !errors.Is(errs[i], errRefused):
			t.Errorf("request 3: %v, want its own refusal", errs[i])
		case i != 3 && (errs[i] != nil || answers[i] != i):
			t.Errorf("request %d: %d, %v; want %d and no error", i, answers[i], errs[i], i)
		}
	}
}

func TestAGroupRunsOnWhenTheRequestLeadingItIsCancelled(t *testing.T) {
	var g groups[int, int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := grouped[int, int]{max: 1,
		all: func(context.Context, []int) ([]int, error) { return nil, errors.New("unused") },
		one: func(ctx context.Context, in int) (int, error) { return in, ctx.Err() }}
	if got, err := g.run(ctx, 7, r); got != 7 || err != nil {
		t.Fatalf("a hold whose partner hung up: %d, %v; want it written all the same (7, nil)", got, err)
	}
}

// Property: under any interleaving of arrivals, failures and limits, every request is answered
// exactly once with its own answer, and the groups end with no leader and nothing queued.
func TestEveryRequestIsAnsweredOnceWithItsOwnAnswer(t *testing.T) {
	for round := range 30 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			var g groups[int, int]
			rng := rand.New(rand.NewPCG(uint64(round), 7))
			failEvery := 1 + rng.IntN(4)
			maxGroups := 1 + rng.IntN(3)
			var running, most atomic.Int32
			var groupCalls atomic.Int32
			answered := make([]atomic.Int32, 400)
			enter := func() {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				runtime.Gosched()
			}
			r := grouped[int, int]{max: maxGroups,
				all: func(_ context.Context, ins []int) ([]int, error) {
					enter()
					defer running.Add(-1)
					if groupCalls.Add(1)%int32(failEvery) == 0 {
						return nil, errors.New("group failed")
					}
					out := make([]int, len(ins))
					for i, in := range ins {
						answered[in].Add(1)
						out[i] = -in
					}
					return out, nil
				},
				one: func(_ context.Context, in int) (int, error) {
					enter()
					defer running.Add(-1)
					answered[in].Add(1)
					return -in, nil
				}}
			var wg sync.WaitGroup
			got := make([]int, len(answered))
			for i := range answered {
				wg.Go(func() {
					if i%3 == 0 {
						runtime.Gosched()
					}
					got[i], _ = g.run(context.Background(), i, r)
				})
			}
			wg.Wait()
			for i := range answered {
				if got[i] != -i || answered[i].Load() != 1 {
					t.Fatalf("request %d answered %d, written %d times; want %d, once", i, got[i], answered[i].Load(), -i)
				}
			}
			if most.Load() > int32(maxGroups) {
				t.Errorf("%d groups ran at once, at most %d allowed", most.Load(), maxGroups)
			}
			if g.leading != 0 || len(g.queue) != 0 || g.handed {
				t.Errorf("at rest: %d leading, %d queued, handed %v", g.leading, len(g.queue), g.handed)
			}
		})
	}
}

func TestATurnToLeadHandedToAHoldAnotherGroupAnswersIsTakenBack(t *testing.T) {
	var g groups[int, int]
	r := grouped[int, int]{max: 2,
		all: func(_ context.Context, ins []int) ([]int, error) { return slices.Clone(ins), nil },
		one: func(_ context.Context, in int) (int, error) { return in, nil }}
	// A group has just ended and named the first hold queued to lead the next; before that
	// hold wakes, a new hold finds a free turn and takes the queue, named hold and all.
	named := &queued[int, int]{in: 1, lead: make(chan struct{}, 1), done: make(chan struct{})}
	named.lead <- struct{}{}
	g.queue, g.handed, g.leading = []*queued[int, int]{named}, true, 1
	if got, err := g.run(context.Background(), 2, r); got != 2 || err != nil {
		t.Fatalf("the new hold: %d, %v", got, err)
	}
	select {
	case <-named.done:
	default:
		t.Fatal("the named hold was not answered by the group that took it")
	}
	if named.out != 1 || g.leading != 0 || g.handed {
		t.Errorf("named hold answered %d; at rest %d leading, handed %v; want 1, 0, false (a turn not taken back is lost for good)", named.out, g.leading, g.handed)
	}
}

// Each request of a failed group is run again alone told why the group failed, so that one
// whose group's COMMIT lost its answer can find out whether it was written.
func TestARequestOfAFailedGroupIsRunAgainToldTheGroupsError(t *testing.T) {
	var g groups[int, int]
	release := make(chan struct{})
	lost := errors.New("commit: connection reset")
	var told atomic.Int32
	r := grouped[int, int]{max: 1,
		all: func(context.Context, []int) ([]int, error) { return nil, lost },
		one: func(_ context.Context, in int) (int, error) {
			if in == 0 {
				<-release
			}
			return in, nil
		},
		again: func(_ context.Context, in int, groupErr error) (int, error) {
			if errors.Is(groupErr, lost) {
				told.Add(1)
			}
			return in, nil
		}}
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = g.run(ctx, 0, r) })
	waitLeading(t, &g)
	for i := 1; i <= 3; i++ {
		wg.Go(func() {
			if v, err := g.run(ctx, i, r); v != i || err != nil {
				t.Errorf("request %d: %d, %v", i, v, err)
			}
		})
	}
	waitQueued(t, &g, 3)
	close(release)
	wg.Wait()
	if n := told.Load(); n != 3 {
		t.Errorf("%d of the failed group's 3 requests were run again told its error", n)
	}
}
