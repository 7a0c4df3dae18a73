package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Refusals of a staff link.
const (
	// CodeEMISRecordNotFound: EMIS does not know the EMIS number (a typo, or a record no
	// longer registered at the practice).
	CodeEMISRecordNotFound Code = "emis_record_not_found"
	// CodeDemographicsMismatch: the record's surname, date of birth or NHS number disagree
	// with what the patient typed, and staff have not confirmed it with a reason.
	CodeDemographicsMismatch Code = "demographics_mismatch"
)

// LinkRequest is staff saying which EMIS record a placeholder's patient is.
type LinkRequest struct {
	EMISNumber int64
	// ConfirmMismatch, with a Reason, is staff confirming that the record is the patient
	// although its details disagree with what the patient typed (a married name, a typo).
	ConfirmMismatch bool
	Reason          string
	Actor           string // the staff member's username, for the audit trail
}

// RecordCheck is the EMIS record beside what the patient typed, as staff see them before linking.
type RecordCheck struct {
	AppointmentID string
	Reference     string
	EMISNumber    int64
	Typed         Details
	Record        Details
	Disagree      []string // family_name, date_of_birth, nhs_number
}

// MismatchError refuses a link whose record disagrees with the patient, unconfirmed. It
// carries both sets of details for staff; its text carries neither.
type MismatchError struct{ Check RecordCheck }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("booking: %s: EMIS number %d disagrees with what the patient typed on %s (%s)", CodeDemographicsMismatch,
		e.Check.EMISNumber, strings.Join(e.Check.Disagree, ", "), e.Check.Reference)
}

// As lets callers that branch on *Error (CodeOf, the web layer) see the refusal's code.
func (e *MismatchError) As(target any) bool {
	t, ok := target.(**Error)
	if ok {
		*t = &Error{Code: CodeDemographicsMismatch, Message: fmt.Sprintf("the details of EMIS number %d disagree with what the patient typed (%s): confirm with a reason, or check the number",
			e.Check.EMISNumber, strings.Join(e.Check.Disagree, ", "))}
	}
	return ok
}

const maxLinkReason = 500

// CheckLink reads the EMIS record staff named and puts it beside what the patient typed,
// without changing anything.
func (s *Service) CheckLink(ctx context.Context, practiceID int64, id string, emisNumber int64) (RecordCheck, error) {
	a, pat, err := s.linkable(ctx, practiceID, id, emisNumber)
	if err != nil {
		return RecordCheck{}, err
	}
	return s.readForLink(ctx, a, pat, emisNumber)
}

// LinkPlaceholder is staff saying which EMIS record a placeholder's patient is. herolink reads
// the record first: an EMIS number EMIS does not know is refused, and a record whose surname,
// date of birth or NHS number disagree with what the patient typed needs an explicit
// confirmation with a reason (audited with the staff member's name). The write-back then
// converts the placeholder; the patient's link is stored only once EMIS holds the appointment.
func (s *Service) LinkPlaceholder(ctx context.Context, practiceID int64, id string, req LinkRequest) (RecordCheck, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.ConfirmMismatch && req.Reason == "" {
		return RecordCheck{}, &Error{Code: CodeInvalid, Message: "say why this record is the patient although the details disagree",
			Fields: []FieldError{{Field: "reason", Code: "required", Message: "give the reason the record is the patient (for example a married name)"}}}
	}
	if len(req.Reason) > maxLinkReason {
		return RecordCheck{}, &Error{Code: CodeInvalid, Message: fmt.Sprintf("the reason is at most %d characters", maxLinkReason),
			Fields: []FieldError{{Field: "reason", Code: "too_long", Message: fmt.Sprintf("at most %d characters", maxLinkReason)}}}
	}
	a, pat, err := s.linkable(ctx, practiceID, id, req.EMISNumber)
	if err != nil {
		return RecordCheck{}, err
	}
	check, err := s.readForLink(ctx, a, pat, req.EMISNumber)
	if err != nil {
		return RecordCheck{}, err
	}
	mismatch := len(check.Disagree) > 0
	if mismatch && !req.ConfirmMismatch {
		return check, &MismatchError{Check: check}
	}
	detail := fmt.Sprintf("booking %s: staff asked to book it for EMIS number %d; the record agrees with the patient", a.Reference, req.EMISNumber)
	if mismatch {
		detail = fmt.Sprintf("booking %s: staff confirmed EMIS number %d although the record's %s disagree with what the patient typed; reason: %s",
			a.Reference, req.EMISNumber, strings.Join(check.Disagree, ", "), req.Reason)
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		// Only a placeholder nobody is linking or converting changes: checked again inside the
		// transaction (one writer), so two members of staff linking at once cannot both win.
		cur, err := s.Store.Appointment(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.EMISPatientID != 0 || cur.WriteUnknown || cur.EMISWritten != "placeholder" {
			return store.ErrStateChanged
		}
		if err := s.Store.LinkPlaceholderPatient(ctx, tx, id, req.EMISNumber, RuleStaff); err != nil {
			return err
		}
		if err := s.Store.SaveStaffLink(ctx, tx, store.StaffLinkRow{AppointmentID: a.ID, PatientID: a.PatientID, PracticeID: practiceID,
			EMISPatientID: req.EMISNumber, RecordFamilyName: check.Record.FamilyName, RecordDateOfBirth: check.Record.DateOfBirth,
			Mismatch: mismatch, Reason: req.Reason, LinkedBy: req.Actor}); err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.link_requested", "staff"); err != nil {
			return err
		}
		action := "placeholder_link_requested"
		if mismatch {
			action = "placeholder_link_mismatch_confirmed"
		}
		if err := s.Store.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: req.Actor, Action: action, PracticeID: practiceID, Detail: detail}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, id)
	})
	if errors.Is(err, store.ErrStateChanged) {
		return RecordCheck{}, refuse(CodeInvalidState, "booking %s changed meanwhile; read it again", a.Reference)
	}
	return check, err
}

