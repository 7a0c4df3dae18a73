package booking_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// A booking reception cancels in EMIS before any sync pass has seen herolink's booking: the
// diary copy must know what herolink wrote, or the sync sees Available to Available (and the
// session's counts unchanged) and the booking stays "booked" for ever.
func TestABookingReceptionCancelsRightAfterHerolinkWroteItIsCancelledAfterOneSyncPass(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	if err := b.org.ReceptionCancel(b.emisSlot(t, slot.ID).DBID); err != nil {
		t.Fatal(err)
	}
	b.follow(t) // one sync pass, then the diary feed
	got := b.get(t, a.ID)
	if got.State != booking.StateCancelled || got.CancelledBy != "emis" {
		t.Fatalf("after reception cancelled right after herolink booked: %s by %q, want cancelled by emis", got.State, got.CancelledBy)
	}
}

// The same for a placeholder reception clears right after herolink wrote it.
func TestAPlaceholderReceptionClearsRightAfterHerolinkWroteItIsCancelledAfterOneSyncPass(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	before := b.emisSlot(t, slot.ID).Type.TypeID
	a := b.placeholder(t, slot.ID)
	empty := ""
	if _, err := b.org.EditSlot(b.emisSlot(t, slot.ID).DBID, sandbox.SlotEdit{SlotTypeID: before, Notes: &empty}); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateCancelled || got.CancelledBy != "emis" {
		t.Fatalf("after reception cleared the placeholder: %s by %q, want cancelled by emis", got.State, got.CancelledBy)
	}
}

// offered says whether the slot is free to partners: listed by /v1/slots and readable alone.
func (b *bundle) offered(t *testing.T, slot booking.Slot) bool {
	t.Helper()
	ctx := context.Background()
	_, one := b.svc.Slot(ctx, b.group, slot.ID)
	day := slot.StartAt.Truncate(24 * time.Hour)
	page, err := b.svc.Slots(ctx, b.group, booking.SlotQuery{From: day, To: day.AddDate(0, 0, 1), Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, s := range page.Slots {
		listed = listed || s.ID == slot.ID
	}
	if listed != (one == nil) {
		t.Fatalf("slot %s listed = %v but alone it answers %v", slot.ID, listed, one)
	}
	return listed
}

// A slot is free only once EMIS has confirmed it free: while the cancellation of herolink's
// booking is still to be written or its outcome is unknown, the slot is neither offered nor
// reservable, even where the diary copy says Available, so no partner books into a slot EMIS
// still holds and fails with a false "slot taken".
func TestACancelledBookingsSlotIsNotOfferedUntilEMISConfirmsTheCancellation(t *testing.T) {
	for _, tc := range []struct {
		name string
		// pending cancels the booking and leaves its cancellation unconfirmed.
		pending func(t *testing.T, b *bundle, slot booking.Slot) booking.Appointment
	}{
		{"the process died after writing the booking, and EMIS is failing", func(t *testing.T, b *bundle, slot booking.Slot) booking.Appointment {
			ctx := context.Background()
			d, emisNo := b.emisPatient(t)
			a := b.confirmed(t, slot.ID, d)
			// herolink's BookAppointment landed, and the process died before it saw the answer:
			// EMIS holds the booking, herolink's diary copy never heard of it.
			if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: b.emisSlot(t, slot.ID).DBID, PatientID: emisNo,
				Notes: "herolink " + a.Reference, BookedBy: "herolink"}); err != nil {
				t.Fatal(err)
			}
			if err := b.store.RecordPatientMatch(ctx, b.store.DBQ(), a.ID, emisNo, "nhs_number", time.Now()); err != nil {
				t.Fatal(err)
			}
			diedMidWrite(t, b, a.ID)
			setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1})
			if _, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "feeling better"}); err != nil {
				t.Fatal(err)
			}
			if err := b.svc.Writeback(ctx, a.ID); err == nil {
				t.Fatal("the cancellation was written although EMIS failed")
			}
			return a
		}},
		{"EMIS applied the cancellation but its answer was lost", func(t *testing.T, b *bundle, slot booking.Slot) booking.Appointment {
			ctx := context.Background()
			d, _ := b.emisPatient(t)
			a := b.written(t, slot.ID, d)
			if _, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "feeling better"}); err != nil {
				t.Fatal(err)
			}
			// herolink's CancelAppointment landed and the process died before it saw the
			// answer: EMIS has freed the slot, herolink has not confirmed it.
			if err := b.org.ReceptionCancel(b.emisSlot(t, slot.ID).DBID); err != nil {
				t.Fatal(err)
			}
			diedMidWrite(t, b, a.ID)
			b.sync(t) // the copy now says Available, as EMIS does; herolink has not confirmed it
			return a
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			slot := b.freeSlots(t, 1)[0]
			a := tc.pending(t, b, slot)
			if b.offered(t, slot) {
				t.Fatal("the slot is offered while EMIS has not confirmed the cancellation")
			}
			_, err := b.svc.Reserve(ctx, b.group, "key_test", booking.ReserveRequest{SlotID: slot.ID})
			wantCode(t, err, booking.CodeSlotUnavailable)

			setFaults(t, b, sandbox.FaultConfig{})
			if err := b.writeback(t, a.ID); err != nil {
				t.Fatal(err)
			}
			if !b.offered(t, slot) {
				t.Fatal("the slot is not offered once EMIS confirmed the cancellation")
			}
			b.reserve(t, slot.ID)
		})
	}
}

