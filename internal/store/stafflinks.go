package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StaffLinkRow is staff's decision that a placeholder's patient is one EMIS record, with the
// record's details as EMIS showed them at the time.
type StaffLinkRow struct {
	AppointmentID     string
	PatientID         string
	PracticeID        int64
	EMISPatientID     int64
	RecordFamilyName  string
	RecordDateOfBirth string
	Mismatch          bool // the record disagreed with what the patient typed; staff confirmed it
	Reason            string
	LinkedBy          string
	CreatedAt         time.Time
}

// SaveStaffLink records (or replaces, for a placeholder linked again) staff's decision.
func (s *Store) SaveStaffLink(ctx context.Context, q Queryer, l StaffLinkRow) error {
	mismatch := 0
	if l.Mismatch {
		mismatch = 1
	}
	_, err := q.ExecContext(ctx, `INSERT INTO staff_links (appointment_id, patient_id, practice_id, emis_patient_id,
		record_family_name, record_date_of_birth, mismatch, reason, linked_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (appointment_id) DO UPDATE SET emis_patient_id = excluded.emis_patient_id,
		record_family_name = excluded.record_family_name, record_date_of_birth = excluded.record_date_of_birth,
		mismatch = excluded.mismatch, reason = excluded.reason, linked_by = excluded.linked_by, created_at = excluded.created_at`,
		l.AppointmentID, l.PatientID, l.PracticeID, l.EMISPatientID, l.RecordFamilyName, l.RecordDateOfBirth, mismatch,
		l.Reason, l.LinkedBy, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: save staff link: %w", err)
	}
	return nil
}

const staffLinkColumns = `appointment_id, patient_id, practice_id, emis_patient_id, record_family_name,
	record_date_of_birth, mismatch, reason, linked_by, created_at`

func scanStaffLink(row interface{ Scan(...any) error }) (StaffLinkRow, error) {
	var l StaffLinkRow
	var mismatch int
	var at int64
	err := row.Scan(&l.AppointmentID, &l.PatientID, &l.PracticeID, &l.EMISPatientID, &l.RecordFamilyName,
		&l.RecordDateOfBirth, &mismatch, &l.Reason, &l.LinkedBy, &at)
	l.Mismatch, l.CreatedAt = mismatch != 0, time.UnixMilli(at)
	return l, err
}

// StaffLinkOf reads staff's decision for one appointment.
func (s *Store) StaffLinkOf(ctx context.Context, q Queryer, appointmentID string) (StaffLinkRow, error) {
	l, err := scanStaffLink(q.QueryRowContext(ctx, `SELECT `+staffLinkColumns+` FROM staff_links WHERE appointment_id = ?`, appointmentID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("store: staff link of %s: %w", appointmentID, err)
	}
	return l, nil
}

// ConfirmedMismatches lists the disagreements staff confirmed between a patient and one EMIS
// record at a practice.
func (s *Store) ConfirmedMismatches(ctx context.Context, patientID string, practiceID, emisPatientID int64) ([]StaffLinkRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+staffLinkColumns+` FROM staff_links
		WHERE patient_id = ? AND practice_id = ? AND emis_patient_id = ? AND mismatch = 1`, patientID, practiceID, emisPatientID)
	if err != nil {
		return nil, fmt.Errorf("store: confirmed mismatches: %w", err)
	}
	defer rows.Close()
	var out []StaffLinkRow
	for rows.Next() {
		l, err := scanStaffLink(rows)
		if err != nil {
			return nil, fmt.Errorf("store: confirmed mismatches: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// UnlinkPatient forgets a patient's link at a practice, if it still names emisPatientID: a
// link whose record no longer agrees is never used again.
func (s *Store) UnlinkPatient(ctx context.Context, q Queryer, patientID string, practiceID, emisPatientID int64) error {
	_, err := q.ExecContext(ctx, `DELETE FROM patient_links WHERE patient_id = ? AND practice_id = ? AND emis_patient_id = ?`,
		patientID, practiceID, emisPatientID)
	if err != nil {
		return fmt.Errorf("store: unlink patient: %w", err)
	}
	return nil
}
