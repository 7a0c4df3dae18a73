package booking_test

import (
	"testing"

	"herolink/internal/booking"
	"herolink/internal/emis"
)

// herolink books; reception moves the appointment to another slot in EMIS; after a sync pass
// herolink's appointment points at the new slot and time, still booked, and EMIS holds one
// appointment for it.
func TestAnAppointmentReceptionMovesInEMISIsFollowedToItsNewSlot(t *testing.T) {
	b := setup(t)
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 60)
	a := b.written(t, slots[0].ID, d)
	b.follow(t) // the feed has seen herolink's own booking
	from := b.emisSlot(t, slots[0].ID)
	// Another session's slot: a move within one session leaves its counts unchanged, and the
	// sync's rolling refresh (not this test) is what finds those.
	target := -1
	for i := 1; i < len(slots) && target < 0; i++ {
		if b.emisSlot(t, slots[i].ID).SessionDBID != from.SessionDBID {
			target = i
		}
	}
	if target < 0 {
		t.Fatal("no free slot in another session")
	}
	to := b.emisSlot(t, slots[target].ID)
	if _, err := b.org.MoveAppointment(from.DBID, to.DBID); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	got, row := b.get(t, a.ID), b.row(t, a.ID)
	if got.State != booking.StateBooked {
		t.Fatalf("after reception moved it, %s is %s (cancelled by %q), want booked", a.Reference, got.State, got.CancelledBy)
	}
	if row.SlotID != to.DBID || row.SessionID != to.SessionDBID || !got.StartAt.Equal(slots[target].StartAt) {
		t.Fatalf("appointment points at slot %d (session %d) at %s; EMIS moved it to slot %d (session %d) at %s",
			row.SlotID, row.SessionID, got.StartAt, to.DBID, to.SessionDBID, slots[target].StartAt)
	}
	if sl := b.emisSlot(t, slots[target].ID); sl.Status != emis.SlotBooked || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v", sl)
	}
	if n := b.artefacts(t)[a.Reference]; n != 1 {
		t.Fatalf("EMIS holds %d artefacts of %s, want 1", n, a.Reference)
	}
	// Nothing more happens on the next pass: the booking stays where EMIS has it.
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked || b.row(t, a.ID).SlotID != to.DBID {
		t.Fatalf("the next pass changed the followed booking: %s, slot %d", got.State, b.row(t, a.ID).SlotID)
	}
}
