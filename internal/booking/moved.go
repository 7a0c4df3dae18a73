package booking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// movedSearchDays is how far ahead herolink looks for an appointment reception moved: the
// sync's longest horizon, inside what GetPatientAppointments answers.
const movedSearchDays = 56

// followReceptionMove looks for a booked appointment that left its slot because reception moved
// it to another one (EMIS's "move appointment": patient, reason and notes go with it). It is
// recognised only by herolink's reference in the notes and the same patient, so reception's
// own appointments are never taken for ours. It answers whether the booking now follows the
// appointment to its new slot.
func (s *Service) followReceptionMove(ctx context.Context, conn *emis.Conn, a store.AppointmentRow) (bool, error) {
	if a.State != string(StateBooked) || a.EMISPatientID == 0 || a.MatchRule == RuleBookedInEMIS {
		return false, nil
	}
	today := emis.Today(s.now())
	if err := s.Store.AddEMISCalls(ctx, a.ID, 1); err != nil {
		return false, err
	}
	appts, err := conn.GetPatientAppointments(ctx, a.EMISPatientID, today, today.AddDays(movedSearchDays-1))
	if errors.Is(err, emis.ErrPatientNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("booking: look for %s moved in EMIS: %w", a.Reference, err)
	}
	var to *emis.Slot
	for i, sl := range appts {
		if sl.DBID != a.SlotID && sl.Status == emis.SlotBooked && strings.Contains(sl.Notes, a.Reference) &&
			len(sl.Patients) == 1 && sl.Patients[0].DBID == a.EMISPatientID {
			to = &appts[i]
			break
		}
	}
	if to == nil {
		return false, nil
	}
	start, length, err := s.slotTime(ctx, a.PracticeID, *to)
	if err != nil {
		return false, err
	}
	err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.Store.UpdateAppointment(ctx, tx, a.ID, []string{string(StateBooked)},
			store.Set{Column: "slot_id", Value: to.DBID}, store.Set{Column: "session_id", Value: to.SessionDBID},
			store.Set{Column: "start_at", Value: start.UnixMilli()}, store.Set{Column: "length_min", Value: length},
			store.Set{Column: "emis_slot_type_id", Value: to.Type.TypeID}); err != nil {
			return err
		}
		return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.moved_in_emis", start.UTC().Format(time.RFC3339))
	})
	if errors.Is(err, store.ErrStateChanged) {
		return true, nil // cancelled meanwhile: nothing to follow
	}
	return err == nil, err
}

// slotTime is a slot's start and length: from the synced diary when it holds the slot, else
// from EMIS's answer.
func (s *Service) slotTime(ctx context.Context, practiceID int64, sl emis.Slot) (time.Time, int, error) {
	if d, err := s.Store.DiarySlotByID(ctx, practiceID, sl.DBID); err == nil {
		return d.StartAt, d.LengthMin, nil
	}
	day, err := emis.ParseDate(sl.Date)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("booking: moved slot %d: %w", sl.DBID, err)
	}
	m, err := emis.ParseClock(sl.StartTime)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("booking: moved slot %d: %w", sl.DBID, err)
	}
	return day.At(m), sl.SlotLength, nil
}
