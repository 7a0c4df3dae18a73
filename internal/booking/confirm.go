package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"herolink/internal/store"
)

// Book confirms a hold for a patient: the appointment becomes confirming and its write-back
// job is enqueued in the same transaction, so a confirmed booking always has a job.
func (s *Service) Book(ctx context.Context, group, id string, p PatientInput) (Appointment, error) {
	a, err := s.load(ctx, group, id)
	if err != nil {
		return Appointment{}, err
	}
	if err := s.requireLiveHold(a); err != nil {
		return Appointment{}, err
	}
	pat, isNew, err := s.resolvePatient(ctx, group, p)
	if err != nil {
		return Appointment{}, err
	}
	var emisPatient int64
	if l, err := s.Store.PatientLink(ctx, pat.ID, a.PracticeID); err == nil {
		emisPatient = l.EMISPatientID
	} else if !errors.Is(err, store.ErrNotFound) {
		return Appointment{}, err
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if isNew {
			if err := s.Store.InsertPatient(ctx, tx, pat); err != nil {
				return err
			}
		}
		if err := s.Store.ConfirmBooking(ctx, tx, id, pat.ID, emisPatient, s.now()); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.confirming", ""); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, id); err != nil {
			return err
		}
		return commit(ctx, tx, id)
	})
	if errors.Is(err, store.ErrStateChanged) {
		return Appointment{}, refuse(CodeInvalidState, "appointment %s changed meanwhile (its hold may have run out); read it again", id)
	}
	if err != nil {
		return Appointment{}, err
	}
	return s.Appointment(ctx, group, id)
}

// enqueue inserts the appointment's write-back job in the caller's transaction.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, id string) error {
	if s.River == nil {
		return errors.New("booking: no job queue configured")
	}
	if _, err := s.River.InsertTx(ctx, tx, WritebackArgs{AppointmentID: id}, nil); err != nil {
		return fmt.Errorf("booking: enqueue write-back of %s: %w", id, err)
	}
	return nil
}

// Cancel cancels a hold or a booking. A booking already in EMIS is cancelled there by the
// write-back job. Partners cannot cancel inside the practice's cut-off; staff can.
func (s *Service) Cancel(ctx context.Context, group, id string, c CancelRequest) (Appointment, error) {
	if utf8.RuneCountInString(c.Reason) > maxComment {
		return Appointment{}, &Error{Code: CodeInvalid, Message: "reason is too long",
			Fields: []FieldError{{Field: "reason", Code: "too_long", Message: fmt.Sprintf("at most %d characters", maxComment)}}}
	}
	a, err := s.load(ctx, group, id)
	if err != nil {
		return Appointment{}, err
	}
	by := "partner"
	if c.Staff {
		by = "staff"
	}
	switch State(a.State) {
	case StateCancelled:
		return s.present(ctx, a) // cancelling twice changes nothing
	case StateExpired, StateFailed:
		return Appointment{}, refuse(CodeInvalidState, "appointment %s is %s: there is nothing to cancel", id, a.State)
	case StateReserved:
		if !s.now().Before(a.ReservedUntil) {
			return Appointment{}, refuse(CodeInvalidState, "appointment %s is expired: there is nothing to cancel", id)
		}
	default:
		if a.MatchRule == RuleBookedInEMIS && !c.Staff {
			return Appointment{}, refuse(CodeInvalidState, "the practice completed booking %s in EMIS itself; the patient should contact the practice to change it", a.Reference)
		}
		if err := s.checkCutoff(ctx, a, c.Staff); err != nil {
			return Appointment{}, err
		}
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.CancelBooking(ctx, tx, id, a.State, store.Cancellation{By: by, Reason: c.Reason, At: s.now()}); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.cancelled", by); err != nil {
			return err
		}
		if a.State != string(StateReserved) { // a hold never reached EMIS
			if err := s.enqueue(ctx, tx, id); err != nil {
				return err
			}
		}
		return commit(ctx, tx, id)
	})
	if errors.Is(err, store.ErrStateChanged) {
		return Appointment{}, refuse(CodeInvalidState, "appointment %s changed meanwhile; read it again", id)
	}
	if err != nil {
		return Appointment{}, err
	}
	return s.Appointment(ctx, group, id)
}

