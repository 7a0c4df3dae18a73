package store

import (
	"context"
	"sync"
	"time"
)

// Every slot search reads its practices' change counters: on PostgreSQL a round trip to the
// server per search, which at thousands of searches a second was most of the server's work.
// Searches that arrive while a read is in flight share the next read instead, which starts
// after all of them arrived and so sees every commit any of them could need: at most one read
// per practice is in flight, and a search waits for at most two.

// counterReadTimeout bounds a shared read, which runs for several searches and so under none
// of their contexts.
const counterReadTimeout = 5 * time.Second

type counterReads struct {
	mu sync.Mutex
	m  map[int64]*counterTurn
}

// counterTurn is one practice's reads: whether one is in flight, and the searches waiting for
// the next.
type counterTurn struct {
	running bool
	next    *counterRound
}

type counterRound struct {
	done chan struct{}
	v    slotVersions
	err  error
}

// read returns the practice's counters as read by a query that started after read was called.
func (r *counterReads) read(ctx context.Context, pid int64, fetch func(context.Context, int64) (slotVersions, error)) (slotVersions, error) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[int64]*counterTurn{}
	}
	turn := r.m[pid]
	if turn == nil {
		turn = &counterTurn{}
		r.m[pid] = turn
	}
	if !turn.running {
		turn.running = true
		r.mu.Unlock()
		v, err := fetch(ctx, pid)
		r.handOn(pid, turn, fetch)
		return v, err
	}
	if turn.next == nil {
		turn.next = &counterRound{done: make(chan struct{})}
	}
	round := turn.next
	r.mu.Unlock()
	select {
	case <-round.done:
		return round.v, round.err
	case <-ctx.Done():
		return slotVersions{}, ctx.Err()
	}
}

// handOn ends a read: the searches that arrived meanwhile get the next one, run on a goroutine
// bounded by counterReadTimeout (it serves several searches, so none of their contexts owns
// it); or, with none waiting, the practice has no read in flight.
func (r *counterReads) handOn(pid int64, turn *counterTurn, fetch func(context.Context, int64) (slotVersions, error)) {
	r.mu.Lock()
	round := turn.next
	turn.next = nil
	if round == nil {
		turn.running = false
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), counterReadTimeout)
		round.v, round.err = fetch(ctx, pid)
		cancel()
		close(round.done)
		r.handOn(pid, turn, fetch)
	}()
}
