package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The state changes of an appointment, each named for what it means to a booking. Only this
// file names the appointments columns they write: the booking core says what happened, the
// store decides how it is kept. A change guarded by states applies only while the appointment
// is in one of them and answers ErrStateChanged otherwise, changing nothing; an unguarded
// change answers ErrStateChanged only when the appointment does not exist.

// Cancellation says who cancelled a booking, why and when.
type Cancellation struct {
	By     string
	Reason string
	At     time.Time
}

// SlotMove is where EMIS moved a booking: another slot (or the same one at a new time).
type SlotMove struct {
	SlotID         int64
	SessionID      int64
	StartAt        time.Time
	LengthMin      int
	EMISSlotTypeID int // 0: the booking keeps its slot type
}

// ConfirmBooking makes a hold a booking for patientID, to be written to EMIS: reserved only.
// emisPatientID is the EMIS number already linked to that patient at the practice (0: none
// yet, the write-back matches).
func (s *Store) ConfirmBooking(ctx context.Context, q Queryer, id, patientID string, emisPatientID int64, at time.Time) error {
	return s.changeAppointment(ctx, q, "confirm", id, []string{"reserved"},
		`state = 'confirming', patient_id = ?, emis_patient_id = ?, confirmed_at = ?`,
		patientID, nullID(emisPatientID), at.UnixMilli())
}

// ConfirmReschedule records, on the new appointment of a reschedule (inserted confirming),
// the EMIS number it is booked for (0: none known yet) and when it was confirmed.
func (s *Store) ConfirmReschedule(ctx context.Context, q Queryer, id string, emisPatientID int64, at time.Time) error {
	return s.changeAppointment(ctx, q, "confirm reschedule", id, nil,
		`emis_patient_id = ?, confirmed_at = ?`, nullID(emisPatientID), at.UnixMilli())
}

// EditHold changes a hold's description and comment: reserved only.
func (s *Store) EditHold(ctx context.Context, q Queryer, id, description, comment string) error {
	return s.changeAppointment(ctx, q, "edit hold", id, []string{"reserved"},
		`description = ?, comment = ?`, description, comment)
}

// MoveHold moves a hold to the slot, practice, type and expiry of to, with to's description
// and comment: reserved only. ErrSlotHeld when the slot has a live hold or booking already.
func (s *Store) MoveHold(ctx context.Context, q Queryer, id string, to AppointmentRow) error {
	return s.changeAppointment(ctx, q, "move hold", id, []string{"reserved"},
		`slot_id = ?, session_id = ?, practice_id = ?, start_at = ?, length_min = ?, emis_slot_type_id = ?,
		appointment_type_id = ?, reserved_until = ?, description = ?, comment = ?`,
		to.SlotID, to.SessionID, to.PracticeID, to.StartAt.UnixMilli(), to.LengthMin, to.EMISSlotTypeID,
		nullID(to.AppointmentTypeID), to.ReservedUntil.UnixMilli(), to.Description, to.Comment)
}

// CancelBooking cancels an appointment still in state from (the state its reader saw).
func (s *Store) CancelBooking(ctx context.Context, q Queryer, id, from string, c Cancellation) error {
	return s.changeAppointment(ctx, q, "cancel", id, []string{from},
		`state = 'cancelled', cancelled_at = ?, cancelled_by = ?, cancel_reason = ?`,
		c.At.UnixMilli(), c.By, c.Reason)
}

// RecordCancelledInEMIS cancels an appointment still in state from because EMIS no longer
// holds it (cancelled, removed or given away there): nothing of herolink's is left to undo.
func (s *Store) RecordCancelledInEMIS(ctx context.Context, q Queryer, id, from string, c Cancellation) error {
	return s.changeAppointment(ctx, q, "record cancelled in EMIS", id, []string{from},
		`state = 'cancelled', emis_written = '', cancelled_at = ?, cancelled_by = ?, cancel_reason = ?`,
		c.At.UnixMilli(), c.By, c.Reason)
}

