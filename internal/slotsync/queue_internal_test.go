package slotsync

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// The scheduler hands out due passes from a queue instead of scanning every practice. Whatever
// happens to the practices (added, kicked, passes starting and finishing with new times,
// dropped by a rescan), the passes it hands out are exactly those a scan would find: every
// practice not running whose next pass of either kind is due, most overdue first, a full pass
// when one is due, and never a practice already running.
func TestTheQueueHandsOutExactlyThePassesAScanWouldFind(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		at := func(t *rapid.T, label string) time.Time {
			return base.Add(time.Duration(rapid.IntRange(0, 120).Draw(t, label)) * time.Second)
		}
		now := base
		s := &Scheduler{Now: func() time.Time { return now }}
		s.init()
		running := map[int64]*entry{}
		nextID := int64(1)
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0: // a practice becomes syncable
				e := newEntry(nextID, at(t, "full"), at(t, "near"))
				nextID++
				s.mu.Lock()
				s.practices[e.id] = e
				s.queueLocked(e)
				s.mu.Unlock()
			case 1: // staff ask for a pass now
				if len(s.practices) == 0 {
					continue
				}
				id := rapid.Int64Range(1, nextID-1).Draw(t, "kicked")
				s.mu.Lock()
				if _, ok := s.practices[id]; ok {
					s.kickLocked(id)
				}
				s.mu.Unlock()
			case 2: // time passes
				now = now.Add(time.Duration(rapid.IntRange(0, 30).Draw(t, "advance")) * time.Second)
			case 3: // the scheduler looks for due passes
				limit := rapid.IntRange(0, 8).Draw(t, "limit")
				want := scanDue(s, running, now, limit)
				got := s.due(limit)
				for _, j := range got {
					running[j.e.id] = j.e
				}
				if !slices.EqualFunc(got, want, func(a, b dueJob) bool { return a.e == b.e && a.full == b.full }) {
					t.Fatalf("due(%d) at %s: %v, a scan finds %v", limit, now.Format(time.TimeOnly), jobIDs(got), jobIDs(want))
				}
			case 4: // a pass finishes and schedules the next
				if len(running) == 0 {
					continue
				}
				ids := slices.Sorted(func(yield func(int64) bool) {
					for id := range running {
						if !yield(id) {
							return
						}
					}
				})
				e := running[rapid.SampledFrom(ids).Draw(t, "finished")]
				delete(running, e.id)
				s.mu.Lock()
				e.nextFull, e.nextNear = at(t, "next full"), at(t, "next near")
				s.finishedLocked(e)
				s.mu.Unlock()
			case 5: // a rescan drops a practice (one running stays until a later rescan)
				if len(s.practices) == 0 {
					continue
				}
				id := rapid.Int64Range(1, nextID-1).Draw(t, "dropped")
				keep := map[int64]bool{}
				for k := range s.practices {
					keep[k] = k != id
				}
				s.mu.Lock()
				s.dropLocked(keep)
				s.mu.Unlock()
			}
			// Queued exactly when known and not handed out (the test's own record of passes).
			queued := 0
			for _, e := range s.practices {
				if _, handedOut := running[e.id]; handedOut == (e.queued >= 0) {
					t.Fatalf("practice %d: handed out %v, queued at %d", e.id, handedOut, e.queued)
				}
				if e.queued >= 0 {
					queued++
					if s.queue[e.queued] != e {
						t.Fatalf("practice %d says it is at %d of the queue; it is not", e.id, e.queued)
					}
				}
			}
			if queued != len(s.queue) {
				t.Fatalf("%d practices queued, the queue holds %d", queued, len(s.queue))
			}
		}
	})
}

// scanDue is the scan the queue replaced: what due would return, without changing anything.
func scanDue(s *Scheduler, running map[int64]*entry, now time.Time, limit int) []dueJob {
	var jobs []dueJob
	for _, e := range s.practices {
		if _, handedOut := running[e.id]; !handedOut && !now.Before(e.due()) {
			jobs = append(jobs, dueJob{e, !now.Before(e.nextFull)})
		}
	}
	slices.SortFunc(jobs, func(a, b dueJob) int {
		if c := a.e.due().Compare(b.e.due()); c != 0 {
			return c
		}
		return int(a.e.id - b.e.id)
	})
	return jobs[:min(limit, len(jobs))]
}

