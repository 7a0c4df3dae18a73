package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Verifier reads every live herolink booking back from EMIS regularly, whatever the diary
// feed said, so that a booking whose appointment is gone from EMIS (cancelled, moved, or lost
// by EMIS itself without any change to the session's counts) is found within Every plus one
// run interval. It reads whole sessions (GetSlotsForSession), so the bookings of one session
// cost one call; what it finds goes through the same path as the diary feed (reflectSeen).
type Verifier struct {
	Service *Service
	// Every is how long a live booking may go unverified; 30 s if zero. With runs every
	// interval, a change is found within Every + interval.
	Every time.Duration
	// MaxCalls bounds the EMIS calls of one run; 200 if zero. What is left waits for the
	// next run, the longest unverified first.
	MaxCalls int
	// Concurrency is how many practices are read at once; 4 if zero. One practice is read
	// one call at a time.
	Concurrency int

	running sync.Mutex // one run at a time: a slow EMIS must not pile runs up
}

// VerifyResult counts what one run did.
type VerifyResult struct {
	Calls     int // EMIS calls made
	Verified  int // bookings read back and settled (still ours, followed, or reflected)
	Moved     int // bookings that followed reception's move
	Reflected int // bookings no longer in EMIS, handed to the feed's path
	Skipped   int // bookings of practices whose connection is down, or past the call budget
}

// verifyBatch bounds the bookings one run considers.
const verifyBatch = 5000

func (v *Verifier) every() time.Duration {
	if v.Every > 0 {
		return v.Every
	}
	return 30 * time.Second
}

func (v *Verifier) maxCalls() int {
	if v.MaxCalls > 0 {
		return v.MaxCalls
	}
	return 200
}

func (v *Verifier) concurrency() int {
	if v.Concurrency > 0 {
		return v.Concurrency
	}
	return 4
}

// sessionKey groups the bookings read back by one call.
type sessionKey struct{ practice, session int64 }

// Run verifies the bookings due, the longest unverified first, within the call budget.
func (v *Verifier) Run(ctx context.Context) (VerifyResult, error) {
	s := v.Service
	var res VerifyResult
	if !v.running.TryLock() {
		return res, nil // the run under way covers it
	}
	defer v.running.Unlock()
	now := s.now()
	due, err := s.Store.BookingsToVerify(ctx, now, now.Add(-v.every()), verifyBatch)
	if err != nil || len(due) == 0 {
		return res, err
	}
	reachable, err := s.Store.PracticesReachable(ctx)
	if err != nil {
		return res, err
	}
	// Per practice, its sessions in the order their bookings fell due.
	var practices []int64
	sessions := map[int64][]sessionKey{}
	bySession := map[sessionKey][]store.AppointmentRow{}
	for _, a := range due {
		if !reachable[a.PracticeID] {
			res.Skipped++
			continue
		}
		k := sessionKey{a.PracticeID, a.SessionID}
		if _, ok := bySession[k]; !ok {
			if _, ok := sessions[a.PracticeID]; !ok {
				practices = append(practices, a.PracticeID)
			}
			sessions[a.PracticeID] = append(sessions[a.PracticeID], k)
		}
		bySession[k] = append(bySession[k], a)
	}
	var budget atomic.Int64
	budget.Store(int64(v.maxCalls()))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, v.concurrency())
	for _, pid := range practices {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := v.practice(ctx, pid, sessions[pid], bySession, &budget)
			mu.Lock()
			res.Calls += r.Calls
			res.Verified += r.Verified
			res.Moved += r.Moved
			res.Reflected += r.Reflected
			res.Skipped += r.Skipped
			mu.Unlock()
		}()
	}
	wg.Wait()
	if budget.Load() <= 0 && res.Skipped > 0 {
		s.log().Warn("booking verification ran out of its EMIS call budget; the rest waits for the next run",
			"max_calls", v.maxCalls(), "left", res.Skipped)
	}
	return res, ctx.Err()
}

