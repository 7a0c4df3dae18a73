package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// slotKey names one slot of one practice in herolink's store.
type slotKey struct {
	practiceID int64
	slotID     int64
}

// changeTracker measures staleness: each change made in EMIS is registered with the instant it
// was made, and the sync's OnChange hook reports when herolink's store shows it.
type changeTracker struct {
	now func() time.Time

	mu       sync.Mutex
	pending  map[slotKey]pendingChange // booked in EMIS, not yet seen Booked in herolink
	observed []time.Duration           // staleness of the changes seen
	near     []time.Duration           // of which changes in the near-term window
	// early holds slots seen Booked with no change registered, while a reception in another
	// process runs (watchEarly): its registration comes over a pipe, and the sync may see the
	// booking before this process has read it.
	early map[slotKey]time.Time
}

// pendingChange is a change made in EMIS and not yet seen.
type pendingChange struct {
	at   time.Time
	near bool // in the near-term pass's window: the next three working days
}

func newChangeTracker(now func() time.Time) *changeTracker {
	if now == nil {
		now = time.Now
	}
	return &changeTracker{now: now, pending: map[slotKey]pendingChange{}}
}

// expect registers a booking about to be made at t0, near if it is in the near-term window.
// It is false if that slot already has a change waiting to be seen.
func (t *changeTracker) expect(k slotKey, t0 time.Time, near bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.pending[k]; dup {
		return false
	}
	p := pendingChange{at: t0, near: near}
	if at, ok := t.early[k]; ok {
		delete(t.early, k)
		if !at.Before(t0) {
			t.see(p, at)
			return true
		}
	}
	t.pending[k] = p
	return true
}

// watchEarly starts (on) or stops keeping the slots seen Booked before their change is
// registered; stopping forgets them.
func (t *changeTracker) watchEarly(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.early = nil
	if on {
		t.early = map[slotKey]time.Time{}
	}
}

// see records a change as seen at. The caller holds t.mu.
func (t *changeTracker) see(p pendingChange, at time.Time) {
	t.observed = append(t.observed, at.Sub(p.at))
	if p.near {
		t.near = append(t.near, at.Sub(p.at))
	}
}

// forget withdraws a registration whose booking EMIS refused or that failed.
func (t *changeTracker) forget(k slotKey) {
	t.mu.Lock()
	delete(t.pending, k)
	t.mu.Unlock()
}

// isPending says whether a slot has a change waiting to be seen.
func (t *changeTracker) isPending(k slotKey) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.pending[k]
	return ok
}

// onChange is slotsync.Engine.OnChange: it runs after a pass's changes are committed, so the
// time it is called is when the change became visible in herolink. It must be cheap: a first
// sync reports every slot of a practice.
func (t *changeTracker) onChange(practiceID int64, changes []store.SlotChange) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) == 0 && t.early == nil {
		return
	}
	for _, c := range changes {
		if c.NewStatus != emis.SlotBooked {
			continue
		}
		k := slotKey{practiceID, c.SlotID}
		if p, ok := t.pending[k]; ok {
			delete(t.pending, k)
			t.see(p, now)
		} else if t.early != nil {
			t.early[k] = now
		}
	}
}

// counts reports how many changes have been seen and how many are still waiting.
func (t *changeTracker) counts() (observed, pending int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.observed), len(t.pending)
}

// result returns the staleness of the changes seen and of those in the next three working days,
// sorted, and the number not seen.
func (t *changeTracker) result() (staleness, near []time.Duration, unobserved int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, n := slices.Clone(t.observed), slices.Clone(t.near)
	slices.Sort(s)
	slices.Sort(n)
	return s, n, len(t.pending)
}

// StalenessSummary is the distribution of staleness in seconds.
type StalenessSummary struct {
	P50, P95, P99, Max float64
}

// SummariseStaleness gives nearest-rank percentiles of sorted staleness durations, in seconds
// rounded to milliseconds; zeros if there are none.
func SummariseStaleness(sorted []time.Duration) StalenessSummary {
	if len(sorted) == 0 {
		return StalenessSummary{}
	}
	sec := func(d time.Duration) float64 { return round(d.Seconds(), 3) }
	return StalenessSummary{P50: sec(Percentile(sorted, 0.50)), P95: sec(Percentile(sorted, 0.95)),
		P99: sec(Percentile(sorted, 0.99)), Max: sec(sorted[len(sorted)-1])}
}

// changeLog is where the change stream registers each booking before making it: the staleness
// tracker itself, or the reception child's pipe to it (reception.go).
type changeLog interface {
	expect(k slotKey, t0 time.Time, near bool) bool // false: that slot has a change waiting
	forget(k slotKey)                               // the booking was refused or failed
	isPending(k slotKey) bool
}

// changeStream makes reception bookings in EMIS at random practices at a given mean rate.
type changeStream struct {
	Admin     *sandboxAdmin
	Tracker   changeLog
	Practices []int64       // herolink practice ids to pick from
	CDB       map[int64]int // practice id to its EMIS CDB
	Rate      float64       // changes per second, all practices together
	Horizon   time.Duration // slots are picked from now+Lead to now+Horizon
	Lead      time.Duration // how far ahead the earliest slot picked starts (EMIS refuses past slots)
	Workers   int           // concurrent bookings
	PatientID int64         // the patient booked (exists at every generated practice)
	Rand      *rand.Rand    // used by the pacing goroutine only
	attempted atomic.Int64  // changes the pacing asked for
	made      atomic.Int64  // bookings EMIS accepted
	refused   atomic.Int64  // bookings EMIS refused (409): not counted as changes
	noSlot    atomic.Int64  // no free slot found in a few random windows
	behind    atomic.Int64  // changes dropped because every worker was busy
	errors    atomic.Int64  // store or HTTP failures
	firstErr  atomic.Pointer[error]
}

