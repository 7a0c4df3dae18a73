package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one line of the append-only audit trail. Detail is written by the caller and
// must never hold a secret or patient demographics.
type AuditEntry struct {
	At         time.Time
	Actor      string
	Action     string
	PracticeID int64
	Detail     string
}

func appendAuditTx(ctx context.Context, tx *Tx, e AuditEntry, now int64) error {
	var pid any
	if e.PracticeID != 0 {
		pid = e.PracticeID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, practice_id, detail) VALUES (?, ?, ?, ?, ?)`,
		now, e.Actor, e.Action, pid, e.Detail)
	return err
}

// AppendAudit adds a line to the audit trail.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	err := s.inTx(ctx, func(tx *Tx) error { return appendAuditTx(ctx, tx, e, s.nowMS()) })
	if err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

// ListAudit lists a practice's audit trail (practiceID 0: everything), newest first.
func (s *Store) ListAudit(ctx context.Context, practiceID int64, limit int) ([]AuditEntry, error) {
	q := `SELECT at, actor, action, COALESCE(practice_id, 0), detail FROM audit_log`
	args := []any{}
	if practiceID != 0 {
		q += ` WHERE practice_id = ?`
		args = append(args, practiceID)
	}
	q += ` ORDER BY at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.PracticeID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AppendAuditTx adds a line to the audit trail inside the caller's transaction.
func (s *Store) AppendAuditTx(ctx context.Context, tx *Tx, e AuditEntry) error {
	return appendAuditTx(ctx, tx, e, s.nowMS())
}
