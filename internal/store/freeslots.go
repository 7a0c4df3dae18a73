package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FreeSlotQuery selects slots partners may reserve.
type FreeSlotQuery struct {
	GroupID    string
	PracticeID int64   // 0: every practice of the group
	Practices  []int64 // the group's practices when the caller knows them; nil: read them
	SlotID     int64   // 0: any
	From, To   time.Time
	Now        time.Time
	SiteID     int64 // 0: any
	HolderID   int64 // 0: any
	TypeID     int   // 0: any bookable type
	// After is the keyset cursor: slots strictly after (start, practice, slot).
	AfterStart    int64
	AfterPractice int64
	AfterSlot     int64
	Limit         int
}

// FreeSlot is a slot a partner may reserve, with what the API shows of it.
type FreeSlot struct {
	PracticeID int64
	SlotID     int64
	SessionID  int64
	StartAt    time.Time
	LengthMin  int
	TypeID     int
	SiteID     int64
	HolderIDs  []int64
}

// cancellationPending is the SQL test, on the appointments row aliased alias, for a cancelled
// booking whose undoing EMIS has not confirmed yet (something of ours may still be written
// there, or the last write's outcome is unknown). Such a row still occupies its slot: the
// same condition is in the unique index appointments_one_live_per_slot (migration 0015).
func cancellationPending(alias string) string {
	return "(" + alias + ".state = 'cancelled' AND (" + alias + ".emis_written != '' OR " + alias + ".write_unknown = 1) AND " +
		alias + ".slot_released_early = 0)"
}

// FreeSlots lists slots that are Available in the synced diary, of a type the practice made
// bookable, at a site mapped to a location, in the future, and not held or booked through
// herolink (a hold past its time does not count) nor cancelled in herolink while EMIS has not
// yet confirmed the cancellation, in (start, practice, slot) order. Each practice is answered
// on its own, from the free-slot index (or, for one slot or without the index, by SQL along
// the primary key); the pages are merged.
func (s *Store) FreeSlots(ctx context.Context, q FreeSlotQuery) ([]FreeSlot, error) {
	return s.freeSlots(ctx, q, s.slots)
}