// streamCounts are the change stream's tallies, as the reception child sends them.
type streamCounts struct {
	Attempted, Made, Refused, NoSlot, Behind, Errors int64
	FirstErr                                         string        `json:",omitempty"` // the first error's message
	CPU                                              time.Duration // the child's own CPU over the stream
}

func (s *changeStream) counts() streamCounts {
	c := streamCounts{Attempted: s.attempted.Load(), Made: s.made.Load(), Refused: s.refused.Load(),
		NoSlot: s.noSlot.Load(), Behind: s.behind.Load(), Errors: s.errors.Load()}
	if p := s.firstErr.Load(); p != nil {
		c.FirstErr = (*p).Error()
	}
	return c
}

// run makes changes for d (or until ctx ends) and returns when every worker has stopped. Arrivals
// are a Poisson process: exponential gaps with mean 1/Rate, so the load is jittered, not a beat.
func (s *changeStream) run(ctx context.Context, d time.Duration) {
	if s.Rate <= 0 || len(s.Practices) == 0 {
		return
	}
	workers := max(s.Workers, 1)
	rng := s.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	jobs := make(chan int64, 4*workers) // practice ids
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		wr := rand.New(rand.NewPCG(rng.Uint64(), uint64(w)))
		go func() {
			defer wg.Done()
			for pid := range jobs {
				s.change(ctx, wr, pid)
			}
		}()
	}
	defer wg.Wait()
	defer close(jobs)

	begin := time.Now()
	end := begin.Add(d)
	next := begin
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		next = next.Add(time.Duration(rng.ExpFloat64() / s.Rate * float64(time.Second)))
		last := !next.Before(end)
		if last {
			next = end // the stream lasts exactly d, so costs are measured over d
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if last {
			return
		}
		s.attempted.Add(1)
		select {
		case jobs <- s.Practices[rng.IntN(len(s.Practices))]:
		default:
			s.behind.Add(1)
		}
	}
}

// change books one random free slot of a practice, registering it with the tracker first so
// that a sync pass that sees it before the booking call returns is not missed.
func (s *changeStream) change(ctx context.Context, rng *rand.Rand, pid int64) {
	k, near, ok, err := s.pickSlot(ctx, rng, pid)
	if err != nil {
		s.fail(err)
		return
	}
	if !ok {
		s.noSlot.Add(1)
		return
	}
	if !s.Tracker.expect(k, time.Now(), near) {
		s.noSlot.Add(1)
		return
	}
	err = s.Admin.receptionBook(ctx, s.CDB[pid], k.slotID, s.PatientID)
	switch {
	case err == nil:
		s.made.Add(1)
	case errors.Is(err, errConflict):
		s.Tracker.forget(k)
		s.refused.Add(1)
	default:
		s.Tracker.forget(k)
		if ctx.Err() == nil {
			s.fail(err)
		}
	}
}

func (s *changeStream) fail(err error) {
	s.errors.Add(1)
	s.firstErr.CompareAndSwap(nil, &err)
}

// pickSlot chooses a random Available slot of the practice with no change pending, as
// reception would: from EMIS (the sandbox), not from herolink's copy, so that the benchmark's
// own reads cost the sandbox's CPU and not the CPU measured as herolink's. It looks in a random
// three-hour window of the working day (08:00 to 18:59 London time) of a random weekday in the
// horizon: a few hours of one practice's diary are tens of slots, where the whole horizon would
// be thousands per change, and a window at night or at a weekend would find nothing.
func (s *changeStream) pickSlot(ctx context.Context, rng *rand.Rand, pid int64) (k slotKey, near, ok bool, err error) {
	now := time.Now()
	today := emis.Today(now)
	earliest := now.Add(s.Lead)
	days := max(int(s.Horizon/(24*time.Hour)), 1)
	for range 8 {
		d := today.AddDays(rng.IntN(days))
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		start := d.At(8*60 + rng.IntN(8*60)) // 08:00 to 15:59, so the window ends by 18:59
		end := start.Add(3 * time.Hour)
		if start.Before(earliest) {
			start = earliest
		}
		if !start.Before(end) {
			continue
		}
		ids, err := s.Admin.freeSlots(ctx, s.CDB[pid], start, end)
		if err != nil {
			return slotKey{}, false, false, err
		}
		free := ids[:0]
		for _, id := range ids {
			if !s.Tracker.isPending(slotKey{pid, id}) {
				free = append(free, id)
			}
		}
		if len(free) > 0 {
			return slotKey{pid, free[rng.IntN(len(free))]}, inNearTerm(today, d), true, nil
		}
	}
	return slotKey{}, false, false, nil
}

// inNearTerm says whether a change on day d is in herolink's default near-term window from
// today, whose changes the issue wants in /v1/slots within 30 s.
func inNearTerm(today, d emis.Date) bool {
	return !slotsync.NearTermEnd(today, slotsync.DefaultNearDays).Before(d)
}
