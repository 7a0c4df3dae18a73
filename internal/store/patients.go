package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PatientRow is a patient a partner registered, with what they told us about them.
type PatientRow struct {
	ID              string
	PracticeGroupID string
	NHSNumber       string
	FamilyName      string
	GivenName       string
	DateOfBirth     string
	Postcode        string
	Email           string
	Phone           string
	Owner           string // the partner (API key owner) that registered the patient
	CreatedAt       time.Time
}

// PatientLinkRow is the EMIS record a patient is linked to at one practice.
type PatientLinkRow struct {
	PatientID     string
	PracticeID    int64
	EMISPatientID int64
	Rule          string
	LinkedBy      string
	LinkedAt      time.Time
}

// InsertPatient stores a new patient.
func (s *Store) InsertPatient(ctx context.Context, q Queryer, p PatientRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO patients (id, practice_group_id, nhs_number, family_name, given_name,
		date_of_birth, postcode, email, phone, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.PracticeGroupID, p.NHSNumber, p.FamilyName, p.GivenName, p.DateOfBirth, p.Postcode, p.Email, p.Phone, p.Owner, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: insert patient: %w", err)
	}
	return nil
}

// Patient reads one patient.
func (s *Store) Patient(ctx context.Context, q Queryer, id string) (PatientRow, error) {
	var p PatientRow
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, practice_group_id, nhs_number, family_name, given_name, date_of_birth,
		postcode, email, phone, owner_id, created_at FROM patients WHERE id = ?`, id).Scan(&p.ID, &p.PracticeGroupID, &p.NHSNumber,
		&p.FamilyName, &p.GivenName, &p.DateOfBirth, &p.Postcode, &p.Email, &p.Phone, &p.Owner, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: patient %s: %w", id, err)
	}
	p.CreatedAt = time.UnixMilli(created)
	return p, nil
}

// PatientLinks lists a patient's links to EMIS records.
func (s *Store) PatientLinks(ctx context.Context, patientID string) ([]PatientLinkRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT patient_id, practice_id, emis_patient_id, rule, linked_by, linked_at
		FROM patient_links WHERE patient_id = ? ORDER BY practice_id`, patientID)
	if err != nil {
		return nil, fmt.Errorf("store: patient links: %w", err)
	}
	defer rows.Close()
	var out []PatientLinkRow
	for rows.Next() {
		var l PatientLinkRow
		var at int64
		if err := rows.Scan(&l.PatientID, &l.PracticeID, &l.EMISPatientID, &l.Rule, &l.LinkedBy, &at); err != nil {
			return nil, err
		}
		l.LinkedAt = time.UnixMilli(at)
		out = append(out, l)
	}
	return out, rows.Err()
}

// PatientLink reads a patient's link at one practice.
func (s *Store) PatientLink(ctx context.Context, patientID string, practiceID int64) (PatientLinkRow, error) {
	l := PatientLinkRow{PatientID: patientID, PracticeID: practiceID}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT emis_patient_id, rule, linked_by, linked_at FROM patient_links
		WHERE patient_id = ? AND practice_id = ?`, patientID, practiceID).Scan(&l.EMISPatientID, &l.Rule, &l.LinkedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	l.LinkedAt = time.UnixMilli(at)
	return l, err
}

// LinkPatient records (or replaces) a patient's EMIS record at a practice.
func (s *Store) LinkPatient(ctx context.Context, q Queryer, l PatientLinkRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO patient_links (patient_id, practice_id, emis_patient_id, rule, linked_by, linked_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (patient_id, practice_id) DO UPDATE SET emis_patient_id = excluded.emis_patient_id,
		rule = excluded.rule, linked_by = excluded.linked_by, linked_at = excluded.linked_at`,
		l.PatientID, l.PracticeID, l.EMISPatientID, l.Rule, l.LinkedBy, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: link patient: %w", err)
	}
	return nil
}
