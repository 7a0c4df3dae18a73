package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SlotState is what a slot holds in EMIS as herolink knows it first-hand: because herolink
// has just written it, or has just read it back.
type SlotState struct {
	Status    string // emis.SlotAvailable, emis.SlotBooked...
	TypeID    int
	PatientID int64 // 0: none
}

// RecordSlotTx writes into the diary copy what a slot holds in EMIS, in the caller's
// transaction (the one that records the appointment's change), and marks the slot's session
// as needing its slots read again. Without this the copy keeps what the sync last saw: a
// reception cancellation soon after herolink's booking would then look like Available to
// Available, and the session's counts like nothing happened, so no change would ever reach
// the diary feed. No change is recorded in the feed for herolink's own write. A slot the copy
// does not hold is left alone.
func (s *Store) RecordSlotTx(ctx context.Context, q Queryer, practiceID, slotID int64, st SlotState) error {
	var patient any
	if st.PatientID != 0 {
		patient = st.PatientID
	}
	res, err := q.ExecContext(ctx, `UPDATE diary_slots SET status = ?, type_id = ?, patient_id = ? WHERE practice_id = ? AND slot_id = ?`,
		st.Status, st.TypeID, patient, practiceID, slotID)
	if err != nil {
		return fmt.Errorf("store: record slot %d in the diary copy: %w", slotID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	// The stored summary of the session no longer describes EMIS (its counts moved): an empty
	// hash matches no session EMIS sends, so the next pass reads the session's slots.
	if _, err := q.ExecContext(ctx, `UPDATE diary_sessions SET summary_hash = '' WHERE practice_id = ?
		AND session_id = (SELECT session_id FROM diary_slots WHERE practice_id = ? AND slot_id = ?)`, practiceID, practiceID, slotID); err != nil {
		return fmt.Errorf("store: mark the session of slot %d for reading: %w", slotID, err)
	}
	return nil
}

// BookingsToVerify lists live bookings (booked or placeholder) starting at or after from that
// were not read back from EMIS since before, the longest unverified first, at most limit.
func (s *Store) BookingsToVerify(ctx context.Context, from, before time.Time, limit int) ([]AppointmentRow, error) {
	return s.queryAppointments(ctx, "bookings to verify", `SELECT `+appointmentColumns+` FROM appointments
		WHERE state IN ('booked', 'placeholder') AND start_at >= ? AND verified_at < ?
		ORDER BY verified_at, practice_id, session_id LIMIT ?`, from.UnixMilli(), before.UnixMilli(), limit)
}

// MarkVerified records that the bookings were read back from EMIS at t.
func (s *Store) MarkVerified(ctx context.Context, ids []string, t time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{t.UnixMilli()}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE appointments SET verified_at = ? WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: mark bookings verified: %w", err)
	}
	return nil
}

// PracticesReachable lists the practices whose EMIS connection is worth calling: an active
// connection whose credentials EMIS has not refused, as the sync's. Health "failing" is not a
// reason to skip: it also means a set-up fault that leaves EMIS answering (the unregistered
// slot type deleted or not bookable), and bookings there must still be read back; a practice
// whose EMIS refuses the calls costs the verifier one call a run.
func (s *Store) PracticesReachable(ctx context.Context) (map[int64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.id FROM practices p WHERE p.credentials_rejected = 0
		AND EXISTS
		(SELECT 1 FROM emis_connections c WHERE c.practice_id = p.id AND c.state = 'active')`)
	if err != nil {
		return nil, fmt.Errorf("store: reachable practices: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
