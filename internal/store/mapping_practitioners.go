package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Practitioner is a clinician as herolink knows them.
type Practitioner struct {
	ID           int64
	PracticeID   int64
	Name         string
	EMISHolderID int64 // 0: platform-only
	CreatedAt    time.Time
}

const practitionerColumns = `id, practice_id, name, emis_holder_id, created_at`

func scanPractitioner(row interface{ Scan(...any) error }) (Practitioner, error) {
	var p Practitioner
	var holder sql.NullInt64
	var at int64
	err := row.Scan(&p.ID, &p.PracticeID, &p.Name, &holder, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.EMISHolderID, p.CreatedAt = holder.Int64, time.UnixMilli(at)
	return p, err
}

// Practitioners lists a practice's practitioners by name.
func (s *Store) Practitioners(ctx context.Context, practiceID int64) ([]Practitioner, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners WHERE practice_id = ? ORDER BY lower(name), id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: practitioners of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []Practitioner
	for rows.Next() {
		p, err := scanPractitioner(rows)
		if err != nil {
			return nil, fmt.Errorf("store: practitioners of practice %d: %w", practiceID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Practitioner finds one of a practice's practitioners.
func (s *Store) Practitioner(ctx context.Context, practiceID, id int64) (Practitioner, error) {
	p, err := scanPractitioner(s.db.QueryRowContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners WHERE practice_id = ? AND id = ?`, practiceID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practitioner %d: %w", id, err)
	}
	return p, err
}

// PractitionerByHolder finds the practitioner mapped to a session holder.
func (s *Store) PractitionerByHolder(ctx context.Context, practiceID, emisHolderID int64) (Practitioner, error) {
	p, err := scanPractitioner(s.db.QueryRowContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners
		WHERE practice_id = ? AND emis_holder_id = ?`, practiceID, emisHolderID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practitioner of session holder %d: %w", emisHolderID, err)
	}
	return p, err
}

// CreatePractitioner adds a practitioner, mapped when EMISHolderID is set. The database refuses
// a session holder mapped already (ErrHolderTaken) or unknown (ErrNotInEMIS).
func (s *Store) CreatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO practitioners (practice_id, name, emis_holder_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			p.PracticeID, p.Name, nullID(p.EMISHolderID), now).Scan(&p.ID); err != nil {
			return err
		}
		audit.PracticeID = p.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return Practitioner{}, mappingErr(err, ErrHolderTaken, "create practitioner")
	}
	p.CreatedAt = time.UnixMilli(now)
	return p, nil
}

// UpdatePractitioner saves a practitioner's name and session holder (0: unmapped).
func (s *Store) UpdatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `UPDATE practitioners SET name = ?, emis_holder_id = ? WHERE practice_id = ? AND id = ?`,
			p.Name, nullID(p.EMISHolderID), p.PracticeID, p.ID); err != nil {
			return err
		}
		audit.PracticeID = p.PracticeID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil {
		return Practitioner{}, mappingErr(err, ErrHolderTaken, "update practitioner")
	}
	return s.Practitioner(ctx, p.PracticeID, p.ID)
}

// DeletePractitioner removes a practitioner.
func (s *Store) DeletePractitioner(ctx context.Context, practiceID, id int64, audit AuditEntry) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `DELETE FROM practitioners WHERE practice_id = ? AND id = ?`, practiceID, id); err != nil {
			return err
		}
		audit.PracticeID = practiceID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: delete practitioner %d: %w", id, err)
	}
	return err
}
