package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// WritebackQueue is the River queue of write-back jobs: their own workers, so a slow EMIS
// does not hold up health checks.
const WritebackQueue = "writeback"

// WritebackArgs is the durable job that makes EMIS match one appointment: book it, reserve
// its time with a placeholder, convert a placeholder, or undo what a cancellation left.
type WritebackArgs struct {
	AppointmentID string `json:"appointment_id"`
	// Takeover is the River job id of a write-back whose worker died holding it (takeover.go):
	// a job of its own, since River keeps the dead one "running" and so unique for a while.
	Takeover int64 `json:"takeover,omitempty"`
}

// Kind names the job in River's table.
func (WritebackArgs) Kind() string { return "appointment_writeback" }

// InsertOpts keeps at most one unfinished job per appointment (River insists a running job
// counts). A change made while the job runs is seen by its next step, which re-reads the row;
// one made after its last step is picked up by the sweep, which re-enqueues every appointment
// whose EMIS side is unsettled. Completed jobs do not count, so later changes get a new job.
func (WritebackArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WritebackQueue, MaxAttempts: 50, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}
}

// WritebackWorker runs WritebackArgs.
type WritebackWorker struct {
	river.WorkerDefaults[WritebackArgs]
	Service *Service
}

// Timeout bounds one run: a few EMIS calls, each bounded by the client's call timeout. It is
// also how long River waits before rescuing a job whose process died (app.go), so it is short;
// a run cut off here is retried, and reads back whatever it may have written.
func (w *WritebackWorker) Timeout(*river.Job[WritebackArgs]) time.Duration { return 45 * time.Second }

// NextRetry backs off 1 s, 2 s, 4 s ... up to 30 s: a booking should land soon after EMIS recovers.
func (w *WritebackWorker) NextRetry(job *river.Job[WritebackArgs]) time.Time {
	d := time.Second << min(job.Attempt-1, 5)
	return time.Now().Add(min(d, 30*time.Second))
}

// Work runs the write-back.
func (w *WritebackWorker) Work(ctx context.Context, job *river.Job[WritebackArgs]) error {
	return w.Service.Writeback(ctx, job.Args.AppointmentID)
}

// Rules recorded in match_rule besides matching's own (matching.Rule...): how a booking came to
// be booked against a record, or why it is a placeholder. The bookings page explains them.
const (
	// RuleMatchTimedOut: EMIS did not answer the patient search in time; searched again.
	RuleMatchTimedOut = "match_timed_out"
	// RuleEMISPatientNotFound: EMIS says the linked EMIS number is not on its register.
	RuleEMISPatientNotFound = "emis_patient_not_found"
	// RuleBookedInEMIS: reception gave a placeholder's time to a patient in EMIS itself.
	RuleBookedInEMIS = "booked_in_emis"
	// RuleStaff: staff linked the EMIS number.
	RuleStaff = "staff"
)

// Writeback brings EMIS in line with one appointment. Only the holder of the appointment's
// lease writes, so two jobs never write one booking twice; each step re-reads the row, so a
// cancellation made meanwhile is honoured before the job ends.
func (s *Service) Writeback(ctx context.Context, id string) error {
	token := randomID("lease_", 12)
	ok, err := s.Store.LeaseAppointment(ctx, id, token, leaseFor)
	if err != nil {
		return err
	}
	if !ok {
		return river.JobSnooze(2 * time.Second) // another worker has it
	}
	defer func() {
		if err := s.Store.ReleaseAppointment(context.WithoutCancel(ctx), id, token); err != nil {
			s.log().Error("release appointment lease", "appointment", id, "err", err)
		}
	}()
	ctx, release := s.holdLease(ctx, id, token)
	defer release()
	retries := 0
	for range 10 {
		a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		more, err := s.step(ctx, a)
		if errors.Is(err, store.ErrLeaseLost) || errors.Is(context.Cause(ctx), store.ErrLeaseLost) {
			s.log().Warn("write-back stopped: another worker has the booking", "appointment", id)
			return nil // that worker finishes it, reading back anything this one may have sent
		}
		if err != nil {
			s.noteError(ctx, a, err)
			// A transient EMIS failure is tried again here after a short pause, twice,
			// before the job gives up to River's slower backoff. The next step re-reads the
			// row, so a write whose outcome was not seen is read back, never repeated.
			if retries < 2 && transient(err) {
				retries++
				select {
				case <-time.After(time.Duration(retries) * 300 * time.Millisecond):
					continue
				case <-ctx.Done():
				}
			}
			return err
		}
		if !more {
			return nil
		}
	}
	return fmt.Errorf("booking: write-back of %s did not settle in 10 steps", id)
}

