package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrSlotHeld is the database refusing a second live hold or booking on one slot.
var ErrSlotHeld = errors.New("store: the slot already has a live hold or booking")

// ErrStateChanged is a conditional update that found the appointment in another state.
var ErrStateChanged = errors.New("store: the appointment is no longer in the expected state")

// AppointmentRow is one row of appointments.
type AppointmentRow struct {
	ID                string
	Reference         string
	PracticeGroupID   string
	PracticeID        int64
	APIKeyID          string // the partner (API key owner) it belongs to; "" for none
	SlotID            int64
	SessionID         int64
	StartAt           time.Time
	LengthMin         int
	EMISSlotTypeID    int
	AppointmentTypeID int64 // 0: none
	State             string
	ReservedUntil     time.Time
	Description       string
	Comment           string
	PatientID         string
	EMISPatientID     int64 // 0: not matched
	MatchRule         string
	EMISWritten       string
	WriteUnknown      bool
	WriteAttempts     int
	EMISCalls         int
	LastError         string
	FailureCode       string
	Alternatives      string // JSON list
	ConfirmedAt       time.Time
	AlertedAt         time.Time
	WrittenAt         time.Time
	CancelledAt       time.Time
	CancelledBy       string
	CancelReason      string
	RescheduledFrom   string
	RescheduledTo     string
	MatchedAt         time.Time // when EMIS was last searched for the patient
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const appointmentColumns = `id, reference, practice_group_id, practice_id, api_key_id, slot_id, session_id, start_at,
	length_min, emis_slot_type_id, COALESCE(appointment_type_id, 0), state, reserved_until, description, comment,
	COALESCE(patient_id, ''), COALESCE(emis_patient_id, 0), match_rule, emis_written, write_unknown, write_attempts,
	emis_calls, last_error, failure_code, alternatives, confirmed_at, alerted_at, written_at, cancelled_at,
	cancelled_by, cancel_reason, COALESCE(rescheduled_from, ''), COALESCE(rescheduled_to, ''), matched_at, created_at, updated_at`

func scanAppointment(row interface{ Scan(...any) error }) (AppointmentRow, error) {
	var a AppointmentRow
	var start, until, created, updated int64
	var unknown int
	var confirmed, alerted, written, cancelled, matched sql.NullInt64
	err := row.Scan(&a.ID, &a.Reference, &a.PracticeGroupID, &a.PracticeID, &a.APIKeyID, &a.SlotID, &a.SessionID, &start,
		&a.LengthMin, &a.EMISSlotTypeID, &a.AppointmentTypeID, &a.State, &until, &a.Description, &a.Comment,
		&a.PatientID, &a.EMISPatientID, &a.MatchRule, &a.EMISWritten, &unknown, &a.WriteAttempts,
		&a.EMISCalls, &a.LastError, &a.FailureCode, &a.Alternatives, &confirmed, &alerted, &written, &cancelled,
		&a.CancelledBy, &a.CancelReason, &a.RescheduledFrom, &a.RescheduledTo, &matched, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, err
	}
	a.StartAt, a.ReservedUntil = time.UnixMilli(start), time.UnixMilli(until)
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	a.WriteUnknown = unknown != 0
	a.MatchedAt = msTime(matched)
	a.ConfirmedAt, a.AlertedAt, a.WrittenAt, a.CancelledAt = msTime(confirmed), msTime(alerted), msTime(written), msTime(cancelled)
	return a, nil
}

// DBQ is the database as a Queryer, for reads outside a transaction.
func (s *Store) DBQ() Queryer { return s.db }

// ReadQ is the read-only pool as a Queryer: for reads that need not queue behind writes on the
// one writer connection. In WAL mode it sees every transaction committed before the read.
func (s *Store) ReadQ() Queryer { return s.read }

// InTx runs fn in a transaction, committing if it returns nil: how the booking core writes a
// state change and enqueues its job atomically.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error { return s.inTx(ctx, fn) }

// Appointment reads one appointment. Read inside a transaction (q is a *Tx), it locks the row
// until the transaction ends, so a decision taken on what it read cannot be raced by another
// instance: what SQLite's single writer gave for free, PostgreSQL gives with FOR UPDATE.
func (s *Store) Appointment(ctx context.Context, q Queryer, id string) (AppointmentRow, error) {
	a, err := scanAppointment(q.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM appointments WHERE id = ?`+lockIn(q), id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return a, fmt.Errorf("store: appointment %s: %w", id, err)
	}
	return a, err
}

// LiveAppointmentOnSlot returns the live hold or booking on a slot, if any.
func (s *Store) LiveAppointmentOnSlot(ctx context.Context, q Queryer, practiceID, slotID int64) (AppointmentRow, error) {
	return scanAppointment(q.QueryRowContext(ctx, `SELECT `+appointmentColumns+` FROM appointments
		WHERE practice_id = ? AND slot_id = ? AND state IN ('reserved', 'confirming', 'booked', 'placeholder')`+lockIn(q), practiceID, slotID))
}

// InsertHold inserts a reserved appointment. A hold on the same slot whose time has run out is
// expired first, in the same transaction; any other live row makes the unique index refuse the
// insert, which is answered as ErrSlotHeld. The database decides, not a check before the insert.
func (s *Store) InsertHold(ctx context.Context, tx *Tx, a AppointmentRow) error {
	_, err := s.CreateHold(ctx, tx, a, "")
	return err
}

// CreateHold is InsertHold with the appointment's first timeline event ("": none), the
// statements sent together (one round trip on PostgreSQL), and returns the row as a read would
// give it back, for a caller that answers from it.
func (s *Store) CreateHold(ctx context.Context, tx *Tx, a AppointmentRow, event string) (AppointmentRow, error) {
	out, err := s.CreateHolds(ctx, tx, []AppointmentRow{a}, event)
	if err != nil {
		return a, err
	}
	return out[0], nil
}

// CreateHolds is CreateHold for several holds in one transaction, every statement sent
// together: how holds arriving at once commit as a group. A hold that fails fails them all
// (ErrSlotHeld if a slot was taken; the transaction is then to be rolled back), so the caller
// learns nothing about which: it commits each alone again to find out. The answer is in rows'
// order, but they are written in the order of their practice and slot-version shard, the order
// in which the database's triggers lock counter rows, so that two groups on one practice wait
// for each other rather than deadlock.
func (s *Store) CreateHolds(ctx context.Context, tx *Tx, rows []AppointmentRow, event string) ([]AppointmentRow, error) {
	order := make([]AppointmentRow, len(rows))
	copy(order, rows)
	slices.SortFunc(order, func(a, b AppointmentRow) int {
		return cmp.Or(cmp.Compare(a.PracticeID, b.PracticeID), cmp.Compare(a.SlotID%64, b.SlotID%64), cmp.Compare(a.SlotID, b.SlotID))
	})
	now := s.nowMS()
	b := tx.newBatch()
	var err error
	for _, a := range order {
		err = b.exec(ctx, `UPDATE appointments SET state = 'expired', updated_at = ?
			WHERE practice_id = ? AND slot_id = ? AND state = 'reserved' AND reserved_until <= ?`, now, a.PracticeID, a.SlotID, now)
		if err != nil {
			err = fmt.Errorf("store: expire old hold: %w", err)
			break
		}
		err = b.exec(ctx, `INSERT INTO appointments (id, reference, practice_group_id, practice_id, api_key_id,
			slot_id, session_id, start_at, length_min, emis_slot_type_id, appointment_type_id, state, reserved_until,
			description, comment, patient_id, rescheduled_from, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Reference, a.PracticeGroupID, a.PracticeID, a.APIKeyID, a.SlotID, a.SessionID, a.StartAt.UnixMilli(),
			a.LengthMin, a.EMISSlotTypeID, nullID(a.AppointmentTypeID), a.State, a.ReservedUntil.UnixMilli(),
			a.Description, a.Comment, nullString(a.PatientID), nullString(a.RescheduledFrom), now, now)
		if err == nil && event != "" {
			err = b.exec(ctx, appointmentEventSQL, a.ID, now, event, "")
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = b.flush(ctx)
	} else {
		_ = b.flush(ctx) // closes what SQLite prepared; the transaction is rolled back
	}
	if err != nil {
		if isUniqueViolation(err) {
			return nil, ErrSlotHeld
		}
		if len(rows) == 1 {
			return nil, fmt.Errorf("store: insert hold: %w", err)
		}
		return nil, fmt.Errorf("store: insert %d holds: %w", len(rows), err)
	}
	out := make([]AppointmentRow, len(rows))
	copy(out, rows)
	for i := range out {
		// As a read would give them back: stored to the millisecond.
		a := &out[i]
		a.CreatedAt, a.UpdatedAt = time.UnixMilli(now), time.UnixMilli(now)
		a.StartAt, a.ReservedUntil = time.UnixMilli(a.StartAt.UnixMilli()), time.UnixMilli(a.ReservedUntil.UnixMilli())
		if a.Alternatives == "" {
			a.Alternatives = "[]" // the column's default
		}
	}
	return out, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const appointmentEventSQL = `INSERT INTO appointment_events (appointment_id, at, event, detail) VALUES (?, ?, ?, ?)`

// AddAppointmentEvent appends to an appointment's timeline (the webhook outbox).
func (s *Store) AddAppointmentEvent(ctx context.Context, q Queryer, appointmentID, event, detail string) error {
	_, err := q.ExecContext(ctx, appointmentEventSQL, appointmentID, s.nowMS(), event, detail)
	if err != nil {
		return fmt.Errorf("store: appointment event: %w", err)
	}
	return nil
}

// LeaseAppointment gives one write-back worker the appointment until the lease ends, under
// token; false when another worker holds it. It is what keeps two workers from writing one
// booking twice.
func (s *Store) LeaseAppointment(ctx context.Context, id, token string, d time.Duration) (bool, error) {
	now := s.nowMS()
	res, err := s.db.ExecContext(ctx, `UPDATE appointments SET lease_until = ?, lease_token = ?
		WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)`, now+d.Milliseconds(), token, id, now)
	if err != nil {
		return false, fmt.Errorf("store: lease appointment %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseAppointment ends the lease taken under token; a lease another worker took since is
// left alone.
func (s *Store) ReleaseAppointment(ctx context.Context, id, token string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE appointments SET lease_until = NULL, lease_token = '' WHERE id = ? AND lease_token = ?`, id, token)
	return err
}

// LiveRescheduleOf returns the id of the live appointment rescheduling id, or "".
func (s *Store) LiveRescheduleOf(ctx context.Context, id string) (string, error) {
	var out string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM appointments WHERE rescheduled_from = ?
		AND state IN ('reserved', 'confirming', 'booked', 'placeholder')`, id).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return out, err
}

// queryAppointments runs a query selecting appointmentColumns and scans every row; what names
// the list in errors.
func (s *Store) queryAppointments(ctx context.Context, what, query string, args ...any) ([]AppointmentRow, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []AppointmentRow
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ExpireHolds marks holds whose time ran out as expired and says how many.
func (s *Store) ExpireHolds(ctx context.Context) (int, error) {
	now := s.nowMS()
	res, err := s.db.ExecContext(ctx, `UPDATE appointments SET state = 'expired', updated_at = ?
		WHERE state = 'reserved' AND reserved_until <= ?`, now, now)
	if err != nil {
		return 0, fmt.Errorf("store: expire holds: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// AppointmentsWhere lists appointments of a practice in the given states, soonest first.
func (s *Store) AppointmentsWhere(ctx context.Context, practiceID int64, states ...string) ([]AppointmentRow, error) {
	if len(states) == 0 {
		return nil, nil
	}
	args := []any{practiceID}
	for _, st := range states {
		args = append(args, st)
	}
	return s.queryAppointments(ctx, "appointments", `SELECT `+appointmentColumns+` FROM appointments WHERE practice_id = ?
		AND state IN (?`+strings.Repeat(", ?", len(states)-1)+`) ORDER BY start_at, id`, args...)
}

// AppointmentsNeedingEMIS lists appointments whose EMIS side is not settled: confirming, a
// placeholder with a patient linked, a placeholder to write again or to match again (its
// search timed out, or it was last searched before rematchBefore), or cancelled with something
// still written in EMIS. The
// write-back sweep re-enqueues them, so a job lost with its process is not a booking lost.
func (s *Store) AppointmentsNeedingEMIS(ctx context.Context, rematchBefore time.Time, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM appointments WHERE state = 'confirming'
		OR (state = 'placeholder' AND (emis_patient_id IS NOT NULL OR emis_written = '' OR match_rule = 'match_timed_out'
			OR (emis_patient_id IS NULL AND COALESCE(matched_at, 0) < ?)))
		OR (state = 'cancelled' AND (emis_written != '' OR write_unknown = 1)) ORDER BY updated_at LIMIT ?`, rematchBefore.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: appointments needing EMIS: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// FeedCursor reads where a feed reader got to (0 at first).
func (s *Store) FeedCursor(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT last_id FROM feed_cursors WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// SetFeedCursor records where a feed reader got to, in the transaction that acted on it.
func (s *Store) SetFeedCursor(ctx context.Context, q Queryer, name string, id int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO feed_cursors (name, last_id) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id`, name, id)
	return err
}

// AddEMISCalls counts EMIS calls made for an appointment (the benchmark reports calls per booking).
func (s *Store) AddEMISCalls(ctx context.Context, id string, n int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE appointments SET emis_calls = emis_calls + ? WHERE id = ?`, n, id)
	return err
}

// UnregisteredSlotTypeID is the practice's slot type for unregistered-patient placeholders; 0
// when staff have not chosen one.
func (s *Store) UnregisteredSlotTypeID(ctx context.Context, practiceID int64) (int, error) {
	var id int
	err := s.read.QueryRowContext(ctx, `SELECT emis_id FROM emis_slot_types WHERE practice_id = ? AND feature = 'unregistered'`, practiceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
