package slotsync

import (
	"container/heap"
	"time"
)

// passQueue holds the practices waiting for their next pass, earliest due first. The scheduler
// looks for due passes every tick; scanning every practice for them was 5 % of the sync's CPU
// at 7,000 practices, where the queue touches only the practices that are due. An entry is
// queued exactly when it is not running (entry.queued is its position, -1 when it is not).
type passQueue []*entry

// due is when the entry's next pass of either kind falls due.
func (e *entry) due() time.Time {
	if e.nextNear.Before(e.nextFull) {
		return e.nextNear
	}
	return e.nextFull
}

func (q passQueue) Len() int { return len(q) }
func (q passQueue) Less(i, j int) bool {
	di, dj := q[i].due(), q[j].due()
	if !di.Equal(dj) {
		return di.Before(dj)
	}
	return q[i].id < q[j].id
}
func (q passQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].queued, q[j].queued = i, j
}
func (q *passQueue) Push(x any) {
	e := x.(*entry)
	e.queued = len(*q)
	*q = append(*q, e)
}
func (q *passQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.queued = -1
	return e
}

// queueLocked puts an entry that is not running back in line (a no-op if it is already there).
func (s *Scheduler) queueLocked(e *entry) {
	if e.queued < 0 {
		heap.Push(&s.queue, e)
	}
}

// unqueueLocked takes an entry out of line (a no-op if it is not there).
func (s *Scheduler) unqueueLocked(e *entry) {
	if e.queued >= 0 {
		heap.Remove(&s.queue, e.queued)
	}
}

// rescheduledLocked restores the queue's order after an entry's times changed.
func (s *Scheduler) rescheduledLocked(e *entry) {
	if e.queued >= 0 {
		heap.Fix(&s.queue, e.queued)
	}
}