// transient says whether an EMIS failure may pass by itself: no answer, an HTTP error, or
// EMIS's technical error. Refusals (slot booked, access denied...) are not.
func transient(err error) bool {
	var te *emis.TransportError
	return errors.As(err, &te) || errors.Is(err, emis.ErrTechnical)
}

// goal is what EMIS should hold for an appointment.
type goal int

const (
	goalNothingToDo goal = iota
	goalMatch            // find the patient's EMIS record first
	goalAppointment
	goalPlaceholder
	goalEmpty // a cancellation: nothing of ours in the slot
)

func (s *Service) goalOf(a store.AppointmentRow) goal {
	switch {
	case a.State == string(StateConfirming) && a.EMISPatientID == 0 && a.MatchRule == "":
		return goalMatch
	case a.State == string(StateConfirming) && a.EMISPatientID != 0:
		return goalAppointment
	case a.State == string(StateConfirming):
		return goalPlaceholder
	case a.State == string(StatePlaceholder) && a.EMISPatientID == 0 && a.EMISWritten == "placeholder" &&
		(a.MatchRule == RuleMatchTimedOut || s.now().Sub(a.MatchedAt) >= s.rematchEvery()):
		// EMIS did not answer the search in time, or the patient may have been registered
		// since the last search: search again. The rules are the same; a link still needs them.
		return goalMatch
	case a.State == string(StatePlaceholder) && a.EMISPatientID != 0:
		return goalAppointment // the patient was linked: convert the placeholder
	case a.State == string(StatePlaceholder) && a.EMISWritten == "":
		return goalPlaceholder // a conversion undid the placeholder and could not book: put it back
	case a.State == string(StateCancelled) && (a.EMISWritten != "" || a.WriteUnknown):
		return goalEmpty
	}
	return goalNothingToDo
}

// seen is what the slot in EMIS holds, as far as this appointment is concerned.
type seen int

const (
	seenUnread seen = iota
	seenFree
	seenOurAppointment
	seenOurPlaceholder
	seenTaken // someone else's booking or placeholder, or blocked
	seenGone
)

// step does at most one EMIS write and records it; more says whether to look again.
func (s *Service) step(ctx context.Context, a store.AppointmentRow) (more bool, err error) {
	g := s.goalOf(a)
	if g == goalNothingToDo {
		return false, nil
	}
	conn, err := s.Conns.Conn(ctx, a.PracticeID)
	if err != nil {
		return false, fmt.Errorf("booking: EMIS connection of practice %d: %w", a.PracticeID, err)
	}
	if g == goalMatch {
		return true, s.match(ctx, conn, a)
	}
	unreg, err := s.Store.UnregisteredSlotTypeID(ctx, a.PracticeID)
	if err != nil {
		return false, err
	}
	// Never write blind after an attempt whose outcome was not seen: read the slot back.
	state := seenUnread
	if a.WriteUnknown || a.WriteAttempts > 0 || g == goalEmpty || a.State == string(StatePlaceholder) {
		if state, err = s.readBack(ctx, conn, a, unreg); err != nil {
			return false, err
		}
		if g == goalEmpty && cancelsMovedAway(a, state) {
			// Before recording the slot as not ours: a failed look is looked for again.
			if found, err := s.cancelMovedAway(ctx, conn, a, unreg); found || err != nil {
				return false, err
			}
		}
		if err := s.recordSeen(ctx, a, state); err != nil {
			return false, err
		}
	}
	switch g {
	case goalAppointment:
		return s.towardsAppointment(ctx, conn, a, state, unreg)
	case goalPlaceholder:
		return s.towardsPlaceholder(ctx, conn, a, state, unreg)
	default:
		return s.towardsEmpty(ctx, conn, a, state)
	}
}

