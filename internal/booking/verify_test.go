package booking_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

const verifyEvery = 30 * time.Second

func (b *bundle) verifier() *booking.Verifier {
	return &booking.Verifier{Service: b.svc, Every: verifyEvery}
}

func (b *bundle) verify(t *testing.T, v *booking.Verifier) booking.VerifyResult {
	t.Helper()
	res, err := v.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// slotReads counts the GetSlotsForSession calls the demo practice has answered.
func (b *bundle) slotReads(t *testing.T) int64 {
	t.Helper()
	st, err := b.world.Stats(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	return st.Calls[emis.MethodGetSlotsForSession]
}

// otherFreeSlot finds a free slot of the same type in the slot's session, for reception.
func (b *bundle) otherFreeSlot(t *testing.T, sl emis.Slot) emis.Slot {
	t.Helper()
	x, ok := b.siblingOf(t, sl)
	if !ok {
		t.Fatalf("session %d has no other free slot of type %d", sl.SessionDBID, sl.Type.TypeID)
	}
	return x
}

func (b *bundle) siblingOf(t *testing.T, sl emis.Slot) (emis.Slot, bool) {
	t.Helper()
	sess, err := b.org.GetSession(sl.SessionDBID)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range sess.Slots {
		if x.DBID != sl.DBID && x.Status == emis.SlotAvailable && x.Notes == "" && x.Type.TypeID == sl.Type.TypeID {
			return x, true
		}
	}
	return emis.Slot{}, false
}

// freeSlotWithSibling finds a free slot whose session holds another free slot of its type, so
// that reception can book beside it without moving the session's counts. Which slots the
// generated diary leaves free depends on the day the test runs.
func (b *bundle) freeSlotWithSibling(t *testing.T) booking.Slot {
	t.Helper()
	for _, sl := range b.freeSlots(t, 50) {
		if _, ok := b.siblingOf(t, b.emisSlot(t, sl.ID)); ok {
			return sl
		}
	}
	t.Fatal("no free slot in the next days has a free sibling of its type")
	return booking.Slot{}
}

// EMIS loses herolink's appointment while reception books another slot of the same session:
// the session's counts do not move, so the sync reads nothing and the diary feed records no
// change. The verifier reads the booking back within one interval and cancels it.
func TestABookingEMISLosesWithoutAnyDiaryChangeIsFoundWithinOneInterval(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	slot := b.freeSlotWithSibling(t)
	a := b.written(t, slot.ID, d)
	b.follow(t)
	v := b.verifier()
	if res := b.verify(t, v); res.Verified != 1 || res.Reflected != 0 {
		t.Fatalf("first verification = %+v, want the booking verified as it is", res)
	}

	ours := b.emisSlot(t, slot.ID)
	other := b.otherFreeSlot(t, ours)
	_, someone := b.emisPatient(t)
	if err := b.org.ReceptionCancel(ours.DBID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: other.DBID, PatientID: someone}); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("the premise does not hold: the sync and feed saw the change (%s)", got.State)
	}
	// Not due yet: nothing is read.
	if res := b.verify(t, v); res.Calls != 0 {
		t.Fatalf("a booking verified a moment ago was read again: %+v", res)
	}
	b.clock.advance(verifyEvery)
	before := b.slotReads(t)
	res := b.verify(t, v)
	// One read of the session, and one look among the patient's appointments for a move.
	if res.Reflected != 1 || res.Calls != 2 || b.slotReads(t)-before != 1 {
		t.Fatalf("verification after one interval = %+v, want one session read finding the booking gone", res)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateCancelled || got.CancelledBy != "emis" {
		t.Fatalf("after EMIS lost it: %s by %q, want cancelled by emis", got.State, got.CancelledBy)
	}
	// The copy now says what EMIS holds: the slot is offered again.
	if !b.offered(t, slot) {
		t.Fatal("the slot EMIS shows free is not offered")
	}
}

// Reception moves herolink's appointment to a slot of another session (cancel and rebook with
// its notes, as EMIS's move does): the booking follows it, found by herolink's reference and
// the patient.
func TestAVerifiedBookingFollowsAnAppointmentReceptionMovedToAnotherSession(t *testing.T) {
	b := setup(t)
	d, emisNo := b.emisPatient(t)
	free := b.freeSlots(t, 60)
	a := b.written(t, free[0].ID, d)
	ours := b.emisSlot(t, free[0].ID)
	var to booking.Slot
	for _, f := range free[1:] {
		if b.emisSlot(t, f.ID).SessionDBID != ours.SessionDBID {
			to = f
			break
		}
	}
	if to.ID == "" {
		t.Fatal("no free slot in another session")
	}
	if err := b.org.ReceptionCancel(ours.DBID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: b.emisSlot(t, to.ID).DBID, PatientID: emisNo, Notes: ours.Notes, Reason: ours.Reason}); err != nil {
		t.Fatal(err)
	}
	res := b.verify(t, b.verifier())
	if res.Moved != 1 {
		t.Fatalf("verification = %+v, want the booking moved", res)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked || got.SlotID != to.ID || !got.StartAt.Equal(to.StartAt) {
		t.Fatalf("after the move: %s on %s at %s, want booked on %s at %s", got.State, got.SlotID, got.StartAt, to.ID, to.StartAt)
	}
	// The booking now stands on the new slot: a later cancellation there is followed.
	b.clock.advance(verifyEvery)
	if err := b.org.ReceptionCancel(b.emisSlot(t, to.ID).DBID); err != nil {
		t.Fatal(err)
	}
	b.verify(t, b.verifier())
	if got := b.get(t, a.ID); got.State != booking.StateCancelled {
		t.Fatalf("after reception cancelled the moved appointment: %s", got.State)
	}
}

// Bookings of one session cost one read; the calls of a run are bounded, the rest waiting for
// the next run; and a practice whose EMIS is not answering costs one call and changes nothing.
func TestVerificationReadsEachSessionOnceBoundsItsCallsAndSkipsAPracticeThatIsDown(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	free := b.freeSlots(t, 60)
	bySession := map[int64][]booking.Slot{}
	var sessions []int64
	for _, f := range free {
		sid := b.emisSlot(t, f.ID).SessionDBID
		if len(bySession[sid]) == 0 {
			sessions = append(sessions, sid)
		}
		bySession[sid] = append(bySession[sid], f)
	}
	if len(sessions) < 3 || len(bySession[sessions[0]]) < 2 {
		t.Fatalf("need three sessions, the first with two free slots: %d sessions", len(sessions))
	}
	var ids []string
	for _, f := range []booking.Slot{bySession[sessions[0]][0], bySession[sessions[0]][1], bySession[sessions[1]][0], bySession[sessions[2]][0]} {
		d, _ := b.emisPatient(t)
		ids = append(ids, b.written(t, f.ID, d).ID)
	}

	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1})
	before := b.slotReads(t)
	res := b.verify(t, b.verifier())
	if n := b.slotReads(t) - before; n != 1 || res.Verified != 0 || res.Skipped != 4 {
		t.Fatalf("with EMIS down: %d reads, %+v; want one read and every booking left for the next run", n, res)
	}
	setFaults(t, b, sandbox.FaultConfig{})

	v := b.verifier()
	v.MaxCalls = 2
	before = b.slotReads(t)
	res = b.verify(t, v)
	if n := b.slotReads(t) - before; n != 2 || res.Calls != 2 || res.Skipped == 0 {
		t.Fatalf("with a budget of two calls: %d reads, %+v", n, res)
	}
	res = b.verify(t, v)
	if res.Calls == 0 || res.Calls > 2 {
		t.Fatalf("the next run: %+v, want the rest verified", res)
	}
	before = b.slotReads(t)
	if res := b.verify(t, v); res.Calls != 0 || b.slotReads(t) != before {
		t.Fatalf("every booking was verified, yet a run read EMIS: %+v", res)
	}
	for _, id := range ids {
		if got := b.get(t, id); got.State != booking.StateBooked {
			t.Fatalf("verification changed a booking EMIS still holds: %s", got.State)
		}
	}

	// A practice whose credentials EMIS refused is not called (a refused password is never
	// sent again). One failing only for its set-up still is: seam_test.go.
	b.clock.advance(verifyEvery)
	if _, err := b.store.DBQ().ExecContext(ctx, `UPDATE practices SET health_status = 'failing', credentials_rejected = 1 WHERE id = ?`, b.practiceID); err != nil {
		t.Fatal(err)
	}
	before = b.slotReads(t)
	if res := b.verify(t, v); res.Calls != 0 || b.slotReads(t) != before || res.Skipped != 4 {
		t.Fatalf("a failing practice was called: %+v", res)
	}
}

