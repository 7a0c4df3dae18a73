package booking

import (
	"context"
	"fmt"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// recordWrite writes into the diary copy what the slot holds in EMIS once herolink's write
// landed: what is "appointment" (booked for the patient), "placeholder" (the unregistered
// type, still Available) or "" (the slot given back its own type, free). It runs in the
// transaction that records the appointment's change, so the copy and the booking never
// disagree, and the sync's next comparison sees reception's later change as a change.
func (s *Service) recordWrite(ctx context.Context, q store.Queryer, a store.AppointmentRow, what string) error {
	st := store.SlotState{Status: emis.SlotAvailable, TypeID: a.EMISSlotTypeID}
	switch what {
	case "appointment":
		st.Status, st.PatientID = emis.SlotBooked, a.EMISPatientID
	case "placeholder":
		unreg, err := s.Store.UnregisteredSlotTypeID(ctx, a.PracticeID)
		if err != nil {
			return fmt.Errorf("booking: record placeholder %s in the diary copy: %w", a.Reference, err)
		}
		st.TypeID = unreg
	}
	return s.Store.RecordSlotTx(ctx, q, a.PracticeID, a.SlotID, st)
}

// recordRead writes into the diary copy a slot as EMIS just answered it (a read-back), in the
// caller's transaction.
func (s *Service) recordRead(ctx context.Context, q store.Queryer, practiceID int64, sl emis.Slot) error {
	st := store.SlotState{Status: sl.Status, TypeID: sl.Type.TypeID}
	if len(sl.Patients) > 0 {
		st.PatientID = sl.Patients[0].DBID
	}
	return s.Store.RecordSlotTx(ctx, q, practiceID, sl.DBID, st)
}