// freeSlots answers from the index when there is one, else from SQL alone.
func (s *Store) freeSlots(ctx context.Context, q FreeSlotQuery, index *slotIndex) ([]FreeSlot, error) {
	// One slot is one indexed read (as HoldableSlot reads a hold's slot): cheaper than
	// bringing the practice's index up to date after every hold.
	if index != nil && q.SlotID == 0 {
		out, _, err := s.freeSlotsWith(ctx, q)
		return out, err
	}
	practices, err := s.queryPractices(ctx, q)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []FreeSlot
	for _, pid := range practices {
		rows, err := s.freeSlotsOf(ctx, pid, q)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return mergeFree(out, len(practices), q.Limit), nil
}

// freeSlotsWith answers from the index, with how long the answer stays true.
func (s *Store) freeSlotsWith(ctx context.Context, q FreeSlotQuery) ([]FreeSlot, Freshness, error) {
	practices, err := s.queryPractices(ctx, q)
	if err != nil || len(practices) == 0 {
		return nil, Freshness{}, err
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	out, fresh, err := s.slots.freeSlots(ctx, s, practices, q)
	if err != nil {
		return nil, Freshness{}, err
	}
	return mergeFree(out, len(practices), q.Limit), fresh, nil
}

// queryPractices is the practices a query covers.
func (s *Store) queryPractices(ctx context.Context, q FreeSlotQuery) ([]int64, error) {
	switch {
	case q.PracticeID != 0:
		return []int64{q.PracticeID}, nil
	case q.Practices != nil:
		return q.Practices, nil
	}
	return s.GroupPractices(ctx, q.GroupID)
}

// mergeFree puts the practices' pages in (start, practice, slot) order and keeps limit.
func mergeFree(out []FreeSlot, practices, limit int) []FreeSlot {
	if practices > 1 {
		slices.SortFunc(out, func(a, b FreeSlot) int {
			return cmp.Or(a.StartAt.Compare(b.StartAt), cmp.Compare(a.PracticeID, b.PracticeID), cmp.Compare(a.SlotID, b.SlotID))
		})
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (s *Store) freeSlotsOf(ctx context.Context, practiceID int64, q FreeSlotQuery) ([]FreeSlot, error) {
	query, args := freeSlotsSQL(practiceID, q, "")
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: free slots: %w", err)
	}
	defer rows.Close()
	var out []FreeSlot
	for rows.Next() {
		f, err := scanFreeSlot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// scanFreeSlot reads freeSlotsSQL's slot columns, then the extra columns into extra.
func scanFreeSlot(row interface{ Scan(...any) error }, extra ...any) (FreeSlot, error) {
	var f FreeSlot
	var start int64
	var holders string
	if err := row.Scan(append([]any{&f.PracticeID, &f.SlotID, &f.SessionID, &start, &f.LengthMin, &f.TypeID, &f.SiteID, &holders}, extra...)...); err != nil {
		return FreeSlot{}, err
	}
	f.StartAt = time.UnixMilli(start)
	f.HolderIDs = splitIDs(holders)
	return f, nil
}

// freeSlotsSelect is FreeSlots' query without its order and limit: the slot's columns and
// extra, where the condition which (its arguments first) and the free slot's conditions (then
// the arguments from, to and now, in milliseconds).
func freeSlotsSelect(extra, which string) string {
	return `SELECT sl.practice_id, sl.slot_id, sl.session_id, sl.start_at, sl.length_min, sl.type_id, se.site_id, se.holder_ids` + extra + `
		FROM diary_slots sl
		JOIN practices p ON p.id = sl.practice_id
		JOIN diary_sessions se ON se.practice_id = sl.practice_id AND se.session_id = sl.session_id
		JOIN emis_slot_types t ON t.practice_id = sl.practice_id AND t.emis_id = sl.type_id AND t.feature = 'bookable' AND t.gone = 0
		JOIN locations l ON l.practice_id = sl.practice_id AND l.emis_site_id = se.site_id
		WHERE ` + which + ` AND sl.status = 'Available'
		AND sl.start_at >= ? AND sl.start_at < ?
		AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.practice_id = sl.practice_id AND a.slot_id = sl.slot_id
			AND (a.state IN ('confirming', 'booked', 'placeholder') OR (a.state = 'reserved' AND a.reserved_until > ?)
				OR ` + cancellationPending("a") + `))`
}

// freeSlotsSQL is FreeSlots' query for one practice; extra columns, if any, follow the slot's.
func freeSlotsSQL(practiceID int64, q FreeSlotQuery, extra string) (string, []any) {
	var b strings.Builder
	now := q.Now.UnixMilli()
	args := []any{practiceID, q.GroupID, max(now+1, q.From.UnixMilli()), q.To.UnixMilli(), now}
	b.WriteString(freeSlotsSelect(extra, "sl.practice_id = ? AND p.practice_group_id = ?"))
	if q.SlotID != 0 {
		b.WriteString(" AND sl.slot_id = ?")
		args = append(args, q.SlotID)
	}
	if q.SiteID != 0 {
		b.WriteString(" AND se.site_id = ?")
		args = append(args, q.SiteID)
	}
	if q.HolderID != 0 {
		b.WriteString(" AND (' ' || se.holder_ids || ' ') LIKE ?")
		args = append(args, "% "+strconv.FormatInt(q.HolderID, 10)+" %")
	}
	if q.TypeID != 0 {
		b.WriteString(" AND sl.type_id = ?")
		args = append(args, q.TypeID)
	}
	if q.AfterStart != 0 {
		// After (start, practice, slot) in the merged order, as seen from this practice.
		switch {
		case practiceID > q.AfterPractice:
			b.WriteString(" AND sl.start_at >= ?")
			args = append(args, q.AfterStart)
		case practiceID < q.AfterPractice:
			b.WriteString(" AND sl.start_at > ?")
			args = append(args, q.AfterStart)
		default:
			b.WriteString(" AND (sl.start_at, sl.slot_id) > (?, ?)")
			args = append(args, q.AfterStart, q.AfterSlot)
		}
	}
	if q.SlotID == 0 {
		b.WriteString(" ORDER BY sl.start_at, sl.slot_id")
	} // else the slot is found by its key: an ORDER BY would lead the planner to walk the start index
	b.WriteString(" LIMIT ?")
	args = append(args, q.Limit)
	return b.String(), args
}

// HoldTerms is what a new hold needs of its practice besides the slot: whether its EMIS
// connection is failing, the slot type unregistered patients' bookings go to (0: none chosen
// yet) and its booking policy.
type HoldTerms struct {
	HealthStatus       string
	HealthReason       string
	UnregisteredTypeID int
	Policy             BookingPolicy
}

// holdTermsColumns read HoldTerms beside a slot of practices p. The subquery finds at most one
// row: a practice has at most one unregistered type (emis_slot_types_one_unregistered).
const holdTermsColumns = `, p.health_status, p.health_reason,
	COALESCE((SELECT u.emis_id FROM emis_slot_types u WHERE u.practice_id = p.id AND u.feature = 'unregistered'), 0),
	p.hold_minutes, p.cancel_cutoff_minutes`

// HoldableSlot reads one slot of the practice if FreeSlots would list it, with the practice's
// HoldTerms, in one query: under a burst of holds each round trip waits for a connection, and
// this is all a hold reads before its transaction. ok is false when the slot is not free (or
// not the group's); the caller asks DiarySlotByID why.
func (s *Store) HoldableSlot(ctx context.Context, group string, practiceID, slotID int64, now time.Time) (FreeSlot, HoldTerms, bool, error) {
	query, args := freeSlotsSQL(practiceID, FreeSlotQuery{GroupID: group, SlotID: slotID, From: time.UnixMilli(0),
		To: now.AddDate(1, 0, 0), Now: now, Limit: 1}, holdTermsColumns)
	var t HoldTerms
	var hold, cutoff int
	f, err := scanFreeSlot(s.read.QueryRowContext(ctx, query, args...), &t.HealthStatus, &t.HealthReason, &t.UnregisteredTypeID, &hold, &cutoff)
	if errors.Is(err, sql.ErrNoRows) {
		return FreeSlot{}, HoldTerms{}, false, nil
	}
	if err != nil {
		return FreeSlot{}, HoldTerms{}, false, fmt.Errorf("store: slot %d of practice %d: %w", slotID, practiceID, err)
	}
	t.Policy = BookingPolicy{Hold: time.Duration(hold) * time.Minute, CancelCutoff: time.Duration(cutoff) * time.Minute}
	return f, t, true, nil
}

// SlotKey names a slot a partner group asks for.
type SlotKey struct {
	GroupID    string
	PracticeID int64
	SlotID     int64
}

// Holdable is HoldableSlot's answer for one slot: OK false when it is not free.
type Holdable struct {
	Slot  FreeSlot
	Terms HoldTerms
	OK    bool
}

// HoldableSlots is HoldableSlot for several slots in one query, answered in keys' order: how
// a burst of holds reads its slots in one round trip rather than one each.
func (s *Store) HoldableSlots(ctx context.Context, keys []SlotKey, now time.Time) ([]Holdable, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var which strings.Builder
	args := make([]any, 0, 2*len(keys)+3)
	which.WriteString("(")
	for i, k := range keys {
		if i > 0 {
			which.WriteString(" OR ")
		}
		which.WriteString("(sl.practice_id = ? AND sl.slot_id = ?)")
		args = append(args, k.PracticeID, k.SlotID)
	}
	which.WriteString(")")
	args = append(args, now.UnixMilli()+1, now.AddDate(1, 0, 0).UnixMilli(), now.UnixMilli())
	rows, err := s.read.QueryContext(ctx, freeSlotsSelect(holdTermsColumns+", p.practice_group_id", which.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("store: %d slots: %w", len(keys), err)
	}
	defer rows.Close()
	type found struct {
		h     Holdable
		group string
	}
	byKey := map[[2]int64]found{}
	for rows.Next() {
		var f found
		var hold, cutoff int
		if f.h.Slot, err = scanFreeSlot(rows, &f.h.Terms.HealthStatus, &f.h.Terms.HealthReason, &f.h.Terms.UnregisteredTypeID,
			&hold, &cutoff, &f.group); err != nil {
			return nil, fmt.Errorf("store: %d slots: %w", len(keys), err)
		}
		f.h.Terms.Policy = BookingPolicy{Hold: time.Duration(hold) * time.Minute, CancelCutoff: time.Duration(cutoff) * time.Minute}
		f.h.OK = true
		byKey[[2]int64{f.h.Slot.PracticeID, f.h.Slot.SlotID}] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %d slots: %w", len(keys), err)
	}
	out := make([]Holdable, len(keys))
	for i, k := range keys {
		// A slot of a practice outside the asking group is not free to it.
		if f, ok := byKey[[2]int64{k.PracticeID, k.SlotID}]; ok && f.group == k.GroupID {
			out[i] = f.h
		}
	}
	return out, nil
}

// DiarySlotByID reads one synced slot with its session's site and holders.
func (s *Store) DiarySlotByID(ctx context.Context, practiceID, slotID int64) (DiarySlot, error) {
	var d DiarySlot
	var start int64
	var holders string
	err := s.read.QueryRowContext(ctx, `SELECT sl.slot_id, sl.session_id, sl.start_at, sl.length_min, sl.type_id, sl.status,
		COALESCE(sl.patient_id, 0), se.name, se.site_id, se.holder_ids
		FROM diary_slots sl JOIN diary_sessions se ON se.practice_id = sl.practice_id AND se.session_id = sl.session_id
		WHERE sl.practice_id = ? AND sl.slot_id = ?`, practiceID, slotID).Scan(&d.ID, &d.SessionID, &start, &d.LengthMin,
		&d.TypeID, &d.Status, &d.PatientID, &d.SessionName, &d.SiteID, &holders)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return d, ErrNotFound
		}
		return d, fmt.Errorf("store: diary slot: %w", err)
	}
	d.StartAt = time.UnixMilli(start)
	d.HolderIDs = splitIDs(holders)
	return d, nil
}

// GroupPractices lists the ids of a practice group's practices.
func (s *Store) GroupPractices(ctx context.Context, groupID string) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM practices WHERE practice_group_id = ? ORDER BY id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("store: group practices: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// BookingPolicy is a practice's hold length and cancellation cut-off.
type BookingPolicy struct {
	Hold         time.Duration
	CancelCutoff time.Duration
}

// BookingPolicy reads a practice's booking policy.
func (s *Store) BookingPolicy(ctx context.Context, practiceID int64) (BookingPolicy, error) {
	var hold, cutoff int
	err := s.read.QueryRowContext(ctx, `SELECT hold_minutes, cancel_cutoff_minutes FROM practices WHERE id = ?`, practiceID).Scan(&hold, &cutoff)
	if err != nil {
		return BookingPolicy{}, fmt.Errorf("store: booking policy: %w", err)
	}
	return BookingPolicy{Hold: time.Duration(hold) * time.Minute, CancelCutoff: time.Duration(cutoff) * time.Minute}, nil
}

// SetBookingPolicy changes a practice's hold length and cancellation cut-off.
func (s *Store) SetBookingPolicy(ctx context.Context, practiceID int64, p BookingPolicy, audit AuditEntry) error {
	return s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE practices SET hold_minutes = ?, cancel_cutoff_minutes = ? WHERE id = ?`,
			int(p.Hold/time.Minute), int(p.CancelCutoff/time.Minute), practiceID); err != nil {
			return fmt.Errorf("store: booking policy: %w", err)
		}
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
}
