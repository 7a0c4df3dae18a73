package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// The reconciliation inbox: placeholders waiting for their patient, how long they have waited,
// the practice's overdue threshold, and the figures staff and /metrics read. When a
// placeholder was written and when it was resolved are read from the appointment's timeline
// (appointment_events, written in the transaction of every change), so every way a
// placeholder ends counts, whoever ended it.

// DefaultPlaceholderOverdue is a practice's threshold until its staff change it.
const DefaultPlaceholderOverdue = 10 * time.Minute

// placeholderResolutions are the events that end a placeholder's wait: converted (auto
// match, staff link, booked in EMIS), cancelled (by the partner, staff or EMIS), rescheduled
// elsewhere, or failed because the practice gave its time away during a conversion.
const placeholderResolutions = `'appointment.reconciled', 'appointment.booked_in_emis', 'appointment.cancelled',
	'appointment.rescheduled', 'appointment.failed'`

// WaitingPlaceholder is an open placeholder with when it was first written and whether it has
// been recorded overdue.
type WaitingPlaceholder struct {
	AppointmentID string
	PracticeID    int64
	Reference     string
	Since         time.Time
	Overdue       bool
	Threshold     time.Duration // the practice's
}

// WaitingPlaceholders lists the open placeholders of one practice (practiceID > 0) or of
// every practice (0), oldest first.
func (s *Store) WaitingPlaceholders(ctx context.Context, practiceID int64) ([]WaitingPlaceholder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.practice_id, a.reference, MIN(e.at), p.placeholder_overdue_minutes,
		CASE WHEN EXISTS (SELECT 1 FROM appointment_events o WHERE o.appointment_id = a.id AND o.event = 'appointment.placeholder_overdue') THEN 1 ELSE 0 END
		FROM appointments a
		JOIN practices p ON p.id = a.practice_id
		JOIN appointment_events e ON e.appointment_id = a.id AND e.event = 'appointment.confirmed' AND e.detail = 'placeholder'
		WHERE a.state = 'placeholder' AND (CAST(? AS BIGINT) = 0 OR a.practice_id = ?)
		GROUP BY a.id, a.practice_id, a.reference, p.placeholder_overdue_minutes
		ORDER BY MIN(e.at), a.id`, practiceID, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: waiting placeholders: %w", err)
	}
	defer rows.Close()
	var out []WaitingPlaceholder
	for rows.Next() {
		var w WaitingPlaceholder
		var since int64
		var minutes, overdue int
		if err := rows.Scan(&w.AppointmentID, &w.PracticeID, &w.Reference, &since, &minutes, &overdue); err != nil {
			return nil, fmt.Errorf("store: waiting placeholders: %w", err)
		}
		w.Since, w.Overdue, w.Threshold = time.UnixMilli(since), overdue != 0, time.Duration(minutes)*time.Minute
		out = append(out, w)
	}
	return out, rows.Err()
}

// MarkPlaceholderOverdue records that a placeholder has waited past its practice's threshold,
// once: it sets alerted_at (the bookings page's alert) and answers ErrStateChanged when the
// appointment is no longer a placeholder, is already alerted, or was recorded overdue before
// (a conversion that was undone clears alerted_at but does not make it overdue again). The
// condition on the row's own alerted_at is what makes two instances doing this at once
// record it once: PostgreSQL re-checks it on the row the first one updated.
func (s *Store) MarkPlaceholderOverdue(ctx context.Context, tx *Tx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE appointments SET alerted_at = ?, updated_at = ?
		WHERE id = ? AND state = 'placeholder' AND alerted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM appointment_events o WHERE o.appointment_id = ? AND o.event = 'appointment.placeholder_overdue')`,
		at.UnixMilli(), s.nowMS(), id, id)
	if err != nil {
		return fmt.Errorf("store: mark placeholder %s overdue: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStateChanged
	}
	return nil
}

// PlaceholderOverdue is the practice's threshold.
func (s *Store) PlaceholderOverdue(ctx context.Context, practiceID int64) (time.Duration, error) {
	var minutes int
	err := s.db.QueryRowContext(ctx, `SELECT placeholder_overdue_minutes FROM practices WHERE id = ?`, practiceID).Scan(&minutes)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: placeholder threshold of practice %d: %w", practiceID, err)
	}
	return time.Duration(minutes) * time.Minute, nil
}

