package slotsync

import (
	"sync"

	"herolink/internal/emis"
)

// prunedDays remembers the day each practice's sessions before it were last deleted by a
// pass this engine committed. Nothing dated before today can be stored again once it has
// been (every pass's window starts today), so a full pass asks its write to prune only on a
// practice's first full pass of a day: at 7,000 practices the two deletes that found nothing
// were two more statements in most comparing full passes, and on PostgreSQL two round trips.
// A practice this engine has not pruned today (a restart, a lease taken over) prunes at its
// next full pass.
type prunedDays struct {
	mu sync.Mutex
	m  map[int64]emis.Date
}

// due says whether a full pass of a practice on today should prune.
func (p *prunedDays) due(practiceID int64, today emis.Date) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.m[practiceID]
	return !ok || d != today
}

// done records that a committed pass pruned a practice's sessions before day.
func (p *prunedDays) done(practiceID int64, day emis.Date) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[int64]emis.Date{}
	}
	p.m[practiceID] = day
}
