package booking

import (
	"context"
	"errors"
	"sync"
	"time"
)

// holdGroupsAtOnce is how many groups of holds may read, and how many commit, at once: two
// of the pool's connections (four on two cores, store.DefaultPoolSize), leaving the others
// to searches, the sync and confirmations.
const holdGroupsAtOnce = 2

// groupTimeout bounds one group's work. A group runs apart from any one request's context: a
// partner that hangs up must not fail the requests of others.
const groupTimeout = 15 * time.Second

// groups runs requests that arrive together as one group: one query or one transaction for a
// burst of holds instead of one each, each waiting for a connection of the pool.
//
// At most max groups run at once. A request that finds them all busy queues; when a group
// ends, the first request queued leads the next group, which takes every request queued by
// then. No request waits for a timer: alone, a request runs at once as a group of one. A group
// that fails (a slot taken on another instance, say, or a deadlock) is run again one request
// at a time, so that each gets its own answer and one request's refusal never refuses another.
type groups[In, Out any] struct {
	mu      sync.Mutex
	queue   []*queued[In, Out]
	leading int  // groups running, and leadership handed to a queued request
	handed  bool // leadership is handed to the first request queued, which has yet to take the queue
}

type queued[In, Out any] struct {
	in   In
	lead chan struct{} // its turn to lead the next group, sent once at most (buffered)
	done chan struct{} // closed when out and err are set
	out  Out
	err  error
}

// grouped is how a group runs: at most max at once (1 if less), all of them together, or one
// alone. again runs a request of a failed group alone, told the group's error (one if nil):
// an error that does not say the group wrote nothing (its COMMIT's answer lost) leaves it to
// find out whether the group wrote the request's part.
type grouped[In, Out any] struct {
	max   int
	all   func(context.Context, []In) ([]Out, error)
	one   func(context.Context, In) (Out, error)
	again func(context.Context, In, error) (Out, error)
}

// run answers in, in a group with the requests queued meanwhile.
func (g *groups[In, Out]) run(ctx context.Context, in In, r grouped[In, Out]) (Out, error) {
	q := &queued[In, Out]{in: in, lead: make(chan struct{}, 1), done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	leads := g.leading < max(r.max, 1)
	if leads {
		g.leading++
	}
	g.mu.Unlock()
	if !leads {
		// Waits for its answer or its turn to lead, whatever ctx says: once queued, a request
		// is answered by some group (a hold keeps its claim on the slot until then).
		select {
		case <-q.done:
			return q.out, q.err
		case <-q.lead:
		}
	}
	g.lead(ctx, r)
	<-q.done
	return q.out, q.err
}

// lead runs every request queued now as one group, then hands leadership to the first
// request queued meanwhile, unless it is already handed to one.
func (g *groups[In, Out]) lead(ctx context.Context, r grouped[In, Out]) {
	g.mu.Lock()
	group := g.queue
	g.queue = nil
	if g.handed {
		// The first request queued was named to lead, and this group answers it instead:
		// its turn is taken back unless it has already begun to lead (then this is it).
		g.handed = false
		select {
		case <-group[0].lead:
			g.leading--
		default:
		}
	}
	g.mu.Unlock()
	if len(group) > 0 {
		g.answer(ctx, group, r)
	}
	g.mu.Lock()
	if len(g.queue) > 0 && !g.handed {
		g.queue[0].lead <- struct{}{}
		g.handed = true
	} else {
		g.leading-- // no one to lead, or one already named who will take them all
	}
	g.mu.Unlock()
}

// answer runs the group and answers each of its requests.
func (g *groups[In, Out]) answer(ctx context.Context, group []*queued[In, Out], r grouped[In, Out]) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
	defer cancel()
	ins := make([]In, len(group))
	for i, q := range group {
		ins[i] = q.in
	}
	var out []Out
	var err error
	if len(group) > 1 {
		out, err = r.all(ctx, ins)
		if err == nil && len(out) != len(ins) {
			err = errors.New("booking: a group was answered for another number of requests")
		}
	}
	for i, q := range group {
		switch {
		case len(group) > 1 && err == nil:
			q.out = out[i]
		case len(group) > 1 && r.again != nil:
			q.out, q.err = r.again(ctx, q.in, err)
		default:
			q.out, q.err = r.one(ctx, q.in)
		}
		close(q.done)
	}
}
