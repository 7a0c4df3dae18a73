package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// How a placeholder became a real appointment: the detail of appointment.reconciled, the
// internal event recorded in the same transaction as every conversion (the webhook
// appointment.reconciled is made from it).
const (
	ReconciledAutoMatch    = "auto_match"     // a later search found the patient by matching's rules
	ReconciledStaffLink    = "staff_link"     // staff linked the EMIS number, checked against EMIS
	ReconciledBookedInEMIS = "booked_in_emis" // the practice booked the time in EMIS itself
)

// recordOutcome records, in finish's transaction, the event of a booking EMIS now holds. A
// placeholder turned into the patient's appointment is reconciled (how it came about in the
// detail), not confirmed again: partners were told of the booking when the placeholder was
// written. A placeholder written again after an interrupted conversion is no news.
func (s *Service) recordOutcome(ctx context.Context, tx *store.Tx, a store.AppointmentRow, what string) error {
	if a.State != string(StatePlaceholder) {
		return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.confirmed", what)
	}
	if what != "appointment" {
		return nil
	}
	how := ReconciledAutoMatch
	if a.MatchRule == RuleStaff {
		how = ReconciledStaffLink
	}
	return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.reconciled", how)
}

// CodeNotBookedInEMIS refuses "booked by hand in EMIS" when the placeholder's slot does not
// hold a real appointment there (still our placeholder, free, blocked or gone).
const CodeNotBookedInEMIS Code = "not_booked_in_emis"

// BookedInEMISRequest is staff saying they booked a placeholder's patient by hand in EMIS,
// into the placeholder's own slot.
type BookedInEMISRequest struct {
	// ConfirmMismatch, with a Reason, is staff confirming that the patient EMIS holds in the
	// slot is the patient who booked although the details disagree.
	ConfirmMismatch bool
	Reason          string
	Actor           string
}