// practice verifies one practice's due sessions, one call at a time; the first failure ends
// the practice's turn (its EMIS is not answering: the next run tries again).
func (v *Verifier) practice(ctx context.Context, pid int64, keys []sessionKey, bySession map[sessionKey][]store.AppointmentRow, budget *atomic.Int64) VerifyResult {
	s := v.Service
	var res VerifyResult
	skip := func(from int) {
		for _, k := range keys[from:] {
			res.Skipped += len(bySession[k])
		}
	}
	conn, err := s.Conns.Conn(ctx, pid)
	if err != nil {
		s.log().Warn("booking verification skipped: no EMIS connection", "practice", pid, "err", err)
		skip(0)
		return res
	}
	unreg, err := s.Store.UnregisteredSlotTypeID(ctx, pid)
	if err != nil {
		skip(0)
		return res
	}
	for i, k := range keys {
		if budget.Add(-1) < 0 {
			skip(i)
			return res
		}
		r, err := v.session(ctx, conn, k, bySession[k], unreg, budget)
		res.Calls += r.Calls
		res.Verified += r.Verified
		res.Moved += r.Moved
		res.Reflected += r.Reflected
		if err != nil {
			s.log().Warn("booking verification stopped for the practice", "practice", pid, "session", k.session, "err", err)
			skip(i)
			return res
		}
	}
	return res
}

// session reads one session back and settles each of its due bookings.
func (v *Verifier) session(ctx context.Context, conn *emis.Conn, k sessionKey, due []store.AppointmentRow, unreg int, budget *atomic.Int64) (VerifyResult, error) {
	s := v.Service
	res := VerifyResult{Calls: 1}
	readAt := s.now()
	slots, err := conn.GetSlotsForSession(ctx, k.session)
	if err != nil && !errors.Is(err, emis.ErrNotFound) && !errors.Is(err, emis.ErrNothingToReturn) {
		return res, fmt.Errorf("booking: verify session %d: %w", k.session, err)
	}
	var done []string
	for _, d := range due {
		// Read the row again: a booking herolink is writing, or wrote after EMIS answered, is
		// not judged on this answer; the next run reads it again.
		a, err := s.Store.Appointment(ctx, s.Store.DBQ(), d.ID)
		if err != nil || a.SlotID != d.SlotID {
			continue
		}
		if !settled(a) || a.WrittenAt.After(readAt) {
			done = append(done, a.ID) // the write-back reads it back itself
			continue
		}
		st, sl := seenGone, emis.Slot{}
		for _, x := range slots {
			if x.DBID == a.SlotID {
				st, sl = classify(x, a, unreg), x
			}
		}
		outcome, err := v.settle(ctx, conn, a, st, sl, slots, unreg, budget, &res)
		if err != nil {
			return res, err
		}
		switch outcome {
		case "moved":
			res.Moved++
		case "reflected":
			res.Reflected++
		}
		res.Verified++
		done = append(done, a.ID)
	}
	return res, s.Store.MarkVerified(ctx, done, readAt)
}

// settle decides one booking: still ours (following a new time), moved by reception to another
// slot (found by herolink's reference), or no longer in EMIS (the feed's path).
func (v *Verifier) settle(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, st seen, sl emis.Slot, session []emis.Slot,
	unreg int, budget *atomic.Int64, res *VerifyResult) (string, error) {
	s := v.Service
	if st == seenOurAppointment || st == seenOurPlaceholder || stillStands(sl, a) {
		moved, err := s.followSlot(ctx, a, emis.Slot{}, sl)
		if moved {
			return "moved", err
		}
		return "", err
	}
	// Reception moved it within the session: the same reference, the same patient.
	for _, x := range session {
		if x.DBID != a.SlotID && classifyElsewhere(x, a, unreg) {
			_, err := s.followSlot(ctx, a, sl, x)
			return "moved", err
		}
	}
	// Or to another session: the patient's appointments say where.
	if a.State == string(StateBooked) && a.EMISPatientID != 0 && a.MatchRule != RuleBookedInEMIS && budget.Add(-1) >= 0 {
		res.Calls++
		moved, err := s.followReceptionMove(ctx, conn, a, sl, unreg)
		if err != nil || moved {
			return "moved", err
		}
	}
	return "reflected", s.reflectSeen(ctx, a, st, sl)
}

