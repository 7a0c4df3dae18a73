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
// apart to meet by chance, so the first call of a batch waits gatherWindow (or its gatherer's
// window) for others to join it, unless the last batches found nobody to wait for
// (gatherer.lonely), and the batch is one query or one transaction. Passes take hundreds of
// milliseconds; this is a few per cent of one.
const gatherWindow = 10 * time.Millisecond

// recordWindow is gatherWindow for passes recording themselves (RecordUnchangedPass, and on
// SQLite the record-only passes of ApplyDiaryPass): about 320 a second at 7,000 practices, so
// a 10 ms window gathered fewer than two a write, each a transaction on SQLite. A record
// comes after the pass read EMIS and changes no slot a search reads (only freshness times
// and when sessions' slots were read), and the practice's next pass waits for this one to
// end: the wait holds a sync worker and nothing else.
const recordWindow = 50 * time.Millisecond

// recordGatherer gathers passes' records (recordWindow).
func recordGatherer() gatherer[unchangedPass, error] {
	return gatherer[unchangedPass, error]{window: recordWindow, lonely: lonelyBatches}
}

// lonelyBatches is gatherer.lonely for the 50 ms windows: waiting is worth it only when others
// come (PostgreSQL's commit_delay likewise waits only with commit_siblings busy). At 7,000
// practices the passes writing slots (about 100 a second) leave a window alone about once in
// 150, the records almost never; a single practice's passes, or a test's one after another,
// each waited the whole window.
const lonelyBatches = 16

// gatherTimeout bounds a batch's work, which runs for several callers and so under none of
// their contexts.
const gatherTimeout = 15 * time.Second

// gatherer runs the calls that arrive within its window of the first as one batch. The first
// call of a batch runs it, whatever its own context says (the others wait for it); the others
// wait for it or their context.
type gatherer[In, Out any] struct {
	window time.Duration // gatherWindow if zero
	// lonely is how many batches run at once, without waiting the window, after one that
	// waited and gathered no other call; 0: every batch waits.
	lonely int

	mu   sync.Mutex
	open *gathering[In, Out] // gathering; nil: the next call opens one
	skip int                 // batches left to run at once (lonely)
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
	wait := lead && g.skip == 0
	window := cmp.Or(g.window, gatherWindow)
	if lead {
		b = &gathering[In, Out]{done: make(chan struct{})}
		if wait {
			g.open = b
		} else {
			g.skip--
		}
	}
	i := len(b.ins)
	b.ins = append(b.ins, in)
	g.mu.Unlock()
	var zero Out
	if lead {
		if wait {
			<-time.NewTimer(window).C
			g.mu.Lock()
			g.open = nil
			if len(b.ins) == 1 {
				g.skip = g.lonely
			}
			g.mu.Unlock()
		}
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
