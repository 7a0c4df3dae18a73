package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhook endpoint states.
const (
	WebhookActive   = "active"
	WebhookDisabled = "disabled"
	WebhookDeleted  = "deleted"
)

// Webhook delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"  // retried for the whole retry period without success
	DeliverySkipped   = "skipped" // its endpoint was deleted or disabled first
)

// Outbox sources a delivery comes from.
const (
	SourceAppointmentEvents = "appointment_events"
	SourceHealthEvents      = "health_events"
)

// WebhookEndpoint is one partner's endpoint in one practice group. The secrets are sealed.
type WebhookEndpoint struct {
	ID              string
	PracticeGroupID string
	OwnerID         string
	URL             string
	EventTypes      []string
	Description     string
	SecretKeyID     string
	SecretSealed    []byte
	OldSecretKeyID  string
	OldSecretSealed []byte
	OldSecretUntil  time.Time // zero: no previous secret in force
	State           string
	DisabledReason  string
	DisabledAt      time.Time
	FailingSince    time.Time
	CreatedBy       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const webhookEndpointColumns = `id, practice_group_id, owner_id, url, event_types, description, secret_key_id,
	secret_sealed, old_secret_key_id, old_secret_sealed, old_secret_until, state, disabled_reason, disabled_at,
	failing_since, created_by, created_at, updated_at`

func scanWebhookEndpoint(row interface{ Scan(...any) error }) (WebhookEndpoint, error) {
	var e WebhookEndpoint
	var types string
	var oldUntil, disabled, failing sql.NullInt64
	var created, updated int64
	err := row.Scan(&e.ID, &e.PracticeGroupID, &e.OwnerID, &e.URL, &types, &e.Description, &e.SecretKeyID,
		&e.SecretSealed, &e.OldSecretKeyID, &e.OldSecretSealed, &oldUntil, &e.State, &e.DisabledReason, &disabled,
		&failing, &e.CreatedBy, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, err
	}
	e.EventTypes = strings.Fields(types)
	e.OldSecretUntil, e.DisabledAt, e.FailingSince = msTime(oldUntil), msTime(disabled), msTime(failing)
	e.CreatedAt, e.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return e, nil
}

func (s *Store) queryWebhookEndpoints(ctx context.Context, q Queryer, query string, args ...any) ([]WebhookEndpoint, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", err)
	}
	defer rows.Close()
	var out []WebhookEndpoint
	for rows.Next() {
		e, err := scanWebhookEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhook endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", err)
	}
	return out, rows.Close()
}

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e WebhookEndpoint) error {
	now := s.nowMS()
	_, err := s.db.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, practice_group_id, owner_id, url, event_types,
		description, secret_key_id, secret_sealed, state, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
		e.ID, e.PracticeGroupID, e.OwnerID, e.URL, strings.Join(e.EventTypes, " "), e.Description, e.SecretKeyID,
		e.SecretSealed, e.CreatedBy, now, now)
	if err != nil {
		return fmt.Errorf("store: create webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoint reads one endpoint, whatever its state.
func (s *Store) WebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, error) {
	e, err := scanWebhookEndpoint(s.db.QueryRowContext(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return e, fmt.Errorf("store: webhook endpoint %s: %w", id, err)
	}
	return e, err
}

// WebhookEndpointsOf lists a partner's endpoints in a practice group (not deleted), oldest first.
func (s *Store) WebhookEndpointsOf(ctx context.Context, group, owner string) ([]WebhookEndpoint, error) {
	return s.queryWebhookEndpoints(ctx, s.db, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE practice_group_id = ? AND owner_id = ? AND state <> 'deleted' ORDER BY created_at, id`, group, owner)
}

// WebhookEndpointsInGroup lists every endpoint of a practice group that is not deleted ("":
// every group), for staff.
func (s *Store) WebhookEndpointsInGroup(ctx context.Context, group string) ([]WebhookEndpoint, error) {
	return s.queryWebhookEndpoints(ctx, s.db, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE (practice_group_id = ? OR ? = '') AND state <> 'deleted' ORDER BY created_at, id`, group, group)
}

// ActiveWebhookEndpoints lists the active endpoints of a practice group: a partner's own
// (owner set) or every partner's (owner "").
func (s *Store) ActiveWebhookEndpoints(ctx context.Context, q Queryer, group, owner string) ([]WebhookEndpoint, error) {
	return s.queryWebhookEndpoints(ctx, q, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE practice_group_id = ? AND (owner_id = ? OR ? = '') AND state = 'active' ORDER BY id`, group, owner, owner)
}

// DeleteWebhookEndpoint deletes a partner's endpoint; what it had still to deliver is skipped.
// ErrNotFound when the partner has no such endpoint.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, group, owner, id string) error {
	return s.inTx(ctx, func(tx *Tx) error {
		now := s.nowMS()
		res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET state = 'deleted', updated_at = ?
			WHERE id = ? AND practice_group_id = ? AND owner_id = ? AND state <> 'deleted'`, now, id, group, owner)
		if err != nil {
			return fmt.Errorf("store: delete webhook endpoint: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return skipPendingDeliveries(ctx, tx, id, now)
	})
}

func skipPendingDeliveries(ctx context.Context, tx *Tx, endpointID string, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'skipped', settled_at = ?, next_attempt_at = NULL
		WHERE endpoint_id = ? AND state = 'pending'`, now, endpointID)
	if err != nil {
		return fmt.Errorf("store: skip deliveries of %s: %w", endpointID, err)
	}
	return nil
}

// RotateWebhookSecret puts a new signing secret in force; the current one stays valid (and
// deliveries carry both signatures) until overlapUntil. ErrNotFound when the partner has no
// such endpoint.
func (s *Store) RotateWebhookSecret(ctx context.Context, group, owner, id, keyID string, sealed []byte, overlapUntil time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE webhook_endpoints SET old_secret_key_id = secret_key_id,
		old_secret_sealed = secret_sealed, old_secret_until = ?, secret_key_id = ?, secret_sealed = ?, updated_at = ?
		WHERE id = ? AND practice_group_id = ? AND owner_id = ? AND state <> 'deleted'`,
		overlapUntil.UnixMilli(), keyID, sealed, s.nowMS(), id, group, owner)
	if err != nil {
		return fmt.Errorf("store: rotate webhook secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DisableWebhookEndpoint disables an active endpoint that kept failing, skips what it had
// still to deliver and writes the audit entries (one per practice of its group), all at once.
// False when it was no longer active.
func (s *Store) DisableWebhookEndpoint(ctx context.Context, id, reason string, audit AuditEntry) (bool, error) {
	var done bool
	err := s.inTx(ctx, func(tx *Tx) error {
		now := s.nowMS()
		var group string
		err := tx.QueryRowContext(ctx, `UPDATE webhook_endpoints SET state = 'disabled', disabled_reason = ?,
			disabled_at = ?, updated_at = ? WHERE id = ? AND state = 'active' RETURNING practice_group_id`,
			reason, now, now, id).Scan(&group)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("store: disable webhook endpoint: %w", err)
		}
		done = true
		if err := skipPendingDeliveries(ctx, tx, id, now); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM practices WHERE practice_group_id = ? ORDER BY id`, group)
		if err != nil {
			return fmt.Errorf("store: practices of %s: %w", group, err)
		}
		var ids []int64
		for rows.Next() {
			var pid int64
			if err := rows.Scan(&pid); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, pid)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, pid := range ids {
			e := audit
			e.PracticeID = pid
			if err := appendAuditTx(ctx, tx, e, now); err != nil {
				return fmt.Errorf("store: audit webhook disabled: %w", err)
			}
		}
		return nil
	})
	return done, err
}

// OutboxAppointmentEvent is an appointment event not yet fanned out, with what a webhook
// needs to know of its appointment.
type OutboxAppointmentEvent struct {
	ID              int64
	AppointmentID   string
	At              time.Time
	Event           string
	Detail          string
	PracticeGroupID string
	PracticeID      int64
	OwnerID         string // the partner the appointment belongs to; "" for none
	Reference       string
	StartAt         time.Time
	RescheduledTo   string
	FailureCode     string
}

// ClaimAppointmentEvents returns up to limit events not yet fanned out, oldest first, locked
// for tx on PostgreSQL and skipped by any other instance's claim meanwhile (SKIP LOCKED): two
// instances fanning out at once take different events. Mark them with
// MarkAppointmentEventsFannedOut in the same transaction.
func (s *Store) ClaimAppointmentEvents(ctx context.Context, tx *Tx, limit int) ([]OutboxAppointmentEvent, error) {
	lock := ""
	if tx.Dialect() == Postgres {
		lock = " FOR UPDATE OF e SKIP LOCKED"
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.appointment_id, e.at, e.event, e.detail, a.practice_group_id,
		a.practice_id, a.api_key_id, a.reference, a.start_at, COALESCE(a.rescheduled_to, ''), a.failure_code
		FROM appointment_events e JOIN appointments a ON a.id = e.appointment_id
		WHERE e.fanned_out = 0 ORDER BY e.id LIMIT ?`+lock, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim appointment events: %w", err)
	}
	defer rows.Close()
	var out []OutboxAppointmentEvent
	for rows.Next() {
		var e OutboxAppointmentEvent
		var at, start int64
		if err := rows.Scan(&e.ID, &e.AppointmentID, &at, &e.Event, &e.Detail, &e.PracticeGroupID, &e.PracticeID,
			&e.OwnerID, &e.Reference, &start, &e.RescheduledTo, &e.FailureCode); err != nil {
			return nil, fmt.Errorf("store: claim appointment events: %w", err)
		}
		e.At, e.StartAt = time.UnixMilli(at), time.UnixMilli(start)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim appointment events: %w", err)
	}
	return out, rows.Close()
}

// OutboxWaiting says whether any outbox row (appointment or health event) is not yet fanned
// out: a read, so an idle fan-out takes no write lock (SQLite has one writer).
func (s *Store) OutboxWaiting(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM appointment_events WHERE fanned_out = 0 LIMIT 1) a)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM health_events WHERE fanned_out = 0 LIMIT 1) h)`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: outbox waiting: %w", err)
	}
	return n > 0, nil
}

// MarkAppointmentEventsFannedOut records that these events' deliveries exist.
func (s *Store) MarkAppointmentEventsFannedOut(ctx context.Context, tx *Tx, ids []int64) error {
	return markFannedOut(ctx, tx, "appointment_events", ids)
}

func markFannedOut(ctx context.Context, tx *Tx, table string, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), 200)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := `UPDATE ` + table + ` SET fanned_out = 1 WHERE id IN (?` + strings.Repeat(", ?", n-1) + `)`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: mark %s fanned out: %w", table, err)
		}
		ids = ids[n:]
	}
	return nil
}

// OutboxHealthEvent is a change of a practice's connection health not yet fanned out.
type OutboxHealthEvent struct {
	ID              int64
	PracticeID      int64
	PracticeGroupID string
	At              time.Time
	Status          string
	Previous        string // the status before it; "" for the first
}

// ClaimHealthEvents is ClaimAppointmentEvents for health_events.
func (s *Store) ClaimHealthEvents(ctx context.Context, tx *Tx, limit int) ([]OutboxHealthEvent, error) {
	lock := ""
	if tx.Dialect() == Postgres {
		lock = " FOR UPDATE OF h SKIP LOCKED"
	}
	rows, err := tx.QueryContext(ctx, `SELECT h.id, h.practice_id, p.practice_group_id, h.at, h.status,
		COALESCE((SELECT b.status FROM health_events b WHERE b.practice_id = h.practice_id AND b.id < h.id
			ORDER BY b.id DESC LIMIT 1), '')
		FROM health_events h JOIN practices p ON p.id = h.practice_id
		WHERE h.fanned_out = 0 ORDER BY h.id LIMIT ?`+lock, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim health events: %w", err)
	}
	defer rows.Close()
	var out []OutboxHealthEvent
	for rows.Next() {
		var e OutboxHealthEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.PracticeID, &e.PracticeGroupID, &at, &e.Status, &e.Previous); err != nil {
			return nil, fmt.Errorf("store: claim health events: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim health events: %w", err)
	}
	return out, rows.Close()
}

// MarkHealthEventsFannedOut records that these health events' deliveries exist.
func (s *Store) MarkHealthEventsFannedOut(ctx context.Context, tx *Tx, ids []int64) error {
	return markFannedOut(ctx, tx, "health_events", ids)
}

// WebhookDelivery is one message to one endpoint.
type WebhookDelivery struct {
	ID             int64
	EndpointID     string
	MsgID          string
	EventType      string
	Stream         string
	Source         string
	SourceID       int64
	Payload        string
	State          string
	Attempts       int
	FirstAttemptAt time.Time
	LastAttemptAt  time.Time
	NextAttemptAt  time.Time
	LastStatus     int
	LastError      string
	CreatedAt      time.Time
	SettledAt      time.Time
}

const webhookDeliveryColumns = `id, endpoint_id, msg_id, event_type, stream, source, source_id, payload, state, attempts,
	first_attempt_at, last_attempt_at, next_attempt_at, last_status, last_error, created_at, settled_at`

func scanWebhookDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var first, last, next, settled sql.NullInt64
	var created int64
	err := row.Scan(&d.ID, &d.EndpointID, &d.MsgID, &d.EventType, &d.Stream, &d.Source, &d.SourceID, &d.Payload,
		&d.State, &d.Attempts, &first, &last, &next, &d.LastStatus, &d.LastError, &created, &settled)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, err
	}
	d.FirstAttemptAt, d.LastAttemptAt, d.NextAttemptAt, d.SettledAt = msTime(first), msTime(last), msTime(next), msTime(settled)
	d.CreatedAt = time.UnixMilli(created)
	return d, nil
}

// InsertWebhookDelivery adds a pending delivery; inserted is false (and id 0) when that
// endpoint already has one for the same outbox row.
func (s *Store) InsertWebhookDelivery(ctx context.Context, tx *Tx, d WebhookDelivery) (id int64, inserted bool, err error) {
	now := s.nowMS()
	err = tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, msg_id, event_type, stream, source,
		source_id, payload, state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (endpoint_id, source, source_id) DO NOTHING RETURNING id`,
		d.EndpointID, d.MsgID, d.EventType, d.Stream, d.Source, d.SourceID, d.Payload, now, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: insert webhook delivery: %w", err)
	}
	return id, true, nil
}