// The database itself refuses a hold on a slot whose cancellation EMIS has not confirmed,
// whatever the search said a moment before.
func TestTheDatabaseRefusesAHoldOnASlotWhoseCancellationIsUnconfirmed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1})
	if _, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{}); err != nil {
		t.Fatal(err)
	}
	row, err := b.store.Appointment(ctx, b.store.DBQ(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	row.ID, row.Reference, row.State, row.ReservedUntil = "apt_second", "HL-SECOND1", string(booking.StateReserved), time.Now().Add(time.Hour)
	row.PatientID, row.RescheduledFrom = "", ""
	if err := b.store.InTx(ctx, func(tx *store.Tx) error { return b.store.InsertHold(ctx, tx, row) }); err == nil {
		t.Fatal("a second hold was stored on a slot EMIS still holds")
	}
}

// A diary change on a placeholder's slot while staff have unset the unregistered slot type in
// herolink does not cancel the placeholder EMIS still holds.
func TestADiaryChangeDoesNotCancelAPlaceholderEMISStillHoldsWhileItsTypeIsUnmapped(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.follow(t)
	if _, err := b.store.DBQ().ExecContext(ctx, `UPDATE emis_slot_types SET feature = 'unset' WHERE practice_id = ? AND feature = 'unregistered'`, b.practiceID); err != nil {
		t.Fatal(err)
	}
	// Reception moves the session half an hour earlier: every slot in it changes.
	sess, err := b.org.GetSession(b.emisSlot(t, slot.ID).SessionDBID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := time.ParseInLocation("15:04", sess.StartTime, emis.London)
	if _, err := b.org.MoveSession(sess.DBID, st.Add(-30*time.Minute).Format("15:04"), 0); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("the placeholder EMIS still holds became %s", got.State)
	}
}

// diedMidWrite leaves the appointment as a write-back worker that died during its first write
// leaves it: the write recorded as sent (outcome unknown), the worker's lease gone.
func diedMidWrite(t *testing.T, b *bundle, id string) {
	t.Helper()
	ctx := context.Background()
	if ok, err := b.store.LeaseAppointment(ctx, id, "lease_died", time.Minute); err != nil || !ok {
		t.Fatalf("lease %s: %v %v", id, ok, err)
	}
	if err := b.store.FenceWrite(ctx, id, "lease_died", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := b.store.ReleaseAppointment(ctx, id, "lease_died"); err != nil {
		t.Fatal(err)
	}
}
