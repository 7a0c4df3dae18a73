package slotsync

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Scheduler decides which practice to sync when: the near-term days often, the whole horizon
// less often, a practice again at once after a booking or a mapping change (SyncNow). At most
// one pass per practice is in flight, at most Concurrency in all; a practice whose passes fail
// backs off alone, and a slow one holds one worker for at most PassTimeout, so neither delays
// healthy practices. Full and near passes keep their own schedules and back off apart: a full
// pass that keeps failing never stops the near-term days from being kept fresh.
type Scheduler struct {
	Engine       *Engine
	Store        *store.Store
	Log          *slog.Logger
	Metrics      *Metrics
	HorizonDays  int           // 14 if zero; at most 56
	FullInterval time.Duration // whole horizon; 45 s if zero
	// NearInterval paces passes over the near-term window (Engine.NearDays working days,
	// NearTermEnd) between full passes; half FullInterval if zero, which reads those days at
	// each full pass and once halfway between.
	NearInterval time.Duration
	Concurrency  int           // passes in flight; 32 if zero
	PassTimeout  time.Duration // one pass; 2 minutes if zero
	Rescan       time.Duration // how often the list of practices is re-read; 30 s if zero
	Tick         time.Duration // how often due passes are looked for; 100 ms if zero
	Now          func() time.Time
	// Leases, when set, splits the practices with the other instances on the database: this
	// one syncs only those it holds, re-read every Leases.Renew instead of every Rescan.
	Leases *Leases

	mu        sync.Mutex
	practices map[int64]*entry
	queue     passQueue // the entries not running, earliest due first
	kick      chan int64
	once      sync.Once
	scanned   bool // a first list of practices was read
	// beforePass, when set, runs on a worker before each pass (this package's tests).
	beforePass func()
}

type entry struct {
	id           int64
	nextFull     time.Time
	nextNear     time.Time
	fullFailures int // consecutive failed full passes: the full schedule's backoff
	nearFailures int // the same for near passes
	lastSuccess  time.Time
	firstDone    bool
	queued       int // position in Scheduler.queue; -1 while running
	// kicked: a pass was asked for while one ran, which may have read EMIS before what
	// prompted the ask; the next full pass is due as soon as this one ends.
	kicked bool
}

func newEntry(id int64, nextFull, nextNear time.Time) *entry {
	return &entry{id: id, nextFull: nextFull, nextNear: nextNear, queued: -1}
}

func (s *Scheduler) init() {
	s.once.Do(func() {
		s.practices = map[int64]*entry{}
		s.kick = make(chan int64, 1024)
	})
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Horizon is how many days of diary the scheduler keeps fresh.
func (s *Scheduler) Horizon() int { return s.horizon() }

func (s *Scheduler) horizon() int {
	switch {
	case s.HorizonDays <= 0:
		return 14
	case s.HorizonDays > 56:
		return 56
	}
	return s.HorizonDays
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// SyncNow asks for a full pass of a practice as soon as a worker is free (after a booking, a
// mapping change, or a new connection). It never blocks.
func (s *Scheduler) SyncNow(practiceID int64) {
	s.init()
	select {
	case s.kick <- practiceID:
	default: // the queue is full: the regular schedule will get there
	}
}

// Run schedules passes until ctx ends, then waits for the passes in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	s.init()
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	concurrency := s.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	// Passes run on long-lived workers, not a goroutine each: a pass's SQLite calls run deep,
	// and a new goroutine's stack grew to fit them by copying, pass after pass (2 % of
	// herolink's CPU at 7,000 practices). sem counts the workers busy or handed a job, so
	// jobs never holds more than there are workers and handing one out never waits.
	sem := make(chan struct{}, concurrency)
	jobs := make(chan dueJob, concurrency)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				if s.beforePass != nil {
					s.beforePass()
				}
				s.pass(ctx, log, job.e, job.full)
				<-sem
			}
		}()
	}
	// The passes handed out run to their end (ctx ends them early), then the workers stop.
	stopWorkers := sync.OnceFunc(func() { close(jobs); wg.Wait() })
	defer stopWorkers()
	tick := time.NewTicker(orDefault(s.Tick, 100*time.Millisecond))
	defer tick.Stop()
	if s.Leases != nil {
		defer s.releaseLeases(log, stopWorkers)
	}
	rescanEvery := orDefault(s.Rescan, 30*time.Second)
	if s.Leases != nil {
		rescanEvery = s.Leases.renew()
	}
	var lastScan time.Time
	for {
		if s.now().Sub(lastScan) >= rescanEvery {
			if err := s.rescan(ctx); err != nil {
				log.Warn("sync: list practices", "err", err)
			}
			lastScan = s.now()
		}
		// No more than the free workers are handed out, and only this loop takes a worker:
		// taking one never waits.
		for _, job := range s.due(cap(sem) - len(sem)) {
			sem <- struct{}{}
			jobs <- job
		}
		select {
		case <-ctx.Done():
			return nil
		case id := <-s.kick:
			if s.Leases != nil {
				if _, held := s.Leases.Fence(id); !held {
					continue // another instance syncs it, on its own schedule
				}
			}
			s.mu.Lock()
			s.kickLocked(id)
			s.mu.Unlock()
		case <-tick.C:
		}
	}
}