// WebhookDeliveryByID reads one delivery.
func (s *Store) WebhookDeliveryByID(ctx context.Context, id int64) (WebhookDelivery, error) {
	d, err := scanWebhookDelivery(s.db.QueryRowContext(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return d, fmt.Errorf("store: webhook delivery %d: %w", id, err)
	}
	return d, err
}

// WebhookDeliveriesOf lists an endpoint's deliveries, newest first.
func (s *Store) WebhookDeliveriesOf(ctx context.Context, endpointID string, limit int) ([]WebhookDelivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries
		WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanWebhookDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", err)
	}
	return out, rows.Close()
}

// WebhookDeliveryWaits says whether d must wait for an earlier message of its stream to the
// same endpoint: one still pending, or (for an appointment) an earlier event of the appointment
// not yet fanned out, which another instance may be fanning out right now. ahead counts the
// earlier pending deliveries and until is when the first of them is next tried (zero if none).
func (s *Store) WebhookDeliveryWaits(ctx context.Context, d WebhookDelivery) (wait bool, ahead int, until time.Time, err error) {
	var next sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(next_attempt_at) FROM webhook_deliveries
		WHERE endpoint_id = ? AND stream = ? AND source = ? AND source_id < ? AND state = 'pending'`,
		d.EndpointID, d.Stream, d.Source, d.SourceID).Scan(&ahead, &next)
	if err != nil {
		return false, 0, time.Time{}, fmt.Errorf("store: earlier webhook deliveries: %w", err)
	}
	if ahead > 0 {
		return true, ahead, msTime(next), nil
	}
	var n int
	switch d.Source {
	case SourceAppointmentEvents:
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM appointment_events
			WHERE appointment_id = ? AND id < ? AND fanned_out = 0`, d.Stream, d.SourceID).Scan(&n)
	case SourceHealthEvents:
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM health_events h JOIN health_events me ON me.id = ?
			WHERE h.practice_id = me.practice_id AND h.id < me.id AND h.fanned_out = 0`, d.SourceID).Scan(&n)
	}
	if err != nil {
		return false, 0, time.Time{}, fmt.Errorf("store: earlier events not fanned out: %w", err)
	}
	return n > 0, 0, time.Time{}, nil
}

// WebhookAttempt is one try of a delivery.
type WebhookAttempt struct {
	ID         int64
	DeliveryID int64
	EndpointID string
	At         time.Time
	Status     int // HTTP status; 0: no answer
	Latency    time.Duration
	Error      string
	Excerpt    string
	EventType  string // of its delivery, when listed
	MsgID      string
}

// RecordWebhookAttempt logs an attempt and its outcome at once: delivered (ok), or still
// pending with its next try at next. The endpoint's failing_since is cleared by a success and
// set by the first failure after one; it is returned as it now stands.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, ok bool, next time.Time) (failingSince time.Time, err error) {
	err = s.inTx(ctx, func(tx *Tx) error {
		at := a.At.UnixMilli()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, at, status, latency_ms, error, excerpt)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.DeliveryID, a.EndpointID, at, a.Status, a.Latency.Milliseconds(), a.Error, a.Excerpt); err != nil {
			return fmt.Errorf("store: webhook attempt: %w", err)
		}
		state, settled, nextAt := DeliveryPending, any(nil), any(next.UnixMilli())
		if ok {
			state, settled, nextAt = DeliveryDelivered, at, nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1,
			first_attempt_at = COALESCE(first_attempt_at, ?), last_attempt_at = ?, last_status = ?, last_error = ?,
			state = CASE WHEN state = 'pending' THEN ? ELSE state END, settled_at = COALESCE(settled_at, CAST(? AS BIGINT)),
			next_attempt_at = CAST(? AS BIGINT) WHERE id = ?`,
			at, at, a.Status, a.Error, state, settled, nextAt, a.DeliveryID); err != nil {
			return fmt.Errorf("store: webhook delivery outcome: %w", err)
		}
		var failing sql.NullInt64
		if ok {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`, a.EndpointID); err != nil {
				return fmt.Errorf("store: webhook endpoint succeeded: %w", err)
			}
		} else if err := tx.QueryRowContext(ctx, `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?)
			WHERE id = ? RETURNING failing_since`, at, a.EndpointID).Scan(&failing); err != nil {
			return fmt.Errorf("store: webhook endpoint failing: %w", err)
		}
		failingSince = msTime(failing)
		return nil
	})
	return failingSince, err
}

// SettleWebhookDelivery ends a pending delivery without success (failed or skipped).
func (s *Store) SettleWebhookDelivery(ctx context.Context, id int64, state string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?, settled_at = ?, next_attempt_at = NULL
		WHERE id = ? AND state = 'pending'`, state, s.nowMS(), id)
	if err != nil {
		return fmt.Errorf("store: settle webhook delivery %d: %w", id, err)
	}
	return nil
}

