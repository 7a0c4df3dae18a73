package booking

import (
	"context"
	"errors"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// cancelsMovedAway says whether a cancellation must look for its appointment elsewhere: herolink
// wrote an appointment (or may have), and its slot no longer holds it. Reception may have moved
// it (EMIS's "move appointment") before herolink noticed; the cancellation follows it.
func cancelsMovedAway(a store.AppointmentRow, state seen) bool {
	return state != seenOurAppointment && state != seenOurPlaceholder && state != seenUnread &&
		a.EMISPatientID != 0 && a.MatchRule != RuleBookedInEMIS && (a.EMISWritten == "appointment" || a.WriteUnknown)
}

// cancelMovedAway looks among the patient's appointments for this booking's (herolink's
// reference, the same patient) in another slot, and cancels it there. It answers whether it
// found one; when it did, the write is recorded as for the booking's own slot.
func (s *Service) cancelMovedAway(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, unreg int) (bool, error) {
	x, found, err := s.findMoved(ctx, conn, a, func(x emis.Slot) bool { return classify(x, a, unreg) == seenOurAppointment })
	if err != nil || !found {
		return false, err
	}
	if err := s.attempt(ctx, a); err != nil {
		return true, err
	}
	err = conn.CancelAppointment(ctx, x.DBID, "Cancelled in herolink "+a.Reference)
	if err != nil && !errors.Is(err, emis.ErrSlotNotBooked) {
		return true, s.settleFailedWrite(ctx, a, err) // read back, and looked for, again
	}
	there := a
	there.SlotID, there.EMISSlotTypeID = x.DBID, x.Type.TypeID
	if err := s.written(ctx, there, "", err == nil); err != nil {
		return true, err
	}
	return true, s.Store.AddAppointmentEvent(ctx, s.Store.DBQ(), a.ID, "appointment.cancelled_in_emis", "moved by reception")
}