func (s *Service) towardsAppointment(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, state seen, unreg int) (bool, error) {
	// Before any write towards an appointment, the linked record must still be the patient
	// (recheck.go); if not, the booking turns to a placeholder and the next step writes that.
	if state == seenUnread || state == seenFree || state == seenOurPlaceholder {
		if ok, err := s.recheckLink(ctx, conn, a); !ok || err != nil {
			return err == nil, err
		}
	}
	switch state {
	case seenOurAppointment:
		return true, s.finish(ctx, a, "appointment")
	case seenOurPlaceholder:
		// Give the slot back its own type before booking the patient into it.
		if err := s.attempt(ctx, a); err != nil {
			return false, err
		}
		_, err := conn.SetSlotType(ctx, a.SlotID, a.EMISSlotTypeID, "")
		if err != nil {
			return false, s.settleFailedWrite(ctx, a, err)
		}
		return true, s.written(ctx, a, "", true)
	case seenTaken:
		return true, s.fail(ctx, a, "slot_taken")
	case seenGone:
		return true, s.fail(ctx, a, "slot_gone")
	}
	if err := s.attempt(ctx, a); err != nil {
		return false, err
	}
	_, err := conn.BookAppointment(ctx, emis.Booking{SlotID: a.SlotID, PatientID: a.EMISPatientID,
		Reason: clip(a.Description, 100), Notes: s.appointmentNotes(a), BookedBy: s.bookedBy()})
	switch {
	case err == nil:
		return true, s.finish(ctx, a, "appointment")
	case errors.Is(err, emis.ErrPatientNotFound):
		// The linked EMIS number is not on the register (merged or deducted): reserve the
		// time with a placeholder and let staff decide.
		if err := s.Store.DropPatientMatch(ctx, s.Store.DBQ(), a.ID, RuleEMISPatientNotFound, time.Time{}); err != nil {
			return false, err
		}
		return true, nil
	case errors.Is(err, emis.ErrSlotBooked):
		return true, s.fail(ctx, a, "slot_taken")
	case errors.Is(err, emis.ErrSlotNotBookable):
		return true, s.fail(ctx, a, "not_bookable")
	case errors.Is(err, emis.ErrNotFound):
		return true, s.fail(ctx, a, "slot_gone")
	}
	return false, err // outcome unknown: write_unknown stays set
}

func (s *Service) towardsPlaceholder(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, state seen, unreg int) (bool, error) {
	switch state {
	case seenOurPlaceholder:
		return true, s.finish(ctx, a, "placeholder")
	case seenOurAppointment:
		return true, s.finish(ctx, a, "appointment")
	case seenTaken:
		return true, s.fail(ctx, a, "slot_taken")
	case seenGone:
		return true, s.fail(ctx, a, "slot_gone")
	}
	if err := s.placeholderTypeReady(ctx, conn, a, unreg); err != nil {
		return false, err // the slot type is gone or unbookable: the booking waits, staff alerted
	}
	notes, err := s.placeholderNotes(ctx, a)
	if err != nil {
		return false, err
	}
	if err := s.attempt(ctx, a); err != nil {
		return false, err
	}
	_, err = conn.SetSlotType(ctx, a.SlotID, unreg, notes)
	switch {
	case err == nil:
		return true, s.finish(ctx, a, "placeholder")
	case errors.Is(err, emis.ErrSlotBooked):
		return true, s.fail(ctx, a, "slot_taken")
	case errors.Is(err, emis.ErrSlotNotBookable):
		return s.placeholderRefused(ctx, conn, a, unreg, err, "not_bookable")
	case errors.Is(err, emis.ErrNotFound):
		return s.placeholderRefused(ctx, conn, a, unreg, err, "slot_gone")
	}
	return false, err
}

func (s *Service) towardsEmpty(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, state seen) (bool, error) {
	var err error
	landed := false // our undoing landed: the diary copy may say the slot is free
	switch state {
	case seenOurAppointment:
		if err = s.attempt(ctx, a); err != nil {
			return false, err
		}
		err = conn.CancelAppointment(ctx, a.SlotID, "Cancelled in herolink "+a.Reference)
		landed = err == nil
		if errors.Is(err, emis.ErrSlotNotBooked) {
			err = nil
		}
	case seenOurPlaceholder:
		if err = s.attempt(ctx, a); err != nil {
			return false, err
		}
		_, err = conn.SetSlotType(ctx, a.SlotID, a.EMISSlotTypeID, "")
		landed = err == nil
	}
	if err != nil {
		return false, s.settleFailedWrite(ctx, a, err)
	}
	if err := s.written(ctx, a, "", landed); err != nil {
		return false, err
	}
	return false, s.Store.AddAppointmentEvent(ctx, s.Store.DBQ(), a.ID, "appointment.cancelled_in_emis", "")
}

