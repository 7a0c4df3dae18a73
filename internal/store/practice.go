package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Health statuses of a practice's EMIS connection.
const (
	HealthConnected    = "connected"
	HealthDegraded     = "degraded"      // transient failures: EMIS slow, unreachable, erroring
	HealthFailing      = "failing"       // credentials or EMAS Manager settings: the practice must act
	HealthNotConnected = "not_connected" // no credentials proven yet
)

// Practice is a GP practice known to herolink.
type Practice struct {
	ID                  int64
	ODS                 string
	CDB                 int
	Name                string
	PracticeGroupID     string
	HealthStatus        string
	HealthReason        string
	HealthCheckedAt     time.Time
	NextHealthCheckAt   time.Time
	ConsecutiveFailures int
	CredentialsRejected bool
	CreatedAt           time.Time
}

// Connection is one set of EMIS credentials proven by a connection test.
type Connection struct {
	ID             int64
	PracticeID     int64
	State          string
	Username       string
	PasswordSealed []byte // nil once replaced
	KeyID          string
	ConnectedBy    string
	ConnectedAt    time.Time
	Checklist      string // JSON of the connection test's checklist
}

const practiceColumns = `id, ods_code, cdb, name, practice_group_id, health_status, health_reason,
	health_checked_at, next_health_check_at, consecutive_failures, credentials_rejected, created_at`

func scanPractice(row interface{ Scan(...any) error }) (Practice, error) {
	var p Practice
	var checked, next sql.NullInt64
	var created int64
	var rejected int
	err := row.Scan(&p.ID, &p.ODS, &p.CDB, &p.Name, &p.PracticeGroupID, &p.HealthStatus, &p.HealthReason,
		&checked, &next, &p.ConsecutiveFailures, &rejected, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Practice{}, ErrNotFound
	}
	p.HealthCheckedAt, p.NextHealthCheckAt = msTime(checked), msTime(next)
	p.CreatedAt = time.UnixMilli(created)
	p.CredentialsRejected = rejected != 0
	return p, err
}

// PracticeByODS finds a practice by its (normalised) ODS code.
func (s *Store) PracticeByODS(ctx context.Context, ods string) (Practice, error) {
	p, err := scanPractice(s.db.QueryRowContext(ctx, `SELECT `+practiceColumns+` FROM practices WHERE ods_code = ?`, ods))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practice %s: %w", ods, err)
	}
	return p, err
}

