package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"herolink/internal/store"
)

// A burst of holds reads its slots in one query: what it answers for each slot must be what
// reading that slot alone answers, whatever the slot is.
func TestSlotsReadTogetherAnswerAsEachSlotReadAlone(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		ctx := context.Background()
		a := setUp(t, st, "A81001")
		b := setUp(t, st, "B82002")
		booked := slot(1, 4)
		booked.Status, booked.PatientID = "Booked", 77
		urgent := slot(1, 5)
		urgent.TypeID = 3 // not offered online
		diary(t, st, a.practice.ID, 1, slot(1, 0), slot(1, 1), slot(1, 2), slot(1, 3), booked, urgent)
		diary(t, st, b.practice.ID, 1, slot(1, 0), slot(1, 1))
		must(t, insertHold(t, st, hold(a.practice, "apt_held", 1, 2)))
		expired := hold(a.practice, "apt_expired", 1, 3)
		expired.ReservedUntil = epoch.Add(-1)
		must(t, insertHold(t, st, expired))

		groupA, groupB := a.practice.PracticeGroupID, b.practice.PracticeGroupID
		keys := []store.SlotKey{
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1000},       // free
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1001},       // free
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1002},       // held
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1003},       // its hold has run out
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1004},       // booked at reception
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1005},       // a type not offered
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 9999},       // no such slot
			{GroupID: groupA, PracticeID: b.practice.ID, SlotID: 1000},       // another group's practice
			{GroupID: groupB, PracticeID: b.practice.ID, SlotID: 1000},       // free, to its own group
			{GroupID: groupA, PracticeID: a.practice.ID, SlotID: 1000},       // asked twice
			{GroupID: "grp_nobody", PracticeID: a.practice.ID, SlotID: 1001}, // a group that is not the practice's
		}
		together, err := st.HoldableSlots(ctx, keys, c.now())
		must(t, err)
		if len(together) != len(keys) {
			t.Fatalf("%d answers for %d slots", len(together), len(keys))
		}
		free := 0
		for i, k := range keys {
			f, terms, ok, err := st.HoldableSlot(ctx, k.GroupID, k.PracticeID, k.SlotID, c.now())
			must(t, err)
			alone := store.Holdable{OK: ok}
			if ok {
				alone.Slot, alone.Terms = f, terms
				free++
			}
			if diff := cmp.Diff(alone, together[i]); diff != "" {
				t.Errorf("slot %d of practice %d for group %s, read together (-alone +together):\n%s", k.SlotID, k.PracticeID, k.GroupID, diff)
			}
		}
		if free != 5 {
			t.Errorf("%d of the slots asked for are free, want 5 (1000 twice, 1001, 1003 and practice B's 1000 to its group)", free)
		}
	})
}

// Holds committed together are each written with its timeline's first event, or, if one slot
// was taken meanwhile, none is: the caller then writes each alone to tell which.
func TestHoldsCommittedTogetherAreAllWrittenOrNoneIs(t *testing.T) {
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		ctx := context.Background()
		a := setUp(t, st, "A81001")
		diary(t, st, a.practice.ID, 1, slot(1, 0), slot(1, 1), slot(1, 2), slot(1, 3), slot(1, 4))
		expired := hold(a.practice, "apt_expired", 1, 2)
		expired.ReservedUntil = epoch.Add(-1)
		must(t, insertHold(t, st, expired))

		// In an order unlike the database's: the answer keeps the caller's.
		rows := []store.AppointmentRow{hold(a.practice, "apt_c", 1, 2), hold(a.practice, "apt_a", 1, 0), hold(a.practice, "apt_b", 1, 1)}
		var out []store.AppointmentRow
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			out, err = st.CreateHolds(ctx, tx, rows, "appointment.reserved")
			return err
		}))
		for i, r := range rows {
			if out[i].ID != r.ID || out[i].SlotID != r.SlotID || !out[i].CreatedAt.Equal(epoch) {
				t.Errorf("answer %d: %s on slot %d created %v, want %s on slot %d created %v", i, out[i].ID, out[i].SlotID, out[i].CreatedAt, r.ID, r.SlotID, epoch)
			}
			got, err := st.Appointment(ctx, st.DBQ(), r.ID)
			must(t, err)
			if diff := cmp.Diff(out[i], got); diff != "" {
				t.Errorf("%s as answered and as read (-answered +read):\n%s", r.ID, diff)
			}
		}
		if n := count(t, st, `SELECT COUNT(*) FROM appointment_events WHERE event = 'appointment.reserved' AND appointment_id IN ('apt_a', 'apt_b', 'apt_c')`); n != 3 {
			t.Errorf("%d reserved events, want one for each hold", n)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM appointments WHERE id = 'apt_expired' AND state = 'expired'`); n != 1 {
			t.Error("the hold that had run out on slot 1002 was not expired by the group that took its slot")
		}

		// One slot of the next group is held already: nothing of the group is written.
		taken := []store.AppointmentRow{hold(a.practice, "apt_d", 1, 3), hold(a.practice, "apt_again", 1, 0), hold(a.practice, "apt_e", 1, 4)}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := st.CreateHolds(ctx, tx, taken, "appointment.reserved")
			return err
		})
		if !errors.Is(err, store.ErrSlotHeld) {
			t.Fatalf("a group with a slot held already: %v, want ErrSlotHeld", err)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM appointments WHERE id IN ('apt_d', 'apt_again', 'apt_e')`); n != 0 {
			t.Errorf("%d holds of the refused group written, want none", n)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM appointment_events WHERE appointment_id IN ('apt_d', 'apt_again', 'apt_e')`); n != 0 {
			t.Errorf("%d events of the refused group written, want none", n)
		}
	})
}