// rescan adds practices that became syncable and drops those that are not any more.
func (s *Scheduler) rescan(ctx context.Context) error {
	var ids []int64
	var err error
	if s.Leases != nil {
		// On error, the leases still live as far as this instance knows: they lapse alone.
		ids, err = s.Leases.Round(ctx)
	} else {
		ids, err = s.Store.SyncablePractices(ctx)
		if err != nil {
			return err
		}
	}
	now := s.now()
	full := orDefault(s.FullInterval, 45*time.Second)
	_, near := s.intervals()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A practice taken over from another instance mid-run has a stored diary that ages while
	// it waits: here its near-term days, the ones patients book, are read first, within one
	// near interval, and the whole horizon one near interval later.
	takeover := s.Leases != nil && s.scanned
	s.scanned = true
	keep := make(map[int64]bool, len(ids))
	for _, id := range ids {
		keep[id] = true
		if _, ok := s.practices[id]; ok {
			continue
		}
		if takeover {
			first := now.Add(time.Duration(rand.Int64N(int64(near))))
			e := newEntry(id, first.Add(near), first)
			s.practices[id] = e
			s.queueLocked(e)
			continue
		}
		// Spread first passes over one interval so a restart does not hit EMIS at once.
		// The first pass is a full one: near-term passes wait for it.
		first := now.Add(time.Duration(rand.Int64N(int64(full))))
		e := newEntry(id, first, first)
		s.practices[id] = e
		s.queueLocked(e)
	}
	s.dropLocked(keep)
	return err
}

// releaseLeases frees this instance's sync leases once its passes have ended, so that the
// other instances take its practices at their next round rather than after the TTL.
func (s *Scheduler) releaseLeases(log *slog.Logger, stopWorkers func()) {
	stopWorkers()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Leases.Release(ctx); err != nil {
		log.Warn("sync: release leases", "err", err)
	}
}

type dueJob struct {
	e    *entry
	full bool
}

// due marks and returns at most limit passes due now, most overdue first. A practice due for
// both kinds has its full pass, which covers the near-term days too.
func (s *Scheduler) due(limit int) []dueJob {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var jobs []dueJob
	for len(jobs) < limit && len(s.queue) > 0 && !now.Before(s.queue[0].due()) {
		e := heap.Pop(&s.queue).(*entry)
		jobs = append(jobs, dueJob{e, !now.Before(e.nextFull)})
	}
	return jobs
}

// release puts back in line an entry whose pass found its lease held elsewhere.
func (s *Scheduler) release(e *entry) {
	s.mu.Lock()
	s.finishedLocked(e)
	s.mu.Unlock()
}

// finishedLocked ends an entry's pass: it waits in line again, due at once if a pass was
// asked for meanwhile (whatever time the pass just ended set).
func (s *Scheduler) finishedLocked(e *entry) {
	if e.kicked {
		e.kicked, e.nextFull = false, time.Time{}
	}
	s.queueLocked(e)
}

// pass runs one pass and schedules the next.
func (s *Scheduler) pass(ctx context.Context, log *slog.Logger, e *entry, full bool) {
	today := emis.Today(s.now())
	// The near-term window never reaches past the horizon, which full passes keep.
	last := today.AddDays(s.horizon() - 1)
	w := Window{From: today, To: NearTermEnd(today, s.Engine.nearDays())}
	if last.Before(w.To) {
		w.To = last
	}
	kind := "near"
	if full {
		w = Window{From: today, To: last, Full: true}
		kind = "full"
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.PassTimeout, 2*time.Minute))
	defer cancel()
	start := s.now()
	res, err := s.Engine.Sync(ctx, e.id, w)
	elapsed := s.now().Sub(start)
	if errors.Is(err, ErrNotHeld) || errors.Is(err, store.ErrSyncLeaseLost) {
		// Another instance syncs this practice now: not a failure, and nothing to back off;
		// the next lease round drops it from this scheduler.
		log.Info("sync pass dropped: the practice's lease is held elsewhere", "practice", e.id, "kind", kind)
		s.release(e)
		return
	}
	if s.Metrics != nil {
		s.Metrics.observePass(kind, res, err, elapsed)
	}
	now := s.now()
	fullEvery, _ := s.intervals()
	// An incomplete pass that read some sessions, or missed a single one, keeps the schedule
	// (one stubborn session must not slow the whole practice); one that could read none of
	// several is EMIS failing, and backs off like a failed pass.
	var incomplete *IncompleteError
	partial := errors.As(err, &incomplete) && (incomplete.Read > 0 || incomplete.Unread == 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Queued again once its times are set below (deferred calls run last first).
	defer s.finishedLocked(e)
	if err != nil && ctx.Err() != nil && context.Cause(ctx) == context.Canceled {
		return // shutting down
	}
	if err != nil && !partial {
		// The failed kind of pass backs off alone; the other keeps its schedule, so a full
		// pass that fails every time (one odd session, a slow far-off day) never stops the
		// near-term days from being kept fresh.
		switch {
		case res.EMISCalls == 0:
			// Failed before asking EMIS about its window (no connection): the practice, not
			// the window, is failing, and both schedules back off together.
			n := max(e.fullFailures, e.nearFailures) + 1
			e.fullFailures, e.nearFailures = n, n
			e.nextFull = now.Add(backoff(n))
			e.nextNear = e.nextFull
		case full:
			e.fullFailures++
			e.nextFull = now.Add(backoff(e.fullFailures))
		default:
			e.nearFailures++
			e.nextNear = now.Add(backoff(e.nearFailures))
		}
		log.Warn("sync pass failed", "practice", e.id, "kind", kind, "failures", max(e.fullFailures, e.nearFailures), "err", err)
		if incomplete == nil {
			_ = s.Store.RecordSyncFailure(context.WithoutCancel(ctx), e.id, err.Error())
		}
		return
	}
	if partial {
		// What was read is applied; the sessions left unread are read again by the next
		// pass, on the usual schedule.
		log.Info("sync pass incomplete", "practice", e.id, "kind", kind, "unread", incomplete.Unread, "read", incomplete.Read, "err", incomplete.Err)
	}
	if full {
		e.fullFailures, e.nearFailures = 0, 0
		if !partial {
			e.lastSuccess, e.firstDone = now, true
		}
	} else {
		e.nearFailures = 0
	}
	s.scheduleNext(e, now, full, time.Duration(rand.Int64N(int64(fullEvery)/10+1)))
}

