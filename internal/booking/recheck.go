package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/matching"
	"herolink/internal/store"
)

// RuleEMISRecordChanged: the EMIS record herolink had linked no longer agrees with the
// patient's details (its surname, date of birth or NHS number changed, or the link was wrong).
// The code says only that, never whose record it now is.
const RuleEMISRecordChanged = "emis_record_changed"

// Details are a person's identifying details: what a patient typed, or what an EMIS record holds.
type Details struct {
	FamilyName  string `json:"family_name"`
	GivenName   string `json:"given_name"`
	DateOfBirth string `json:"date_of_birth"`
	NHSNumber   string `json:"nhs_number,omitempty"`
}

// String keeps details out of logs and error texts.
func (Details) String() string { return "[patient details]" }

func detailsOfPatient(p store.PatientRow) Details {
	return Details{FamilyName: p.FamilyName, GivenName: p.GivenName, DateOfBirth: p.DateOfBirth, NHSNumber: p.NHSNumber}
}

func detailsOfRecord(p emis.Patient) Details {
	return Details{FamilyName: p.FamilyName, GivenName: p.FirstNames, DateOfBirth: p.DateOfBirth, NHSNumber: p.NhsNumber}
}

// disagreements names the fields on which a patient and an EMIS record disagree: the surname
// (after matching's normalisation: case, spacing, hyphens, apostrophes, accents), the date of
// birth, and the NHS number when both have one. The first name is not compared: EMIS keeps
// middle names and known-as names there, and a surname plus a date of birth already decide.
func disagreements(typed, record Details) []string {
	var out []string
	if matching.NormaliseName(typed.FamilyName) != matching.NormaliseName(record.FamilyName) {
		out = append(out, "family_name")
	}
	if normaliseDate(typed.DateOfBirth) != normaliseDate(record.DateOfBirth) {
		out = append(out, "date_of_birth")
	}
	tn, rn := digits(typed.NHSNumber), digits(record.NHSNumber)
	if tn != "" && rn != "" && tn != rn {
		out = append(out, "nhs_number")
	}
	return out
}

func normaliseDate(s string) string {
	s = strings.TrimSpace(s)
	if d, err := emis.ParseDate(s); err == nil {
		return d.String()
	}
	return s
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// sameRecordAsConfirmed says whether a record still reads as it did when staff confirmed a
// disagreement with it: then the confirmation still stands.
func sameRecordAsConfirmed(l store.StaffLinkRow, record Details) bool {
	return matching.NormaliseName(l.RecordFamilyName) == matching.NormaliseName(record.FamilyName) &&
		normaliseDate(l.RecordDateOfBirth) == normaliseDate(record.DateOfBirth)
}

// recheckLink reads the linked EMIS record again just before herolink writes an appointment
// against it, and checks it still is the patient: a stored link (made by matching, by staff, or
// copied onto a reschedule) is never trusted on its own. When the record is gone or disagrees,
// the booking becomes a placeholder (its time is kept) and the link is forgotten. It answers
// whether the write may go ahead.
func (s *Service) recheckLink(ctx context.Context, conn *emis.Conn, a store.AppointmentRow) (bool, error) {
	if a.MatchRule == RuleBookedInEMIS || a.PatientID == "" {
		return true, nil
	}
	pat, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID)
	if err != nil {
		return false, err
	}
	if err := s.Store.AddEMISCalls(ctx, a.ID, 1); err != nil {
		return false, err
	}
	rec, err := conn.GetPatientDemographics(ctx, a.EMISPatientID)
	if errors.Is(err, emis.ErrPatientNotFound) {
		return false, s.dropLink(ctx, a, RuleEMISPatientNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("booking: re-read EMIS record of %s: %w", a.Reference, err)
	}
	record := detailsOfRecord(*rec)
	if len(disagreements(detailsOfPatient(pat), record)) == 0 || stillMatched(pat, *rec, a.EMISPatientID) {
		return true, nil
	}
	confirmed, err := s.Store.ConfirmedMismatches(ctx, a.PatientID, a.PracticeID, a.EMISPatientID)
	if err != nil {
		return false, err
	}
	for _, l := range confirmed {
		if sameRecordAsConfirmed(l, record) {
			return true, nil // staff confirmed this very difference, with a reason
		}
	}
	return false, s.dropLink(ctx, a, RuleEMISRecordChanged)
}

// stillMatched says whether matching's own rules, given the linked record alone, still link it
// to the patient's details. They link on the NHS number and date of birth despite another
// surname (a married name), so a link matching makes is not at once undone here as "the
// record changed" (which would also tell the partner the register's surname differs).
func stillMatched(p store.PatientRow, rec emis.Patient, emisNumber int64) bool {
	c := matching.CandidateFromEMIS(rec)
	c.EMISNumber = emisNumber // the record was read by this number
	v := matching.Decide(demographicsOf(p), []matching.Candidate{c})
	return v.Outcome == matching.Linked && v.EMISNumber == emisNumber
}

// dropLink turns the booking towards a placeholder and forgets the patient's link to the record.
func (s *Service) dropLink(ctx context.Context, a store.AppointmentRow, rule string) error {
	s.log().Warn("linked EMIS record no longer agrees: booking goes to a placeholder", "appointment", a.ID,
		"practice", a.PracticeID, "rule", rule)
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.DropPatientMatch(ctx, tx, a.ID, rule, s.now()); err != nil {
			return err
		}
		if err := s.Store.UnlinkPatient(ctx, tx, a.PatientID, a.PracticeID, a.EMISPatientID); err != nil {
			return err
		}
		return s.Store.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: "herolink", Action: "patient_link_dropped", PracticeID: a.PracticeID,
			Detail: fmt.Sprintf("booking %s: EMIS number %d no longer agrees with the patient (%s); booked as a placeholder for staff", a.Reference, a.EMISPatientID, rule)})
	})
}
