package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per API key. Only authenticated keys get one, so the map is
// bounded by the keys that exist; it is emptied if it ever grows past limiterMax (rotated keys
// leave theirs behind).
type limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

const limiterMax = 10000

func newLimiter(r rate.Limit, burst int, now func() time.Time) *limiter {
	return &limiter{rate: r, burst: burst, now: now, byKey: map[string]*rate.Limiter{}}
}

// allow takes a token for the key, or says how long until one is there.
func (l *limiter) allow(keyID string) (bool, time.Duration) {
	l.mu.Lock()
	lim, ok := l.byKey[keyID]
	if !ok {
		if len(l.byKey) >= limiterMax {
			clear(l.byKey)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.byKey[keyID] = lim
	}
	l.mu.Unlock()
	now := l.now()
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return false, wait
	}
	return true, 0
}