// SetPlaceholderOverdue changes the practice's threshold (whole minutes, 1 to 1,440), audited
// in the same transaction.
func (s *Store) SetPlaceholderOverdue(ctx context.Context, practiceID int64, d time.Duration, audit AuditEntry) error {
	minutes := int(d / time.Minute)
	if d%time.Minute != 0 || minutes < 1 || minutes > 1440 {
		return fmt.Errorf("store: placeholder threshold %s: whole minutes from 1 to 1440", d)
	}
	return s.inTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE practices SET placeholder_overdue_minutes = ? WHERE id = ?`, minutes, practiceID)
		if err != nil {
			return fmt.Errorf("store: placeholder threshold: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
}

// InboxFigures are a practice's reconciliation figures.
type InboxFigures struct {
	Open          int
	OldestSince   time.Time // zero when none is open
	Resolved      int       // placeholders resolved in the window
	MedianResolve time.Duration
}

// PlaceholderFigures counts a practice's open placeholders, the oldest one's start, and the
// median time from written to resolved of the placeholders resolved since from.
func (s *Store) PlaceholderFigures(ctx context.Context, practiceID int64, from time.Time) (InboxFigures, error) {
	var f InboxFigures
	open, err := s.WaitingPlaceholders(ctx, practiceID)
	if err != nil {
		return f, err
	}
	f.Open = len(open)
	if len(open) > 0 {
		f.OldestSince = open[0].Since
	}
	// The timelines of the practice's placeholders changed since from: when each was first
	// written, and the first resolution after that.
	rows, err := s.db.QueryContext(ctx, `SELECT e.appointment_id, e.event, e.detail, e.at
		FROM appointment_events e JOIN appointments a ON a.id = e.appointment_id
		WHERE a.practice_id = ? AND a.state <> 'placeholder' AND a.updated_at >= ?
		AND e.event IN ('appointment.confirmed', `+placeholderResolutions+`)
		AND EXISTS (SELECT 1 FROM appointment_events p WHERE p.appointment_id = a.id
			AND p.event = 'appointment.confirmed' AND p.detail = 'placeholder')
		ORDER BY e.appointment_id, e.id`, practiceID, from.UnixMilli())
	if err != nil {
		return f, fmt.Errorf("store: placeholder figures: %w", err)
	}
	defer rows.Close()
	type wait struct{ since, resolved int64 }
	waits := map[string]*wait{}
	for rows.Next() {
		var id, event, detail string
		var at int64
		if err := rows.Scan(&id, &event, &detail, &at); err != nil {
			return f, fmt.Errorf("store: placeholder figures: %w", err)
		}
		w := waits[id]
		switch {
		case w == nil && event == "appointment.confirmed" && detail == "placeholder":
			waits[id] = &wait{since: at}
		case w != nil && w.resolved == 0 && event != "appointment.confirmed":
			w.resolved = at
		}
	}
	if err := rows.Err(); err != nil {
		return f, err
	}
	var took []time.Duration
	for _, w := range waits {
		if w.resolved != 0 && w.resolved >= from.UnixMilli() {
			took = append(took, time.Duration(w.resolved-w.since)*time.Millisecond)
		}
	}
	f.Resolved = len(took)
	f.MedianResolve = median(took)
	return f, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// MatchCandidates is what EMIS answered the last search for a placeholder's patient.
type MatchCandidates struct {
	SearchedAt time.Time
	Reason     string // matching's sentence, without demographics
	Candidates string // JSON list
}

// SaveMatchCandidates keeps what the last search for an appointment's patient found.
func (s *Store) SaveMatchCandidates(ctx context.Context, q Queryer, id string, m MatchCandidates) error {
	_, err := q.ExecContext(ctx, `INSERT INTO match_candidates (appointment_id, searched_at, reason, candidates) VALUES (?, ?, ?, ?)
		ON CONFLICT (appointment_id) DO UPDATE SET searched_at = excluded.searched_at, reason = excluded.reason, candidates = excluded.candidates`,
		id, m.SearchedAt.UnixMilli(), m.Reason, m.Candidates)
	if err != nil {
		return fmt.Errorf("store: match candidates of %s: %w", id, err)
	}
	return nil
}

// MatchCandidatesOf reads what the last search for an appointment's patient found;
// ErrNotFound when none was kept.
func (s *Store) MatchCandidatesOf(ctx context.Context, id string) (MatchCandidates, error) {
	var m MatchCandidates
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT searched_at, reason, candidates FROM match_candidates WHERE appointment_id = ?`, id).
		Scan(&at, &m.Reason, &m.Candidates)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("store: match candidates of %s: %w", id, err)
	}
	m.SearchedAt = time.UnixMilli(at)
	return m, nil
}

// APIKeyName is the name of an API key (the partner a booking belongs to is its first key),
// whatever its state; "" when there is none.
func (s *Store) APIKeyName(ctx context.Context, id string) (string, error) {
	var name string
	err := s.db.QueryRowContext(ctx, `SELECT name FROM api_keys WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: API key name: %w", err)
	}
	return name, nil
}