// settleFailedWrite clears write_unknown when EMIS gave a definite refusal: nothing changed.
func (s *Service) settleFailedWrite(ctx context.Context, a store.AppointmentRow, err error) error {
	var oe *emis.OutcomeError
	if errors.As(err, &oe) {
		_ = s.Store.MarkWriteSettled(ctx, s.Store.DBQ(), a.ID)
	}
	return err
}

// readBack reads the slot from EMIS and classifies it for this appointment.
func (s *Service) readBack(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, unreg int) (seen, error) {
	st, _, err := s.readSlot(ctx, conn, a, unreg)
	return st, err
}

// readSlot is readBack with the slot as EMIS answered it.
func (s *Service) readSlot(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, unreg int) (seen, emis.Slot, error) {
	if err := s.Store.AddEMISCalls(ctx, a.ID, 1); err != nil {
		return seenUnread, emis.Slot{}, err
	}
	slots, err := conn.GetSlotsForSession(ctx, a.SessionID)
	if errors.Is(err, emis.ErrNotFound) || errors.Is(err, emis.ErrNothingToReturn) {
		return seenGone, emis.Slot{}, nil
	}
	if err != nil {
		return seenUnread, emis.Slot{}, fmt.Errorf("booking: read back slot %d: %w", a.SlotID, err)
	}
	for _, sl := range slots {
		if sl.DBID == a.SlotID {
			return classify(sl, a, unreg), sl, nil
		}
	}
	return seenGone, emis.Slot{}, nil
}

// classify recognises our own writes by the reference herolink puts in EMIS's notes, and an
// appointment as ours only when it is also for the patient herolink means: anything else is
// someone else's, never to be finished or undone as ours. A free slot carrying our reference is
// our placeholder whatever its slot type: one written before the practice replaced or unmapped
// its unregistered slot type keeps the old type's id, and must still be undone or converted
// (EMIS clears the notes when an appointment is cancelled, and herolink when it gives a slot back).
func classify(sl emis.Slot, a store.AppointmentRow, unreg int) seen {
	ours := strings.Contains(sl.Notes, a.Reference)
	switch {
	case sl.Status == emis.SlotBooked && ours && len(sl.Patients) == 1 && sl.Patients[0].DBID == a.EMISPatientID && a.EMISPatientID != 0:
		return seenOurAppointment
	case sl.Status == emis.SlotAvailable && ours:
		return seenOurPlaceholder
	case sl.Status == emis.SlotAvailable && sl.Notes == "":
		return seenFree
	}
	return seenTaken
}

// recordSeen writes down what the read-back found: it is now known, not unknown.
func (s *Service) recordSeen(ctx context.Context, a store.AppointmentRow, st seen) error {
	written := ""
	switch st {
	case seenOurAppointment:
		written = "appointment"
	case seenOurPlaceholder:
		written = "placeholder"
	}
	return s.Store.RecordWritten(ctx, s.Store.DBQ(), a.ID, written)
}

// attempt records, before the call, that a write is about to be sent: if the process dies or
// the call times out, the next run reads back instead of writing blind.
// It is also the fence: only the holder of the appointment's lease gets past it (lease.go).
func (s *Service) attempt(ctx context.Context, a store.AppointmentRow) error {
	if err := s.fenceWrite(ctx, a); err != nil {
		return err
	}
	return s.Store.AddEMISCalls(ctx, a.ID, 1)
}

// written records a definite write outcome without changing the state; when herolink's own
// write landed, the diary copy records it in the same transaction (recordWrite).
func (s *Service) written(ctx context.Context, a store.AppointmentRow, what string, landed bool) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.RecordWritten(ctx, tx, a.ID, what); err != nil || !landed {
			return err
		}
		return s.recordWrite(ctx, tx, a, what)
	})
}

