package booking

import (
	"context"
	"errors"
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
	Typed       Details // what the patient typed, for the link check
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
			it.Typed = detailsOfPatient(p)
		}
		if a.State == string(StatePlaceholder) {
			placeholders = append(placeholders, it)
		} else {
			waiting = append(waiting, it)
		}
	}
	return placeholders, waiting, nil
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
