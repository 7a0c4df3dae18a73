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

// running says the entry's pass was handed out and has not finished: it is out of the queue.
func (e *entry) running() bool { return e.queued < 0 }

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

// kickLocked makes a practice's full pass due now (SyncNow), adding the practice if new.
func (s *Scheduler) kickLocked(id int64) {
	if e, ok := s.practices[id]; ok {
		if e.running() {
			e.kicked = true // the pass's end would overwrite its times (finishedLocked)
			return
		}
		e.nextFull = time.Time{}
		s.rescheduledLocked(e)
		return
	}
	e := newEntry(id, time.Time{}, time.Time{})
	s.practices[id] = e
	s.queueLocked(e)
}

// dropLocked forgets the practices not in keep. One running stays until a later rescan: it is
// still this practice's only pass, and a practice re-added meanwhile must not get a second.
func (s *Scheduler) dropLocked(keep map[int64]bool) {
	for id, e := range s.practices {
		if !keep[id] && !e.running() {
			s.unqueueLocked(e)
			delete(s.practices, id)
			if s.Engine != nil {
				// Disconnected or synced by another instance now: what the engine remembered
				// of it would only take memory (it is read again if the practice comes back).
				s.Engine.forgetPractice(id)
			}
		}
	}
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
