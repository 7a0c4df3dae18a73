package booking

import (
	"context"
	"errors"
	"fmt"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// movedSearchDays is how far ahead herolink looks for an appointment reception moved: the
// sync's longest horizon, inside what GetPatientAppointments answers.
const movedSearchDays = 56

// followReceptionMove looks for a booked appointment that left its slot because reception moved
// it to another one (EMIS's "move appointment": patient, reason and notes go with it). It is
// recognised only by herolink's reference in the notes and the same patient (classifyElsewhere),
// so reception's own appointments are never taken for ours. It answers whether the booking now
// follows the appointment to its new slot; old is the slot as EMIS now shows it. The diary feed
// and the verifier both call it before deciding a booking is gone.
func (s *Service) followReceptionMove(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, old emis.Slot, unreg int) (bool, error) {
	if a.State != string(StateBooked) || a.EMISPatientID == 0 || a.MatchRule == RuleBookedInEMIS {
		return false, nil
	}
	x, found, err := s.findMoved(ctx, conn, a, func(x emis.Slot) bool { return classifyElsewhere(x, a, unreg) })
	if err != nil || !found {
		return false, err
	}
	if _, err := s.followSlot(ctx, a, old, x); err != nil {
		return false, err
	}
	return true, nil
}

// findMoved looks among the patient's appointments (GetPatientAppointments, today and the next
// movedSearchDays) for this booking in a slot other than its own, recognised by ours (herolink's
// reference and the patient herolink means).
func (s *Service) findMoved(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, ours func(emis.Slot) bool) (emis.Slot, bool, error) {
	if err := s.Store.AddEMISCalls(ctx, a.ID, 1); err != nil {
		return emis.Slot{}, false, err
	}
	today := emis.Today(s.now())
	appts, err := conn.GetPatientAppointments(ctx, a.EMISPatientID, today, today.AddDays(movedSearchDays-1))
	if errors.Is(err, emis.ErrPatientNotFound) || errors.Is(err, emis.ErrNothingToReturn) {
		return emis.Slot{}, false, nil
	}
	if err != nil {
		return emis.Slot{}, false, fmt.Errorf("booking: look for %s moved in EMIS: %w", a.Reference, err)
	}
	for _, x := range appts {
		if x.DBID != a.SlotID && ours(x) {
			return x, true, nil
		}
	}
	return emis.Slot{}, false, nil
}