// PracticeByID finds a practice by id.
func (s *Store) PracticeByID(ctx context.Context, id int64) (Practice, error) {
	p, err := scanPractice(s.db.QueryRowContext(ctx, `SELECT `+practiceColumns+` FROM practices WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practice %d: %w", id, err)
	}
	return p, err
}

// ListPractices lists every practice for the support overview: failing first, then degraded,
// each newest check first.
func (s *Store) ListPractices(ctx context.Context) ([]Practice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+practiceColumns+` FROM practices
		ORDER BY CASE health_status WHEN 'failing' THEN 0 WHEN 'degraded' THEN 1 WHEN 'not_connected' THEN 2 ELSE 3 END,
		COALESCE(health_checked_at, 0) DESC, ods_code`)
	if err != nil {
		return nil, fmt.Errorf("store: list practices: %w", err)
	}
	defer rows.Close()
	var out []Practice
	for rows.Next() {
		p, err := scanPractice(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list practices: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EnsurePractice returns the practice with this ODS code, creating it (and its own practice
// group) if herolink has not seen it before.
func (s *Store) EnsurePractice(ctx context.Context, ods string, cdb int, name string) (Practice, error) {
	if p, err := s.PracticeByODS(ctx, ods); err == nil {
		return p, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Practice{}, err
	}
	now := s.nowMS()
	group := "pg_" + randomHex(8)
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO practice_groups (id, name, created_at) VALUES (?, ?, ?)`, group, name, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO practices (ods_code, cdb, name, practice_group_id, created_at) VALUES (?, ?, ?, ?, ?)`,
			ods, cdb, name, group, now)
		return err
	})
	if err != nil {
		// Another request may have created it meanwhile.
		if p, err2 := s.PracticeByODS(ctx, ods); err2 == nil {
			return p, nil
		}
		return Practice{}, fmt.Errorf("store: create practice %s: %w", ods, err)
	}
	return s.PracticeByODS(ctx, ods)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const connectionColumns = `id, practice_id, state, username, password_sealed, key_id, connected_by, connected_at, checklist`

func scanConnection(row interface{ Scan(...any) error }) (Connection, error) {
	var c Connection
	var at int64
	err := row.Scan(&c.ID, &c.PracticeID, &c.State, &c.Username, &c.PasswordSealed, &c.KeyID, &c.ConnectedBy, &at, &c.Checklist)
	if errors.Is(err, sql.ErrNoRows) {
		return Connection{}, ErrNotFound
	}
	c.ConnectedAt = time.UnixMilli(at)
	return c, err
}

// ActiveConnection is the practice's credentials in force.
func (s *Store) ActiveConnection(ctx context.Context, practiceID int64) (Connection, error) {
	c, err := scanConnection(s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM emis_connections
		WHERE practice_id = ? AND state = 'active'`, practiceID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return c, fmt.Errorf("store: active connection of practice %d: %w", practiceID, err)
	}
	return c, err
}

// NewConnection is proven credentials to put in force.
type NewConnection struct {
	PracticeID     int64
	Username       string
	PasswordSealed []byte
	KeyID          string
	ConnectedBy    string
	Checklist      string
	NextCheck      time.Time
	Replaces       int64 // the active connection the caller saw (0: none); anything else is a conflict
}

// ErrConnectionChanged means the practice's active connection changed while new credentials
// were being tested: the form must be submitted again so nobody replaces a live connection
// without having seen it.
var ErrConnectionChanged = errors.New("store: the practice's connection changed meanwhile")

// ActivateConnection puts proven credentials in force: the previous active connection (if
// any) becomes 'replaced' and its sealed password is erased, the practice is healthy, and the
// change is in the health history and the audit trail, all in one transaction.
func (s *Store) ActivateConnection(ctx context.Context, nc NewConnection, audit AuditEntry) (Connection, error) {
	now := s.nowMS()
	var id int64
	err := s.inTx(ctx, func(tx *Tx) error {
		// Locked: on PostgreSQL a second replacement waits here, then finds the connection it
		// saw no longer active and is told so.
		var current int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM emis_connections WHERE practice_id = ? AND state = 'active'`+tx.forUpdate(), nc.PracticeID).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if current != nc.Replaces {
			return ErrConnectionChanged
		}
		if _, err := tx.ExecContext(ctx, `UPDATE emis_connections SET state = 'replaced', password_sealed = NULL, ended_at = ?
			WHERE practice_id = ? AND state = 'active'`, now, nc.PracticeID); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO emis_connections (practice_id, state, username, password_sealed, key_id, connected_by, connected_at, checklist)
			VALUES (?, 'active', ?, ?, ?, ?, ?, ?) RETURNING id`,
			nc.PracticeID, nc.Username, nc.PasswordSealed, nc.KeyID, nc.ConnectedBy, now, nc.Checklist).Scan(&id)
		if err != nil {
			return err
		}
		if current != 0 {
			// Other instances keep the replaced credentials logged on: they drop them.
			if err := bumpCacheVersionTx(ctx, tx, CacheConnections); err != nil {
				return err
			}
		}
		reason := "connected by " + nc.ConnectedBy + " as EMIS user " + nc.Username
		if err := setHealthTx(ctx, tx, nc.PracticeID, HealthConnected, reason, false, now, nc.NextCheck.UnixMilli(), 0); err != nil {
			return err
		}
		audit.PracticeID = nc.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if errors.Is(err, ErrConnectionChanged) || isUniqueViolation(err) {
		// The unique index on the active connection: a first connection made meanwhile.
		return Connection{}, ErrConnectionChanged
	}
	if err != nil {
		return Connection{}, fmt.Errorf("store: activate connection: %w", err)
	}
	return scanConnection(s.db.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM emis_connections WHERE id = ?`, id))
}

// setHealthTx updates a practice's health and records an event when the status or reason changed.
func setHealthTx(ctx context.Context, tx *Tx, practiceID int64, status, reason string, rejected bool, now, next int64, failures int) error {
	var oldStatus, oldReason string
	// Locked: the event is written only when the status changes, which two checks recorded at
	// once on PostgreSQL would otherwise both believe.
	if err := tx.QueryRowContext(ctx, `SELECT health_status, health_reason FROM practices WHERE id = ?`+tx.forUpdate(), practiceID).Scan(&oldStatus, &oldReason); err != nil {
		return err
	}
	rej := 0
	if rejected {
		rej = 1
	}
	var nextArg any
	if next > 0 {
		nextArg = next
	}
	if _, err := tx.ExecContext(ctx, `UPDATE practices SET health_status = ?, health_reason = ?, health_checked_at = ?,
		next_health_check_at = ?, consecutive_failures = ?, credentials_rejected = ? WHERE id = ?`,
		status, reason, now, nextArg, failures, rej, practiceID); err != nil {
		return err
	}
	if status != oldStatus || reason != oldReason {
		if _, err := tx.ExecContext(ctx, `INSERT INTO health_events (practice_id, at, status, reason) VALUES (?, ?, ?, ?)`,
			practiceID, now, status, reason); err != nil {
			return err
		}
	}
	return nil
}

// HealthUpdate is the outcome of one health check.
type HealthUpdate struct {
	PracticeID          int64
	ConnectionID        int64 // the connection checked; if it is no longer the active one the result is dropped
	Status              string
	Reason              string
	CredentialsRejected bool
	NextCheck           time.Time // zero: no further automatic checks
	ConsecutiveFailures int
}

// RecordHealth stores a health check's outcome.
func (s *Store) RecordHealth(ctx context.Context, u HealthUpdate) error {
	var next int64
	if !u.NextCheck.IsZero() {
		next = u.NextCheck.UnixMilli()
	}
	err := s.inTx(ctx, func(tx *Tx) error {
		if u.ConnectionID != 0 {
			// A check of credentials that were replaced meanwhile says nothing about the new ones.
			var active int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM emis_connections WHERE practice_id = ? AND state = 'active'`+tx.forUpdate(), u.PracticeID).Scan(&active)
			if errors.Is(err, sql.ErrNoRows) || err == nil && active != u.ConnectionID {
				return nil
			}
			if err != nil {
				return err
			}
		}
		if u.CredentialsRejected {
			// Other instances keep the rejected credentials logged on: they drop them.
			if err := bumpCacheVersionTx(ctx, tx, CacheConnections); err != nil {
				return err
			}
		}
		return setHealthTx(ctx, tx, u.PracticeID, u.Status, u.Reason, u.CredentialsRejected, s.nowMS(), next, u.ConsecutiveFailures)
	})
	if err != nil {
		return fmt.Errorf("store: record health of practice %d: %w", u.PracticeID, err)
	}
	return nil
}