// checkCutoff applies the practice's cancellation policy to partners.
func (s *Service) checkCutoff(ctx context.Context, a store.AppointmentRow, staff bool) error {
	if staff {
		return nil
	}
	policy, err := s.Store.BookingPolicy(ctx, a.PracticeID)
	if err != nil {
		return err
	}
	if left := a.StartAt.Sub(s.now()); left < policy.CancelCutoff {
		return refuse(CodeCancellationWindow, "the practice does not allow online changes within %s of the appointment; the patient should call the practice",
			humanDuration(policy.CancelCutoff))
	}
	return nil
}

func humanDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		if h := int(d / time.Hour); h == 1 {
			return "1 hour"
		} else {
			return fmt.Sprintf("%d hours", h)
		}
	}
	return fmt.Sprintf("%d minutes", int(d/time.Minute))
}

// Reschedule books a new slot for the same patient. The old booking is released only once
// the new one is in EMIS (see the write-back worker), so a failure never leaves the patient
// with nothing. It returns the new appointment.
func (s *Service) Reschedule(ctx context.Context, group, id string, r ReserveRequest) (Appointment, error) {
	if e := validateReserve(r); e != nil {
		return Appointment{}, e
	}
	old, err := s.load(ctx, group, id)
	if err != nil {
		return Appointment{}, err
	}
	if old.State != string(StateBooked) && old.State != string(StatePlaceholder) {
		return Appointment{}, refuse(CodeInvalidState, "appointment %s is %s; only a booking written into EMIS can be rescheduled", id, old.State)
	}
	if old.MatchRule == RuleBookedInEMIS {
		return Appointment{}, refuse(CodeInvalidState, "the practice completed booking %s in EMIS itself; the patient should contact the practice to change it", old.Reference)
	}
	if pending, err := s.Store.LiveRescheduleOf(ctx, old.ID); err != nil {
		return Appointment{}, err
	} else if pending != "" {
		return Appointment{}, refuse(CodeInvalidState, "appointment %s is already being rescheduled to %s", id, pending)
	}
	if err := s.checkCutoff(ctx, old, false); err != nil {
		return Appointment{}, err
	}
	row, _, err := s.newHold(ctx, group, old.APIKeyID, r)
	if err != nil {
		return Appointment{}, err
	}
	row.State, row.PatientID, row.RescheduledFrom = string(StateConfirming), old.PatientID, old.ID
	if row.Description == "" {
		row.Description, row.Comment = old.Description, old.Comment
	}
	var emisPatient int64
	if row.PracticeID == old.PracticeID && old.EMISPatientID != 0 {
		emisPatient = old.EMISPatientID
	} else if l, err := s.Store.PatientLink(ctx, old.PatientID, row.PracticeID); err == nil {
		emisPatient = l.EMISPatientID
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.InsertHold(ctx, tx, row); err != nil {
			return err
		}
		if err := s.Store.ConfirmReschedule(ctx, tx, row.ID, emisPatient, s.now()); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, row.ID, "appointment.confirming", "rescheduled from "+old.ID); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, row.ID); err != nil {
			return err
		}
		return commit(ctx, tx, row.ID)
	})
	if errors.Is(err, store.ErrSlotHeld) {
		return Appointment{}, refuse(CodeSlotUnavailable, "slot %s is already held or booked", r.SlotID)
	}
	if err != nil {
		return Appointment{}, err
	}
	return s.Appointment(ctx, group, row.ID)
}

// clip shortens free text written into EMIS's notes to at most n bytes, on a character
// boundary.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