// stillStands says whether the slot still holds the booking although it is not recognisably
// herolink's write: an appointment for the same patient whose notes reception edited, or a
// placeholder whose notes still carry the reference while herolink no longer knows the
// practice's unregistered type (staff changing the mapping). Neither the diary feed nor a read
// every interval may cancel a booking EMIS still holds (reflectSeen checks it).
func stillStands(sl emis.Slot, a store.AppointmentRow) bool {
	switch {
	case sl.DBID != a.SlotID:
		return false
	case a.State == string(StateBooked) && a.MatchRule != RuleBookedInEMIS:
		return sl.Status == emis.SlotBooked && a.EMISPatientID != 0 && len(sl.Patients) == 1 && sl.Patients[0].DBID == a.EMISPatientID
	case a.State == string(StatePlaceholder):
		return sl.Status == emis.SlotAvailable && strings.Contains(sl.Notes, a.Reference)
	}
	return false
}

// classifyElsewhere says whether another slot holds this booking: herolink's reference in its
// notes, and for an appointment the patient herolink means.
func classifyElsewhere(x emis.Slot, a store.AppointmentRow, unreg int) bool {
	if !strings.Contains(x.Notes, a.Reference) {
		return false
	}
	st := classify(x, a, unreg)
	return (a.State == string(StateBooked) && st == seenOurAppointment) || (a.State == string(StatePlaceholder) && st == seenOurPlaceholder)
}

// followSlot makes the booking follow its appointment to now (another slot, or the same slot
// at a new time), and records both slots as EMIS showed them. It says whether anything moved.
func (s *Service) followSlot(ctx context.Context, a store.AppointmentRow, old, now emis.Slot) (bool, error) {
	d, err := emis.ParseDate(now.Date)
	if err != nil {
		return false, fmt.Errorf("booking: slot %d: %w", now.DBID, err)
	}
	minute, err := emis.ParseClock(now.StartTime)
	if err != nil {
		return false, fmt.Errorf("booking: slot %d: %w", now.DBID, err)
	}
	start := d.At(minute)
	if now.DBID == a.SlotID && start.Equal(a.StartAt) && now.SlotLength == a.LengthMin {
		return false, nil
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		m := store.SlotMove{SlotID: now.DBID, SessionID: now.SessionDBID, StartAt: start, LengthMin: now.SlotLength}
		if a.State == string(StateBooked) {
			m.EMISSlotTypeID = now.Type.TypeID // 0 keeps the booking's type
		}
		if err := s.Store.MoveBookingSlot(ctx, tx, a.ID, a.State, m); err != nil {
			return ignoreChanged(err)
		}
		if old.DBID != 0 {
			if err := s.recordRead(ctx, tx, a.PracticeID, old); err != nil {
				return err
			}
		}
		if err := s.recordRead(ctx, tx, a.PracticeID, now); err != nil {
			return err
		}
		return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.moved_in_emis", start.UTC().Format(time.RFC3339))
	})
	return true, err
}

// VerifyArgs is the periodic job running the Verifier.
type VerifyArgs struct{}

// Kind names the job in River's table.
func (VerifyArgs) Kind() string { return "booking_verify" }

// InsertOpts: one attempt; the next run comes an interval later anyway. No uniqueness while
// running: a job left "running" by a killed process would block runs until River rescues it
// (minutes); the Verifier keeps one run at a time in the process instead.
func (VerifyArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// VerifyWorker runs VerifyArgs.
type VerifyWorker struct {
	river.WorkerDefaults[VerifyArgs]
	Verifier *Verifier
}

// Timeout bounds one run: calls are bounded by MaxCalls and each by the client's timeout.
func (w *VerifyWorker) Timeout(*river.Job[VerifyArgs]) time.Duration { return 2 * time.Minute }

// Work runs the verification.
func (w *VerifyWorker) Work(ctx context.Context, _ *river.Job[VerifyArgs]) error {
	res, err := w.Verifier.Run(ctx)
	if res.Moved+res.Reflected > 0 {
		w.Verifier.Service.log().Info("bookings verified against EMIS", "calls", res.Calls, "verified", res.Verified,
			"moved", res.Moved, "reflected", res.Reflected, "skipped", res.Skipped)
	}
	return err
}

// VerifyJob runs the verifier every interval.
func VerifyJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return VerifyArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// AddVerifyWorker registers the verifier's worker; VerifyJob schedules it.
func AddVerifyWorker(w *river.Workers, v *Verifier) {
	river.AddWorker(w, &VerifyWorker{Verifier: v})
}