// scheduleNext sets an entry's next passes after a successful one. A full pass comes again
// after the full interval less jitter (up to a tenth, so that practices started together
// drift apart); a near pass after the near interval, but no later than halfway to the next
// full pass. With the default near interval (half the full one) the near-term days are read at
// each full pass and once between, never more than half a full interval apart, and no near
// pass falls just before a full one.
func (s *Scheduler) scheduleNext(e *entry, now time.Time, full bool, jitter time.Duration) {
	fullEvery, nearEvery := s.intervals()
	if full {
		untilFull := fullEvery - jitter
		e.nextFull = now.Add(untilFull)
		nearEvery = min(nearEvery, untilFull/2)
	}
	e.nextNear = now.Add(nearEvery)
}

// intervals are the full and near-term pass intervals, defaults applied.
func (s *Scheduler) intervals() (full, near time.Duration) {
	full = orDefault(s.FullInterval, 45*time.Second)
	return full, orDefault(s.NearInterval, full/2)
}

// backoff is the pause after n consecutive failures: 2 s doubling to 5 minutes, plus up to a
// quarter more at random so that practices failing together do not retry together.
func backoff(n int) time.Duration {
	b := min(5*time.Minute, time.Duration(1<<min(n, 9))*time.Second)
	return b + time.Duration(rand.Int64N(int64(b)/4+1))
}

// Freshness summarises how fresh the stored diaries are, for metrics and the admin page.
type Freshness struct {
	Practices    int
	FirstSyncing int           // not yet fully synced
	Failing      int           // last pass failed
	OldestAge    time.Duration // the longest time since a practice's last full pass
	Stale        int           // practices whose last full pass is older than twice FullInterval
}

// StoredFreshness reads how fresh the stored diaries are from the database, which remembers
// the last complete full pass of every practice across restarts. Without a store it is the
// scheduler's own view (Freshness).
func (s *Scheduler) StoredFreshness(ctx context.Context) (Freshness, error) {
	if s.Store == nil {
		return s.Freshness(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	now := s.now()
	staleAfter := 2 * orDefault(s.FullInterval, 45*time.Second)
	sf, err := s.Store.SyncFreshness(ctx, now.Add(-staleAfter))
	if err != nil {
		return Freshness{}, err
	}
	f := Freshness{Practices: sf.Practices, FirstSyncing: sf.FirstSyncing, Failing: sf.Failing, Stale: sf.Stale}
	if !sf.OldestFull.IsZero() {
		f.OldestAge = max(0, now.Sub(sf.OldestFull))
	}
	return f, nil
}

// Freshness reads the scheduler's in-memory view: the passes this process has run.
func (s *Scheduler) Freshness() Freshness {
	s.init()
	now := s.now()
	staleAfter := 2 * orDefault(s.FullInterval, 45*time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	f := Freshness{Practices: len(s.practices)}
	for _, e := range s.practices {
		if !e.firstDone {
			f.FirstSyncing++
			continue
		}
		if e.fullFailures > 0 || e.nearFailures > 0 {
			f.Failing++
		}
		age := now.Sub(e.lastSuccess)
		f.OldestAge = max(f.OldestAge, age)
		if age > staleAfter {
			f.Stale++
		}
	}
	return f
}