// linkable loads a placeholder staff may link, and its patient.
func (s *Service) linkable(ctx context.Context, practiceID int64, id string, emisNumber int64) (store.AppointmentRow, store.PatientRow, error) {
	if emisNumber <= 0 {
		return store.AppointmentRow{}, store.PatientRow{}, &Error{Code: CodeInvalid, Message: "the EMIS number is a positive whole number, as shown on the patient's record",
			Fields: []FieldError{{Field: "emis_number", Code: "format", Message: "enter the EMIS number shown on the patient's record"}}}
	}
	a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.PracticeID != practiceID) {
		return a, store.PatientRow{}, refuse(CodeNotFound, "there is no booking %s at this practice", id)
	}
	if err != nil {
		return a, store.PatientRow{}, err
	}
	if a.State != string(StatePlaceholder) {
		return a, store.PatientRow{}, refuse(CodeInvalidState, "booking %s is %s, not a placeholder", a.Reference, a.State)
	}
	// A link already being written into EMIS is not changed under the worker's feet: the
	// appointment could be booked for the first number while herolink records the second.
	if a.EMISPatientID != 0 || a.WriteUnknown || a.EMISWritten != "placeholder" {
		return a, store.PatientRow{}, refuse(CodeInvalidState, "booking %s is already being booked for EMIS number %d; wait until it is done, then cancel it if the number was wrong", a.Reference, a.EMISPatientID)
	}
	pat, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID)
	if err != nil {
		return a, pat, fmt.Errorf("booking: patient of %s: %w", a.Reference, err)
	}
	return a, pat, nil
}

// readForLink reads the EMIS record and compares it with the patient.
func (s *Service) readForLink(ctx context.Context, a store.AppointmentRow, pat store.PatientRow, emisNumber int64) (RecordCheck, error) {
	conn, err := s.Conns.Conn(ctx, a.PracticeID)
	if err != nil {
		return RecordCheck{}, fmt.Errorf("booking: EMIS connection of practice %d: %w", a.PracticeID, err)
	}
	rec, err := conn.GetPatientDemographics(ctx, emisNumber)
	if errors.Is(err, emis.ErrPatientNotFound) {
		return RecordCheck{}, &Error{Code: CodeEMISRecordNotFound,
			Message: fmt.Sprintf("EMIS has no registered patient with EMIS number %d: check the number on the patient's record", emisNumber),
			Fields:  []FieldError{{Field: "emis_number", Code: "not_found", Message: "EMIS does not know this EMIS number"}}}
	}
	if err != nil {
		return RecordCheck{}, fmt.Errorf("booking: read EMIS record %d for %s: %w", emisNumber, a.Reference, err)
	}
	typed, record := detailsOfPatient(pat), detailsOfRecord(*rec)
	return RecordCheck{AppointmentID: a.ID, Reference: a.Reference, EMISNumber: emisNumber, Typed: typed, Record: record,
		Disagree: disagreements(typed, record)}, nil
}

// confirmStaffLink stores the patient's link once EMIS holds the appointment staff asked for:
// until then nothing says the patient is linked. Runs in finish's transaction.
func (s *Service) confirmStaffLink(ctx context.Context, tx *store.Tx, a store.AppointmentRow) error {
	if a.MatchRule != RuleStaff || a.EMISPatientID == 0 {
		return nil
	}
	l, err := s.Store.StaffLinkOf(ctx, tx, a.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.EMISPatientID != a.EMISPatientID) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.Store.LinkPatient(ctx, tx, store.PatientLinkRow{PatientID: a.PatientID, PracticeID: a.PracticeID,
		EMISPatientID: a.EMISPatientID, Rule: RuleStaff, LinkedBy: l.LinkedBy}); err != nil {
		return err
	}
	return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.patient_linked", "staff")
}