// ReleaseRescheduled cancels the old booking of a reschedule once the new one, newID, is in
// EMIS: booked or placeholder only.
func (s *Store) ReleaseRescheduled(ctx context.Context, q Queryer, id, newID string, c Cancellation) error {
	return s.changeAppointment(ctx, q, "release rescheduled", id, []string{"booked", "placeholder"},
		`state = 'cancelled', cancelled_at = ?, cancelled_by = ?, cancel_reason = ?, rescheduled_to = ?`,
		c.At.UnixMilli(), c.By, c.Reason, newID)
}

// RecordBookedInEMIS records that the practice booked a placeholder's time as a real
// appointment in EMIS itself, under rule: placeholder only. herolink holds nothing there now.
func (s *Store) RecordBookedInEMIS(ctx context.Context, q Queryer, id, rule string) error {
	return s.changeAppointment(ctx, q, "record booked in EMIS", id, []string{"placeholder"},
		`state = 'booked', emis_written = '', match_rule = ?`, rule)
}

// CompleteBooking records that EMIS holds the booking as written ("appointment" or
// "placeholder") and that it is now in state (booked or placeholder): confirming or
// placeholder only. The outcome is known and any alert about waiting on EMIS is over.
func (s *Store) CompleteBooking(ctx context.Context, q Queryer, id, state, written string, at time.Time) error {
	return s.changeAppointment(ctx, q, "complete", id, []string{"confirming", "placeholder"},
		`state = ?, emis_written = ?, write_unknown = 0, written_at = ?, last_error = '', alerted_at = NULL`,
		state, written, at.UnixMilli())
}

// FailBooking records that the booking cannot be written (code says why; alternatives is the
// JSON list of slots offered instead): confirming or placeholder only. Nothing of herolink's
// is in EMIS for it.
func (s *Store) FailBooking(ctx context.Context, q Queryer, id, code, alternatives string) error {
	return s.changeAppointment(ctx, q, "fail", id, []string{"confirming", "placeholder"},
		`state = 'failed', failure_code = ?, alternatives = ?, write_unknown = 0`, code, alternatives)
}

// RecordWritten records what EMIS holds for the appointment ("appointment", "placeholder", or
// "" for nothing), read back or answered by a write: the write's outcome is known.
func (s *Store) RecordWritten(ctx context.Context, q Queryer, id, written string) error {
	return s.changeAppointment(ctx, q, "record written", id, nil,
		`emis_written = ?, write_unknown = 0`, written)
}

// MarkWriteSettled records that a write EMIS answered with a definite refusal left nothing
// behind: its outcome is no longer unknown.
func (s *Store) MarkWriteSettled(ctx context.Context, q Queryer, id string) error {
	return s.changeAppointment(ctx, q, "settle write", id, nil, `write_unknown = 0`)
}

// RecordPatientMatch links the booking to EMIS patient emisPatientID under rule (how the match
// was made), searched for at at.
func (s *Store) RecordPatientMatch(ctx context.Context, q Queryer, id string, emisPatientID int64, rule string, at time.Time) error {
	return s.changeAppointment(ctx, q, "record patient match", id, nil,
		`emis_patient_id = ?, match_rule = ?, matched_at = ?`, emisPatientID, rule, at.UnixMilli())
}

// RecordMatchAttempt records a search for the booking's patient that linked nobody, with the
// rule saying why. searchedAt is when EMIS answered; zero when it did not (a timeout), which
// leaves the time of the last answered search as it was.
func (s *Store) RecordMatchAttempt(ctx context.Context, q Queryer, id, rule string, searchedAt time.Time) error {
	return s.changeAppointment(ctx, q, "record match attempt", id, nil,
		`match_rule = ?, matched_at = COALESCE(CAST(? AS BIGINT), matched_at)`, rule, nullTime(searchedAt))
}

