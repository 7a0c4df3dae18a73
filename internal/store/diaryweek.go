package store

import (
	"context"
	"fmt"
	"time"
)

// DiaryWeekSlot is a stored slot with herolink's live appointment on it, if any.
type DiaryWeekSlot struct {
	SlotRow
	// Herolink is the state of herolink's live appointment on the slot: "reserved" (held
	// until HeldUntil), "confirming", "booked", "placeholder"; "" when herolink has none.
	Herolink  string
	Reference string
	HeldUntil time.Time
}

// DiaryWeekSession is a stored session with its slots in time order.
type DiaryWeekSession struct {
	SessionRow
	Slots []DiaryWeekSlot
}

// DiaryWeek reads the synced copy of a practice's diary for the dates from..to (yyyy-mm-dd,
// inclusive): sessions by start, their slots, and herolink's holds, bookings and placeholders
// on them. No EMIS call: it is what partners are offered from. A hold whose time has passed is
// not shown as held.
func (s *Store) DiaryWeek(ctx context.Context, practiceID int64, from, to string, now time.Time) ([]DiaryWeekSession, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id, date, start_at, end_at, slot_length, name, site_id, holder_ids
		FROM diary_sessions WHERE practice_id = ? AND date >= ? AND date <= ? ORDER BY start_at, session_id`, practiceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: diary week sessions: %w", err)
	}
	var out []DiaryWeekSession
	index := map[int64]int{}
	for rows.Next() {
		var se DiaryWeekSession
		var start, end int64
		var holders string
		if err := rows.Scan(&se.ID, &se.Date, &start, &end, &se.SlotLength, &se.Name, &se.SiteID, &holders); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: diary week sessions: %w", err)
		}
		se.StartAt, se.EndAt, se.HolderIDs = time.UnixMilli(start), time.UnixMilli(end), splitIDs(holders)
		index[se.ID] = len(out)
		out = append(out, se)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: diary week sessions: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}

	rows, err = s.db.QueryContext(ctx, `SELECT sl.slot_id, sl.session_id, sl.start_at, sl.length_min, sl.type_id, sl.status,
		COALESCE(sl.patient_id, 0), COALESCE(a.state, ''), COALESCE(a.reference, ''), COALESCE(a.reserved_until, 0)
		FROM diary_slots sl
		JOIN diary_sessions se ON se.practice_id = sl.practice_id AND se.session_id = sl.session_id
		LEFT JOIN appointments a ON a.practice_id = sl.practice_id AND a.slot_id = sl.slot_id
			AND a.state IN ('reserved', 'confirming', 'booked', 'placeholder')
		WHERE sl.practice_id = ? AND se.date >= ? AND se.date <= ?
		ORDER BY sl.start_at, sl.slot_id`, practiceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: diary week slots: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sl DiaryWeekSlot
		var start, held int64
		if err := rows.Scan(&sl.ID, &sl.SessionID, &start, &sl.LengthMin, &sl.TypeID, &sl.Status, &sl.PatientID,
			&sl.Herolink, &sl.Reference, &held); err != nil {
			return nil, fmt.Errorf("store: diary week slots: %w", err)
		}
		sl.StartAt = time.UnixMilli(start)
		if sl.Herolink == "reserved" {
			if sl.HeldUntil = time.UnixMilli(held); !sl.HeldUntil.After(now) {
				sl.Herolink, sl.Reference, sl.HeldUntil = "", "", time.Time{}
			}
		}
		if i, ok := index[sl.SessionID]; ok {
			out[i].Slots = append(out[i].Slots, sl)
		}
	}
	return out, rows.Err()
}