// DuePractices lists practices whose health check is due: an active connection, not waiting
// for new credentials, next check time passed.
func (s *Store) DuePractices(ctx context.Context, limit int) ([]Practice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+practiceColumns+` FROM practices p
		WHERE credentials_rejected = 0 AND next_health_check_at IS NOT NULL AND next_health_check_at <= ?
		AND EXISTS (SELECT 1 FROM emis_connections c WHERE c.practice_id = p.id AND c.state = 'active')
		ORDER BY next_health_check_at LIMIT ?`, s.nowMS(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due practices: %w", err)
	}
	defer rows.Close()
	var out []Practice
	for rows.Next() {
		p, err := scanPractice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// HealthEvent is one change of a practice's connection health.
type HealthEvent struct {
	At     time.Time
	Status string
	Reason string
}

// HealthHistory lists a practice's health changes, newest first.
func (s *Store) HealthHistory(ctx context.Context, practiceID int64, limit int) ([]HealthEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, status, reason FROM health_events WHERE practice_id = ?
		ORDER BY at DESC, id DESC LIMIT ?`, practiceID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: health history: %w", err)
	}
	defer rows.Close()
	var out []HealthEvent
	for rows.Next() {
		var e HealthEvent
		var at int64
		if err := rows.Scan(&at, &e.Status, &e.Reason); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// SealedSecret is one sealed value, for re-sealing under a new key.
type SealedSecret struct {
	Table  string
	ID     int64
	Ref    string // the row's id when it is text (webhook_endpoints)
	Column string // webhook_endpoints: secret_sealed or old_secret_sealed
	KeyID  string
	Sealed []byte
}

// ResealAll re-seals every sealed secret with fn in one transaction: either all move to the
// new key or none do.
func (s *Store) ResealAll(ctx context.Context, fn func(SealedSecret) (keyID string, sealed []byte, err error)) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, key_id, password_sealed FROM emis_connections WHERE password_sealed IS NOT NULL`)
		if err != nil {
			return err
		}
		var all []SealedSecret
		for rows.Next() {
			sec := SealedSecret{Table: "emis_connections"}
			if err := rows.Scan(&sec.ID, &sec.KeyID, &sec.Sealed); err != nil {
				rows.Close()
				return err
			}
			all = append(all, sec)
		}
		rows.Close()
		for _, sec := range all {
			keyID, sealed, err := fn(sec)
			if err != nil {
				return fmt.Errorf("re-seal %s %d: %w", sec.Table, sec.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE emis_connections SET key_id = ?, password_sealed = ? WHERE id = ?`, keyID, sealed, sec.ID); err != nil {
				return err
			}
			n++
		}
		m, err := resealWebhookSecrets(ctx, tx, fn)
		n += m
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: re-seal secrets: %w", err)
	}
	return n, nil
}