// What EMIS still holds is never cancelled by a read every interval: the patient's appointment
// whose notes reception rewrote, or a placeholder while staff have unset the practice's
// unregistered slot type in herolink.
func TestVerificationNeverCancelsABookingEMISStillHolds(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	free := b.freeSlots(t, 2)
	booked := b.written(t, free[0].ID, d)
	placeholder := b.placeholder(t, free[1].ID)
	// Reception rebooks the same patient into the slot with notes of its own.
	sl := b.emisSlot(t, free[0].ID)
	if err := b.org.ReceptionCancel(sl.DBID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: emisNo, Notes: "phoned in, see letter"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.DBQ().ExecContext(ctx, `UPDATE emis_slot_types SET feature = 'unset' WHERE practice_id = ? AND feature = 'unregistered'`, b.practiceID); err != nil {
		t.Fatal(err)
	}
	if res := b.verify(t, b.verifier()); res.Verified != 2 || res.Reflected != 0 {
		t.Fatalf("verification = %+v, want both verified as standing", res)
	}
	if got := b.get(t, booked.ID); got.State != booking.StateBooked {
		t.Fatalf("the patient's appointment EMIS holds was cancelled: %s", got.State)
	}
	if got := b.get(t, placeholder.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("the placeholder EMIS holds was cancelled: %s", got.State)
	}
}