// ResendWebhookDelivery makes a delivery of an active endpoint pending again, as a new
// message series (attempts restart, the retry period starts again); the caller enqueues its
// job in the same transaction. ErrNotFound when there is no such delivery or its endpoint is
// not active.
func (s *Store) ResendWebhookDelivery(ctx context.Context, tx *Tx, id int64) error {
	now := s.nowMS()
	res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, first_attempt_at = NULL,
		settled_at = NULL, next_attempt_at = ? WHERE id = ?
		AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE state = 'active')`, now, id)
	if err != nil {
		return fmt.Errorf("store: resend webhook delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// WebhookAttemptsOf lists an endpoint's attempts, newest first.
func (s *Store) WebhookAttemptsOf(ctx context.Context, endpointID string, limit int) ([]WebhookAttempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.delivery_id, a.endpoint_id, a.at, a.status, a.latency_ms, a.error,
		a.excerpt, d.event_type, d.msg_id FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE a.endpoint_id = ? ORDER BY a.id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []WebhookAttempt
	for rows.Next() {
		var a WebhookAttempt
		var at, ms int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.EndpointID, &at, &a.Status, &ms, &a.Error, &a.Excerpt, &a.EventType, &a.MsgID); err != nil {
			return nil, fmt.Errorf("store: webhook attempts: %w", err)
		}
		a.At, a.Latency = time.UnixMilli(at), time.Duration(ms)*time.Millisecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhook attempts: %w", err)
	}
	return out, rows.Close()
}

// resealWebhookSecrets is ResealAll's part for webhook signing secrets (current and, during a
// rotation's overlap, previous).
func resealWebhookSecrets(ctx context.Context, tx *Tx, fn func(SealedSecret) (string, []byte, error)) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, secret_key_id, secret_sealed, old_secret_key_id, old_secret_sealed
		FROM webhook_endpoints WHERE state <> 'deleted'`)
	if err != nil {
		return 0, err
	}
	var all []SealedSecret
	for rows.Next() {
		var id, keyID, oldKeyID string
		var sealed, oldSealed []byte
		if err := rows.Scan(&id, &keyID, &sealed, &oldKeyID, &oldSealed); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, SealedSecret{Table: "webhook_endpoints", Ref: id, Column: "secret_sealed", KeyID: keyID, Sealed: sealed})
		if oldKeyID != "" && len(oldSealed) > 0 {
			all = append(all, SealedSecret{Table: "webhook_endpoints", Ref: id, Column: "old_secret_sealed", KeyID: oldKeyID, Sealed: oldSealed})
		}
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for _, sec := range all {
		keyID, sealed, err := fn(sec)
		if err != nil {
			return 0, fmt.Errorf("re-seal %s %s: %w", sec.Table, sec.Ref, err)
		}
		q := `UPDATE webhook_endpoints SET secret_key_id = ?, secret_sealed = ? WHERE id = ?`
		if sec.Column == "old_secret_sealed" {
			q = `UPDATE webhook_endpoints SET old_secret_key_id = ?, old_secret_sealed = ? WHERE id = ?`
		}
		if _, err := tx.ExecContext(ctx, q, keyID, sealed, sec.Ref); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}

// PurgeWebhookHistory deletes deliveries settled before t (delivered, failed or skipped) with
// their attempts, so the log does not grow for ever; pending ones are kept whatever their age.
func (s *Store) PurgeWebhookHistory(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *Tx) error {
		before := t.UnixMilli()
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN
			(SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND settled_at < ?)`, before); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND settled_at < ?`, before)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge webhook history: %w", err)
	}
	return n, nil
}