// MarkBookedInEMIS follows an appointment staff booked by hand in EMIS in place of a
// placeholder. herolink believes nobody: it reads the slot from EMIS, which must now hold a
// real appointment for one registered patient, and reads that patient's record to put it
// beside what the patient typed; details that disagree need an explicit confirmation with a
// reason, as a staff link does. The booking then becomes booked against that appointment
// (rule booked_in_emis), and appointment.reconciled is recorded in the same transaction.
// herolink does not adopt the patient EMIS holds there as its patient's record: no link is
// stored and nothing is ever written into that record for later bookings.
func (s *Service) MarkBookedInEMIS(ctx context.Context, practiceID int64, id string, req BookedInEMISRequest) (RecordCheck, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.ConfirmMismatch && req.Reason == "" {
		return RecordCheck{}, &Error{Code: CodeInvalid, Message: "say why the patient EMIS holds in the slot is this patient although the details disagree",
			Fields: []FieldError{{Field: "reason", Code: "required", Message: "give the reason the record is the patient (for example a married name)"}}}
	}
	if len(req.Reason) > maxLinkReason {
		return RecordCheck{}, &Error{Code: CodeInvalid, Message: fmt.Sprintf("the reason is at most %d characters", maxLinkReason),
			Fields: []FieldError{{Field: "reason", Code: "too_long", Message: fmt.Sprintf("at most %d characters", maxLinkReason)}}}
	}
	a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PracticeID != practiceID) {
		return RecordCheck{}, refuse(CodeNotFound, "there is no booking %s at this practice", id)
	}
	if err != nil {
		return RecordCheck{}, err
	}
	if err := placeholderAtRest(a); err != nil {
		return RecordCheck{}, err
	}
	pat, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID)
	if err != nil {
		return RecordCheck{}, fmt.Errorf("booking: patient of %s: %w", a.Reference, err)
	}
	conn, err := s.Conns.Conn(ctx, a.PracticeID)
	if err != nil {
		return RecordCheck{}, fmt.Errorf("booking: EMIS connection of practice %d: %w", a.PracticeID, err)
	}
	unreg, err := s.Store.UnregisteredSlotTypeID(ctx, a.PracticeID)
	if err != nil {
		return RecordCheck{}, err
	}
	st, sl, err := s.readSlot(ctx, conn, a, unreg)
	if err != nil {
		return RecordCheck{}, err
	}
	if st == seenOurPlaceholder || st == seenGone || sl.Status != emis.SlotBooked || len(sl.Patients) != 1 || sl.Patients[0].DBID <= 0 {
		return RecordCheck{}, refuse(CodeNotBookedInEMIS, "EMIS does not show an appointment in the slot of booking %s (%s): book the patient into that slot in EMIS first, or link their EMIS number",
			a.Reference, describeSlot(st, sl))
	}
	emisNumber := sl.Patients[0].DBID
	rec, err := conn.GetPatientDemographics(ctx, emisNumber)
	if errors.Is(err, emis.ErrPatientNotFound) {
		return RecordCheck{}, refuse(CodeNotBookedInEMIS, "the appointment in the slot of booking %s is for EMIS number %d, which EMIS no longer has on its register", a.Reference, emisNumber)
	}
	if err != nil {
		return RecordCheck{}, fmt.Errorf("booking: read EMIS record %d for %s: %w", emisNumber, a.Reference, err)
	}
	typed, record := detailsOfPatient(pat), detailsOfRecord(*rec)
	check := RecordCheck{AppointmentID: a.ID, Reference: a.Reference, EMISNumber: emisNumber, Typed: typed, Record: record,
		Disagree: disagreements(typed, record)}
	mismatch := len(check.Disagree) > 0
	if mismatch && !req.ConfirmMismatch {
		return check, &MismatchError{Check: check}
	}
	detail := fmt.Sprintf("booking %s: staff said it was booked by hand in EMIS; EMIS holds an appointment in its slot for EMIS number %d, whose record agrees with the patient", a.Reference, emisNumber)
	if mismatch {
		detail = fmt.Sprintf("booking %s: staff said it was booked by hand in EMIS and confirmed EMIS number %d although the record's %s disagree with what the patient typed; reason: %s",
			a.Reference, emisNumber, strings.Join(check.Disagree, ", "), req.Reason)
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		// Checked again under the row's lock: a link or a conversion that began meanwhile wins.
		cur, err := s.Store.Appointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if placeholderAtRest(cur) != nil {
			return store.ErrStateChanged
		}
		if err := s.Store.RecordBookedInEMIS(ctx, tx, id, RuleBookedInEMIS); err != nil {
			return err
		}
		if err := s.recordRead(ctx, tx, a.PracticeID, sl); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.booked_in_emis", "staff"); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.reconciled", ReconciledBookedInEMIS); err != nil {
			return err
		}
		return s.Store.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: req.Actor, Action: "placeholder_booked_in_emis", PracticeID: practiceID, Detail: detail})
	})
	if errors.Is(err, store.ErrStateChanged) {
		return RecordCheck{}, refuse(CodeInvalidState, "booking %s changed meanwhile; read it again", a.Reference)
	}
	return check, err
}

// placeholderAtRest refuses a booking that is not a placeholder nobody is converting: one
// being booked for a linked EMIS number, or whose last write's outcome is unknown, is left to
// the write-back.
func placeholderAtRest(a store.AppointmentRow) error {
	if a.State != string(StatePlaceholder) {
		return refuse(CodeInvalidState, "booking %s is %s, not a placeholder", a.Reference, a.State)
	}
	if a.EMISPatientID != 0 || a.WriteUnknown || a.EMISWritten != "placeholder" {
		return refuse(CodeInvalidState, "booking %s is being booked for EMIS number %d; wait until it is done", a.Reference, a.EMISPatientID)
	}
	return nil
}

// describeSlot says what EMIS holds in a slot, for staff, without patient details.
func describeSlot(st seen, sl emis.Slot) string {
	switch {
	case st == seenGone:
		return "the slot is no longer in EMIS"
	case st == seenOurPlaceholder:
		return "it still holds herolink's placeholder"
	case sl.Status == emis.SlotAvailable:
		return "the slot is free"
	case sl.Status == emis.SlotBooked:
		return fmt.Sprintf("booked for %d patients", len(sl.Patients))
	}
	return "the slot is " + strings.ToLower(sl.Status)
}

// matchTx records a search's outcome only while the booking is as the search found it: a
// placeholder staff followed to an appointment booked by hand in EMIS (or linked) meanwhile
// must not be given the search's patient, nor lose its rule. The row is read under its lock.
func (s *Service) matchTx(ctx context.Context, a store.AppointmentRow, fn func(tx *store.Tx) error) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.Store.Appointment(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if cur.State != a.State || cur.EMISPatientID != 0 {
			return nil // changed meanwhile: the next step reads it again
		}
		return fn(tx)
	})
}
