package sandbox

import (
	"fmt"

	"herolink/internal/emis"
)

// MoveAppointment is reception moving a booked appointment to another slot, as EMIS's "move
// appointment" does: the patient, reason and notes go with it, and the old slot is free again.
// The new slot must be one the patient could be booked into.
func (o *Org) MoveAppointment(fromSlot, toSlot int64) (emis.Slot, error) {
	if fromSlot == toSlot {
		return emis.Slot{}, invalid("the appointment is already in slot %d", toSlot)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	from, found := o.findSlotLocked(fromSlot, false)
	if !found {
		return emis.Slot{}, fmt.Errorf("slot %d: %w", fromSlot, ErrNotFound)
	}
	if from.slot.Status != emis.SlotBooked {
		return emis.Slot{}, &OutcomeError{Outcome: emis.OutcomeSlotNotBooked, Msg: fmt.Sprintf("slot %d holds no appointment to move", fromSlot)}
	}
	to, found := o.findSlotLocked(toSlot, false)
	if !found {
		return emis.Slot{}, fmt.Errorf("slot %d: %w", toSlot, ErrNotFound)
	}
	if a := o.bookRuleLocked(to); a.outcome != 0 {
		return emis.Slot{}, answerErr(a)
	}
	// Materialise both days before writing either, so neither reference goes stale.
	from, _ = o.findSlotLocked(fromSlot, true)
	to, _ = o.findSlotLocked(toSlot, true)
	moved := *from.slot
	*to.slot = SlotState{TypeID: to.slot.TypeID, Status: emis.SlotBooked, PatientID: moved.PatientID,
		AppointmentStatus: moved.AppointmentStatus, Reason: moved.Reason, Notes: moved.Notes, BookedBy: moved.BookedBy}
	*from.slot = SlotState{TypeID: from.slot.TypeID, Status: emis.SlotAvailable}
	o.touch()
	return o.wireSlotLocked(to), nil
}