// finish records that EMIS holds the booking (as an appointment or a placeholder). If the
// appointment was cancelled meanwhile, only what EMIS holds is recorded: the next step undoes it.
// A reschedule's old booking is released here, once the new one is safe in EMIS.
func (s *Service) finish(ctx context.Context, a store.AppointmentRow, what string) error {
	state := StateBooked
	if what == "placeholder" {
		state = StatePlaceholder
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		// The alert for waiting on EMIS is over (CompleteBooking clears it); a placeholder may
		// need the unregistered patient alert, which is another one.
		err := s.Store.CompleteBooking(ctx, tx, a.ID, string(state), what, s.now())
		if errors.Is(err, store.ErrStateChanged) {
			if err := s.Store.RecordWritten(ctx, tx, a.ID, what); err != nil {
				return err
			}
			return s.recordWrite(ctx, tx, a, what)
		}
		if err != nil {
			return err
		}
		if err := s.recordWrite(ctx, tx, a, what); err != nil {
			return err
		}
		if err := s.recordOutcome(ctx, tx, a, what); err != nil {
			return err
		}
		if what == "appointment" {
			if err := s.confirmStaffLink(ctx, tx, a); err != nil {
				return err
			}
		}
		if a.RescheduledFrom == "" || a.State == string(StatePlaceholder) {
			return nil
		}
		err = s.Store.ReleaseRescheduled(ctx, tx, a.RescheduledFrom, a.ID,
			store.Cancellation{By: "reschedule", Reason: "rescheduled to " + a.ID, At: s.now()})
		if errors.Is(err, store.ErrStateChanged) {
			return nil // the old booking was cancelled meanwhile: nothing to release
		}
		if err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, a.RescheduledFrom, "appointment.rescheduled", a.ID); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, a.RescheduledFrom)
	})
}

// fail records that EMIS will not take the booking, with up to three alternatives.
func (s *Service) fail(ctx context.Context, a store.AppointmentRow, code string) error {
	alts := s.alternatives(ctx, a)
	js, _ := json.Marshal(alts)
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		// A placeholder fails too when the practice gave its time away while it was being
		// converted: the partner is told, with alternatives, rather than left with nothing.
		err := s.Store.FailBooking(ctx, tx, a.ID, code, string(js))
		if errors.Is(err, store.ErrStateChanged) {
			// Cancelled meanwhile: nothing of ours is in the slot, which is all a cancellation needs.
			return s.Store.MarkWriteSettled(ctx, tx, a.ID)
		}
		if err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.failed", code); err != nil {
			return err
		}
		if a.RescheduledFrom != "" {
			return s.Store.AddAppointmentEvent(ctx, tx, a.RescheduledFrom, "appointment.reschedule_failed", a.ID)
		}
		return nil
	})
}

// alternatives offers the nearest free slots of the same type at the same practice.
func (s *Service) alternatives(ctx context.Context, a store.AppointmentRow) []string {
	from := a.StartAt
	if now := s.now(); from.Before(now) {
		from = now
	}
	rows, err := s.Store.FreeSlots(ctx, store.FreeSlotQuery{GroupID: a.PracticeGroupID, PracticeID: a.PracticeID,
		TypeID: a.EMISSlotTypeID, From: from, To: from.AddDate(0, 0, 14), Now: s.now(), Limit: 3})
	out := []string{}
	if err != nil {
		s.log().Error("alternatives", "appointment", a.ID, "err", err)
		return out
	}
	for _, r := range rows {
		if r.SlotID != a.SlotID {
			out = append(out, slotID(r.PracticeID, r.SlotID))
		}
	}
	return out
}

