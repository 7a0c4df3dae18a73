package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"herolink/internal/store"
)

// StaffItem is a booking staff need to look at, as the practice page lists it.
type StaffItem struct {
	ID          string
	Reference   string
	State       State
	StartAt     time.Time
	PatientName string // staff may see the patient: they reconcile placeholders
	DateOfBirth string
	NHSNumber   string
	MatchRule   string
	LastError   string
	Alerted     bool
	ConfirmedAt time.Time
}

// StaffQueue lists a practice's placeholders to reconcile and its bookings still waiting for
// EMIS, soonest first.
func (s *Service) StaffQueue(ctx context.Context, practiceID int64) (placeholders, waiting []StaffItem, err error) {
	rows, err := s.Store.AppointmentsWhere(ctx, practiceID, string(StatePlaceholder), string(StateConfirming))
	if err != nil {
		return nil, nil, err
	}
	for _, a := range rows {
		it := StaffItem{ID: a.ID, Reference: a.Reference, State: State(a.State), StartAt: a.StartAt, MatchRule: a.MatchRule,
			LastError: a.LastError, Alerted: !a.AlertedAt.IsZero(), ConfirmedAt: a.ConfirmedAt}
		if p, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID); err == nil {
			it.PatientName, it.DateOfBirth, it.NHSNumber = p.GivenName+" "+p.FamilyName, p.DateOfBirth, p.NHSNumber
		}
		if a.State == string(StatePlaceholder) {
			placeholders = append(placeholders, it)
		} else {
			waiting = append(waiting, it)
		}
	}
	return placeholders, waiting, nil
}

// LinkPlaceholder is staff saying which EMIS record a placeholder's patient is: herolink
// links the patient and the write-back converts the placeholder into the real appointment.
func (s *Service) LinkPlaceholder(ctx context.Context, practiceID int64, id string, emisNumber int64, actor string) error {
	if emisNumber <= 0 {
		return &Error{Code: CodeInvalid, Message: "the EMIS number is a positive whole number, as shown on the patient's record",
			Fields: []FieldError{{Field: "emis_number", Code: "format", Message: "enter the EMIS number shown on the patient's record"}}}
	}
	a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PracticeID != practiceID) {
		return refuse(CodeNotFound, "there is no booking %s at this practice", id)
	}
	if err != nil {
		return err
	}
	if a.State != string(StatePlaceholder) {
		return refuse(CodeInvalidState, "booking %s is %s, not a placeholder", a.Reference, a.State)
	}
	// A link already being written into EMIS is not changed under the worker's feet: the
	// appointment could be booked for the first number while herolink records the second.
	if a.EMISPatientID != 0 || a.WriteUnknown || a.EMISWritten != "placeholder" {
		return refuse(CodeInvalidState, "booking %s is already being booked for EMIS number %d; wait until it is done, then cancel it if the number was wrong", a.Reference, a.EMISPatientID)
	}
	return s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.LinkPatient(ctx, tx, store.PatientLinkRow{PatientID: a.PatientID, PracticeID: practiceID,
			EMISPatientID: emisNumber, Rule: RuleStaff, LinkedBy: actor}); err != nil {
			return err
		}
		if err := s.Store.UpdateAppointment(ctx, tx, id, []string{string(StatePlaceholder)},
			store.Set{Column: "emis_patient_id", Value: emisNumber}, store.Set{Column: "match_rule", Value: RuleStaff}); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.patient_linked", "staff"); err != nil {
			return err
		}
		if err := s.Store.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: actor, Action: "placeholder_linked", PracticeID: practiceID,
			Detail: fmt.Sprintf("booking %s linked to EMIS number %d", a.Reference, emisNumber)}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, id)
	})
}

// StaffCancel cancels a booking of the practice for staff, who may override the cut-off.
func (s *Service) StaffCancel(ctx context.Context, practiceID int64, id, reason, actor string) (Appointment, error) {
	a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PracticeID != practiceID) {
		return Appointment{}, refuse(CodeNotFound, "there is no booking %s at this practice", id)
	}
	if err != nil {
		return Appointment{}, err
	}
	out, err := s.Cancel(ctx, a.PracticeGroupID, id, CancelRequest{Reason: reason, Staff: true, Actor: actor})
	if err == nil {
		_ = s.Store.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: "booking_cancelled_by_staff", PracticeID: practiceID,
			Detail: "booking " + a.Reference})
	}
	return out, err
}