// jobIDs names jobs for a failure message: "3 full", "5 near".
func jobIDs(jobs []dueJob) []string {
	var out []string
	for _, j := range jobs {
		kind := "near"
		if j.full {
			kind = "full"
		}
		out = append(out, fmt.Sprintf("%d %s", j.e.id, kind))
	}
	return out
}

// How often a practice's near-term days are read, the passes being scheduled by scheduleNext
// over an hour: the longest gap between two reads of those days (a full pass reads them too)
// and the passes of each kind.
func simulateSchedule(t *testing.T, s *Scheduler, jitter func() time.Duration) (longestGap time.Duration, full, near int) {
	t.Helper()
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	e := newEntry(1, start, start)
	last := start
	for now := start; now.Sub(start) < time.Hour; {
		isFull := !now.Before(e.nextFull)
		if isFull {
			full++
		} else {
			near++
		}
		longestGap = max(longestGap, now.Sub(last))
		last = now
		s.scheduleNext(e, now, isFull, jitter())
		now = e.due()
	}
	return longestGap, full, near
}

// By default the next three days are read at every full pass and once halfway between: never
// more than half a full interval apart (the reception change there shows within 30 s at p99
// with the default 45 s), with one near pass per full pass, not two of which one falls just
// before the full pass. An operator's shorter near interval is kept.
func TestNearTermDaysAreReadAtEachFullPassAndOnceHalfwayBetween(t *testing.T) {
	for _, c := range []struct {
		name           string
		full, near     time.Duration
		jitter         time.Duration // the most a full pass comes early
		wantGap        time.Duration
		minNearPerFull float64
		maxNearPerFull float64
	}{
		{"default, no jitter", 45 * time.Second, 0, 0, 22500 * time.Millisecond, 1, 1},
		{"default, full passes up to a tenth early", 45 * time.Second, 0, 4500 * time.Millisecond, 22500 * time.Millisecond, 1, 1},
		{"an operator's 15 s", 45 * time.Second, 15 * time.Second, 4500 * time.Millisecond, 15 * time.Second, 1, 2},
		{"an operator's near interval longer than half", 60 * time.Second, 50 * time.Second, 0, 30 * time.Second, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Scheduler{FullInterval: c.full, NearInterval: c.near}
			rng := rand.New(rand.NewPCG(1, 2))
			gap, full, near := simulateSchedule(t, s, func() time.Duration {
				return time.Duration(rng.Int64N(int64(c.jitter) + 1))
			})
			if gap > c.wantGap {
				t.Errorf("near-term days went %s without a read; want at most %s", gap, c.wantGap)
			}
			perFull := float64(near) / float64(full)
			if perFull < c.minNearPerFull-0.05 || perFull > c.maxNearPerFull+0.05 {
				t.Errorf("%d near passes for %d full ones (%.2f each); want %g to %g", near, full, perFull, c.minNearPerFull, c.maxNearPerFull)
			}
		})
	}
}

// Staff ask for a pass now (SyncNow) while the practice's pass is running, say right after a
// reception booking the running pass read EMIS too early to see. The ask is not lost when that
// pass ends and sets its next times: a full pass is due at once.
func TestAPassAskedForWhileOneRunsIsDueWhenItEnds(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := &Scheduler{Now: func() time.Time { return now }, FullInterval: time.Hour, NearInterval: time.Hour}
	s.init()
	e := newEntry(1, now, now)
	s.practices[e.id] = e
	s.queueLocked(e)
	if jobs := s.due(1); len(jobs) != 1 || !e.running() {
		t.Fatalf("the practice's first pass was not handed out: %v", jobIDs(jobs))
	}
	s.kickLocked(e.id) // while it runs
	s.scheduleNext(e, now, true, 0)
	s.finishedLocked(e)
	if jobs := s.due(1); len(jobs) != 1 || jobs[0].e != e || !jobs[0].full {
		t.Fatalf("after the running pass ended, due passes: %v; want the full pass asked for meanwhile", jobIDs(jobs))
	}
	s.scheduleNext(e, now, true, 0)
	s.finishedLocked(e)
	if jobs := s.due(1); len(jobs) != 0 {
		t.Fatalf("one ask brought %v more than one pass", jobIDs(jobs))
	}
}