// match looks the patient up in EMIS. A link needs the matching rules to be sure; otherwise
// the booking becomes a placeholder. When EMIS cannot answer for longer than MatchDeadline,
// the booking also becomes a placeholder, so the time is reserved while a human decides.
func (s *Service) match(ctx context.Context, conn *emis.Conn, a store.AppointmentRow) error {
	if l, err := s.Store.PatientLink(ctx, a.PatientID, a.PracticeID); err == nil {
		return s.matchTx(ctx, a, func(tx *store.Tx) error {
			return s.Store.RecordPatientMatch(ctx, tx, a.ID, l.EMISPatientID, l.Rule, s.now())
		})
	}
	pat, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID)
	if err != nil {
		return err
	}
	v, calls, err := s.countedSearch(ctx, conn, demographicsOf(pat))
	if cerr := s.Store.AddEMISCalls(ctx, a.ID, calls); cerr != nil {
		return cerr
	}
	if err != nil {
		if a.State == string(StateConfirming) && !a.ConfirmedAt.IsZero() && s.now().Sub(a.ConfirmedAt) > s.matchDeadline() {
			// The search never answered: the time of the last answered one stands.
			return s.Store.RecordMatchAttempt(ctx, s.Store.DBQ(), a.ID, RuleMatchTimedOut, time.Time{})
		}
		return fmt.Errorf("booking: match patient for %s: %w", a.Reference, err)
	}
	if v.Outcome != "linked" {
		return s.matchTx(ctx, a, func(tx *store.Tx) error {
			if err := s.Store.RecordMatchAttempt(ctx, tx, a.ID, v.Rule, s.now()); err != nil {
				return err
			}
			return s.saveCandidates(ctx, tx, a.ID, v) // for staff, in the inbox
		})
	}
	return s.matchTx(ctx, a, func(tx *store.Tx) error {
		if err := s.Store.LinkPatient(ctx, tx, store.PatientLinkRow{PatientID: a.PatientID, PracticeID: a.PracticeID,
			EMISPatientID: v.EMISNumber, Rule: v.Rule, LinkedBy: "matching"}); err != nil {
			return err
		}
		return s.Store.RecordPatientMatch(ctx, tx, a.ID, v.EMISNumber, v.Rule, s.now())
	})
}

// noteError keeps the last error for staff and alerts them, once, when a booking has waited
// for EMIS longer than AlertAfter.
func (s *Service) noteError(ctx context.Context, a store.AppointmentRow, cause error) {
	ctx = context.WithoutCancel(ctx)
	alert := a.State == string(StateConfirming) && a.AlertedAt.IsZero() && !a.ConfirmedAt.IsZero() &&
		s.now().Sub(a.ConfirmedAt) > s.alertAfter()
	var alertedAt time.Time // zero: no alert now
	if alert {
		alertedAt = s.now()
	}
	if err := s.Store.NoteError(ctx, s.Store.DBQ(), a.ID, clip(cause.Error(), 500), alertedAt); err != nil {
		s.log().Error("record write-back error", "appointment", a.ID, "err", err)
	}
	s.log().Warn("write-back did not complete", "appointment", a.ID, "practice", a.PracticeID, "err", cause)
	if alert {
		s.log().Error("booking waiting for EMIS: staff alerted", "appointment", a.ID, "practice", a.PracticeID)
		_ = s.Store.AppendAudit(ctx, store.AuditEntry{Actor: "herolink", Action: "booking_waiting_for_emis", PracticeID: a.PracticeID,
			Detail: fmt.Sprintf("booking %s has waited more than %s for EMIS; it will be written when EMIS answers", a.Reference, s.alertAfter())})
	}
}

func (s *Service) bookedBy() string {
	if s.BookedBy != "" {
		return s.BookedBy
	}
	return "herolink"
}

// appointmentNotes carries the reference (how a read-back recognises our write) and the
// partner's comment.
func (s *Service) appointmentNotes(a store.AppointmentRow) string {
	notes := "herolink " + a.Reference
	if a.Comment != "" {
		notes += ": " + a.Comment
	}
	return clip(notes, 1000)
}

// placeholderNotes tell reception whose time this is, so they can find or register the patient.
func (s *Service) placeholderNotes(ctx context.Context, a store.AppointmentRow) (string, error) {
	p, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "herolink %s: unregistered patient booking. Patient: %s %s", a.Reference, p.GivenName, p.FamilyName)
	if p.DateOfBirth != "" {
		fmt.Fprintf(&b, ", born %s", p.DateOfBirth)
	}
	if p.NHSNumber != "" {
		fmt.Fprintf(&b, ", NHS number %s", p.NHSNumber)
	}
	if p.Postcode != "" {
		fmt.Fprintf(&b, ", postcode %s", p.Postcode)
	}
	if p.Phone != "" {
		fmt.Fprintf(&b, ", phone %s", p.Phone)
	}
	if p.Email != "" {
		fmt.Fprintf(&b, ", email %s", p.Email)
	}
	if a.Description != "" {
		fmt.Fprintf(&b, ". Reason: %s", a.Description)
	}
	b.WriteString(". Link the patient in herolink to book the real appointment.")
	return clip(b.String(), 1000), nil
}