// DropPatientMatch unlinks the booking from its EMIS patient (EMIS does not know the number,
// or the record no longer agrees; rule says which), so it is written as a placeholder for
// staff. No write is outstanding for the dropped patient. searchedAt is when the record was
// checked; zero leaves the time of the last search as it was.
func (s *Store) DropPatientMatch(ctx context.Context, q Queryer, id, rule string, searchedAt time.Time) error {
	return s.changeAppointment(ctx, q, "drop patient match", id, nil,
		`write_unknown = 0, emis_patient_id = NULL, match_rule = ?, matched_at = COALESCE(CAST(? AS BIGINT), matched_at)`,
		rule, nullTime(searchedAt))
}

// LinkPlaceholderPatient records the EMIS patient a member of staff chose for a placeholder,
// under rule, for the write-back to convert it: placeholder only.
func (s *Store) LinkPlaceholderPatient(ctx context.Context, q Queryer, id string, emisPatientID int64, rule string) error {
	return s.changeAppointment(ctx, q, "link placeholder patient", id, []string{"placeholder"},
		`emis_patient_id = ?, match_rule = ?`, emisPatientID, rule)
}

// NoteError keeps the last problem with the booking for staff (msg, already clipped and free
// of secrets) and, when alertedAt is not zero, that staff were alerted about it then.
func (s *Store) NoteError(ctx context.Context, q Queryer, id, msg string, alertedAt time.Time) error {
	return s.changeAppointment(ctx, q, "note error", id, nil,
		`last_error = ?, alerted_at = COALESCE(CAST(? AS BIGINT), alerted_at)`, msg, nullTime(alertedAt))
}

// MarkPlaceholderAlerted records that staff were alerted, at at, to find a placeholder's
// patient: placeholder only.
func (s *Store) MarkPlaceholderAlerted(ctx context.Context, q Queryer, id string, at time.Time) error {
	return s.changeAppointment(ctx, q, "mark placeholder alerted", id, []string{"placeholder"},
		`alerted_at = ?`, at.UnixMilli())
}

// MoveBookingTime copies a new time of the booking's slot, as the diary shows it.
func (s *Store) MoveBookingTime(ctx context.Context, q Queryer, id string, start time.Time, lengthMin int) error {
	return s.changeAppointment(ctx, q, "move booking time", id, nil,
		`start_at = ?, length_min = ?`, start.UnixMilli(), lengthMin)
}

// MoveBookingSlot makes a booking still in state from follow its appointment to where EMIS
// moved it. ErrSlotHeld when herolink has another live booking there.
func (s *Store) MoveBookingSlot(ctx context.Context, q Queryer, id, from string, m SlotMove) error {
	return s.changeAppointment(ctx, q, "move booking slot", id, []string{from},
		`slot_id = ?, session_id = ?, start_at = ?, length_min = ?,
		emis_slot_type_id = COALESCE(CAST(? AS BIGINT), emis_slot_type_id)`,
		m.SlotID, m.SessionID, m.StartAt.UnixMilli(), m.LengthMin, nullID(int64(m.EMISSlotTypeID)))
}

// changeAppointment sets the assignments in set (SQL written in this file, never input) on
// appointment id, stamping updated_at, if it is in one of the states from (any when none).
// what names the change in errors.
func (s *Store) changeAppointment(ctx context.Context, q Queryer, what, id string, from []string, set string, args ...any) error {
	query := `UPDATE appointments SET updated_at = ?, ` + set + ` WHERE id = ?`
	all := make([]any, 0, len(args)+len(from)+2)
	all = append(all, s.nowMS())
	all = append(all, args...)
	all = append(all, id)
	if len(from) > 0 {
		query += ` AND state IN (?` + strings.Repeat(", ?", len(from)-1) + `)`
		for _, st := range from {
			all = append(all, st)
		}
	}
	res, err := q.ExecContext(ctx, query, all...)
	if err != nil {
		if isUniqueViolation(err) {
			return ErrSlotHeld
		}
		return fmt.Errorf("store: %s appointment %s: %w", what, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStateChanged
	}
	return nil
}

// nullTime is t in milliseconds, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}
