package booking

import (
	"context"
	"sync"
)

// When many partners try to hold the same slot at once (a popular time released at 8:00),
// the first attempt on this instance goes to the database and the others wait for it: if it
// holds the slot, they are refused at once, as the database would refuse them, without each
// queueing for a write only to fail. If it does not (its own request was wrong, say), each
// goes on as if alone. Across instances the database's unique index still decides.
type slotClaims struct {
	mu sync.Mutex
	m  map[string]*slotClaim
}

type slotClaim struct {
	done    chan struct{}
	held    bool
	waiters int // attempts waiting on it (under slotClaims.mu)
}

// claim makes the caller the first attempt on key, returning release to call with whether it
// held the slot; or, if another attempt is under way, waits for it and reports whether that
// one held the slot.
func (c *slotClaims) claim(ctx context.Context, key string) (release func(held bool), heldByOther bool, err error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*slotClaim{}
	}
	if other := c.m[key]; other != nil {
		other.waiters++
		c.mu.Unlock()
		select {
		case <-other.done:
			if other.held {
				return nil, true, nil
			}
			return func(bool) {}, false, nil // it failed for its own reasons: go on alone
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	mine := &slotClaim{done: make(chan struct{})}
	c.m[key] = mine
	c.mu.Unlock()
	return func(held bool) {
		c.mu.Lock()
		delete(c.m, key)
		c.mu.Unlock()
		mine.held = held
		close(mine.done)
	}, false, nil
}
