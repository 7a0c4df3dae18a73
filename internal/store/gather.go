package store

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"
)

// At 7,000 practices a sync pass starts every 3 ms or so, and each reads its diary version
// before it reads EMIS and, when EMIS said nothing new, records that it ran: alone, each is a
// round trip on PostgreSQL and a statement (the record, a commit) on SQLite's one writing
// connection, together about 9 % of herolink's CPU in the steady stream. Passes are too far
// apart to meet by chance, so the first call of a batch waits gatherWindow for others to join
// it, and the batch is one query or one transaction. Passes take hundreds of milliseconds;
// this is a few per cent of one.
const gatherWindow = 10 * time.Millisecond

// gatherTimeout bounds a batch's work, which runs for several callers and so under none of
// their contexts.
const gatherTimeout = 15 * time.Second

// gatherer runs the calls that arrive within its window of the first as one batch. The first
// call of a batch runs it, whatever its own context says (the others wait for it); the others
// wait for it or their context.
type gatherer[In, Out any] struct {
	window time.Duration // gatherWindow if zero

	mu   sync.Mutex
	open *gathering[In, Out] // gathering; nil: the next call opens one
}

type gathering[In, Out any] struct {
	ins  []In
	done chan struct{} // closed once outs and err are set
	outs []Out
	err  error
}

// do runs in in a batch begun at most the window before, with run, which answers a batch's
// inputs in their order.
func (g *gatherer[In, Out]) do(ctx context.Context, in In, run func(context.Context, []In) ([]Out, error)) (Out, error) {
	g.mu.Lock()
	b := g.open
	lead := b == nil
	if lead {
		b = &gathering[In, Out]{done: make(chan struct{})}
		g.open = b
	}
	i := len(b.ins)
	b.ins = append(b.ins, in)
	g.mu.Unlock()
	var zero Out
	if lead {
		<-time.NewTimer(cmp.Or(g.window, gatherWindow)).C
		g.mu.Lock()
		g.open = nil
		g.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gatherTimeout)
		b.outs, b.err = run(rctx, b.ins)
		cancel()
		if b.err == nil && len(b.outs) != len(b.ins) {
			b.err = errors.New("store: a batch was answered for another number of calls")
		}
		close(b.done)
	} else {
		select {
		case <-b.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if b.err != nil {
		return zero, b.err
	}
	return b.outs[i], nil
}
