package booking_test

// Interleavings an adversarial review of the booking core found to break it (all fixed since).
// Each test's comment describes what went wrong before the fix.

import (
	"context"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
	"herolink/internal/store"
)

func (b *bundle) conn(t *testing.T) *emis.Conn {
	t.Helper()
	c, err := b.practices.Conn(context.Background(), b.practiceID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (b *bundle) row(t *testing.T, id string) store.AppointmentRow {
	t.Helper()
	r, err := b.store.Appointment(context.Background(), b.store.DBQ(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (b *bundle) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := b.store.DBQ().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) follow(t *testing.T) {
	t.Helper()
	b.sync(t)
	if _, err := b.svc.FollowDiary(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// placeholder confirms a booking for a patient EMIS does not know and writes it as a placeholder.
func (b *bundle) placeholder(t *testing.T, slot string) booking.Appointment {
	t.Helper()
	a := b.written(t, slot, matching.Demographics{FamilyName: "Nobody-Known", GivenName: "Pat", DateOfBirth: "1990-01-01", Postcode: "ZZ9 9ZZ"})
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	return a
}

// Reschedule only refuses a second reschedule once the first is written (rescheduled_to is
// set in finish); while the first is still confirming a second one is accepted, and both end
// booked in EMIS: one appointment became two.
func TestASecondRescheduleWhileTheFirstIsConfirmingIsRefused(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 3)
	a := b.written(t, slots[0].ID, d)
	r1, err := b.svc.Reschedule(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := b.svc.Reschedule(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[2].ID})
	if err == nil {
		for _, id := range []string{r1.ID, r2.ID, a.ID} {
			if err := b.writeback(t, id); err != nil {
				t.Fatal(err)
			}
		}
		booked := 0
		for _, s := range slots[1:] {
			if sl := b.emisSlot(t, s.ID); sl.Status == emis.SlotBooked && sl.Patients[0].DBID == emisNo {
				booked++
			}
		}
		t.Fatalf("a second reschedule of %s was accepted while the first was confirming: %s is %s, %s is %s; EMIS holds %d appointments for the patient where one was asked for",
			a.ID, r1.ID, b.get(t, r1.ID).State, r2.ID, b.get(t, r2.ID).State, booked)
	}
	wantCode(t, err, booking.CodeInvalidState)
}

// Staff link a placeholder to a record that is deducted before the conversion runs. The
// conversion reads the record first and finds it gone: the placeholder stays in EMIS (the time
// is still reserved) and nothing is booked against the deducted record.
func TestAStaffLinkToARecordDeductedMeanwhileKeepsThePlaceholderInEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	_, emisNo := b.emisPatient(t)
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.DeductPatient(emisNo); err != nil {
		t.Fatal(err)
	}
	_ = b.writeback(t, a.ID)
	_ = b.svc.Sweep(ctx)
	_ = b.writeback(t, a.ID)
	got, row := b.get(t, a.ID), b.row(t, a.ID)
	if n := b.artefacts(t)[a.Reference]; n != 1 || got.State != booking.StatePlaceholder {
		sl := b.emisSlot(t, slot.ID)
		t.Fatalf("after linking a record deducted meanwhile: herolink state %s (emis_written %q, match_rule %q); EMIS holds %d artefacts of %s (slot %s, type %d, notes %q): the time is no longer reserved",
			got.State, row.EMISWritten, row.MatchRule, n, a.Reference, sl.Status, sl.Type.TypeID, sl.Notes)
	}
}

// The conversion of a linked placeholder first gives the slot back its own type. If the
// process dies (or the call times out) right after that write, the row still says
// placeholder/emis_written=placeholder with write_unknown set. The next sync sees the slot
// free; FollowDiary treats the row as settled, reads the slot back (free: not ours) and
// cancels the booking "by emis". The patient loses the appointment staff just reconciled.
func TestAnInterruptedPlaceholderConversionIsNotTakenForAReceptionCancellation(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.follow(t) // the feed has seen the placeholder
	_, emisNo := b.emisPatient(t)
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	// The worker's first conversion write: attempt() recorded, SetSlotType applied, the worker killed.
	row := b.row(t, a.ID)
	b.exec(t, `UPDATE appointments SET write_unknown = 1, write_attempts = write_attempts + 1 WHERE id = ?`, a.ID)
	if _, err := b.conn(t).SetSlotType(ctx, row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State == booking.StateCancelled {
		t.Fatalf("the feed cancelled %s (cancelled_by %q) while herolink itself was converting it", a.Reference, got.CancelledBy)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked", got.State)
	}
}

// Staff link a placeholder to X; the conversion books X and the answer is lost (write_unknown).
// Staff notice the wrong number and link Y: LinkPlaceholder accepts it (the row is still a
// placeholder). The read-back recognises "our appointment" by the reference only, not by the
// patient, so the booking is finished as booked: herolink (and the patient link used for every
// later booking) says Y, EMIS holds the appointment against X.
func TestARelinkDuringAnUnseenConversionIsNotSilentlyLost(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	_, wrong := b.emisPatient(t)
	_, right := b.emisPatient(t)
	if err := b.staffLink(ctx, a.ID, wrong); err != nil {
		t.Fatal(err)
	}
	// The worker converts: slot type back, then BookAppointment for X applied but unseen.
	row := b.row(t, a.ID)
	c := b.conn(t)
	if _, err := c.SetSlotType(ctx, row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	b.exec(t, `UPDATE appointments SET emis_written = '', write_unknown = 1, write_attempts = write_attempts + 1 WHERE id = ?`, a.ID)
	if _, err := c.BookAppointment(ctx, emis.Booking{SlotID: row.SlotID, PatientID: wrong, Reason: "Sore throat",
		Notes: "herolink " + a.Reference, BookedBy: "herolink"}); err != nil {
		t.Fatal(err)
	}
	// Staff correct the link.
	err := b.staffLink(ctx, a.ID, right)
	if err != nil {
		return // refusing the relink while a conversion is unsettled is an acceptable fix
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	row = b.row(t, a.ID)
	sl := b.emisSlot(t, slot.ID)
	if row.State == string(booking.StateBooked) && (len(sl.Patients) != 1 || sl.Patients[0].DBID != row.EMISPatientID) {
		t.Fatalf("herolink says %s is booked for EMIS patient %d, EMIS holds it for %v (staff linked %d, then corrected to %d)",
			a.Reference, row.EMISPatientID, sl.Patients, wrong, right)
	}
}

// bookOverPlaceholder is reception removing herolink's placeholder and booking a patient into
// the slot, then the sync and the feed follower running: herolink marks its booking
// booked_in_emis with emis_written = "".
func (b *bundle) bookOverPlaceholder(t *testing.T, a booking.Appointment, emisNo int64) {
	t.Helper()
	row := b.row(t, a.ID)
	if _, err := b.conn(t).SetSlotType(context.Background(), row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: row.SlotID, PatientID: emisNo}); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("after reception booked over the placeholder: %s, want booked (booked_in_emis)", got.State)
	}
}

// A placeholder reception booked over becomes booked with emis_written = "". The feed only
// reflects "settled" rows (emis_written = appointment), so when reception later cancels that
// appointment in EMIS herolink keeps saying booked forever.
func TestABookedInEMISPlaceholderCancelledByReceptionIsCancelledInHerolink(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.follow(t)
	_, emisNo := b.emisPatient(t)
	b.bookOverPlaceholder(t, a, emisNo)
	if err := b.org.ReceptionCancel(b.emisSlot(t, slot.ID).DBID); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateCancelled {
		t.Fatalf("reception cancelled the appointment in EMIS; herolink still says %s", got.State)
	}
}

// The same booked_in_emis row cancelled by the partner: herolink says cancelled (and emits
// appointment.cancelled), but goalOf sees emis_written = "" and does nothing, so the
// appointment stays in EMIS forever (the patient will be recorded as Did Not Attend).
func TestCancellingABookedInEMISPlaceholderFreesTheSlotInEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.follow(t)
	_, emisNo := b.emisPatient(t)
	b.bookOverPlaceholder(t, a, emisNo)
	got, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "no longer needed"})
	if err != nil {
		return // refusing is consistent
	}
	_ = b.writeback(t, a.ID)
	_ = b.svc.Sweep(ctx)
	_ = b.writeback(t, a.ID)
	if sl := b.emisSlot(t, slot.ID); got.State == booking.StateCancelled && sl.Status == emis.SlotBooked {
		t.Fatalf("herolink cancelled %s but EMIS still holds the appointment for patient %d (%s)", a.Reference, sl.Patients[0].DBID, sl.Notes)
	}
}

// Reception removes the placeholder and gives the time to someone else (patient X). The feed
// marks herolink's booking booked with emis_patient_id = X, without any match or staff link.
// A partner reschedule of that booking (for the original, unregistered patient) copies
// old.EMISPatientID and books the new slot in EMIS against X: the wrong patient's record.
func TestARescheduledBookedInEMISPlaceholderIsNotWrittenAgainstWhoeverReceptionBooked(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slots := b.freeSlots(t, 2)
	a := b.placeholder(t, slots[0].ID)
	b.follow(t)
	_, someoneElse := b.emisPatient(t)
	b.bookOverPlaceholder(t, a, someoneElse)
	next, err := b.svc.Reschedule(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID})
	if err != nil {
		return
	}
	if err := b.writeback(t, next.ID); err != nil {
		t.Fatal(err)
	}
	p, _ := b.svc.Patient(ctx, b.group, next.PatientID)
	sl := b.emisSlot(t, slots[1].ID)
	if sl.Status == emis.SlotBooked && sl.Patients[0].DBID == someoneElse {
		t.Fatalf("the reschedule for herolink patient %s (Nobody-Known, never matched or linked: links %v) was booked in EMIS against patient %d, whom reception had put in the old slot",
			next.PatientID, p.Links, someoneElse)
	}
}

// Reception removes the placeholder and blocks the slot (the clinician is off). The read-back
// classifies a blocked slot as "taken", and the feed turns a placeholder whose slot is taken
// into booked (booked_in_emis): the partner is told the booking stands, EMIS has nothing.
func TestAPlaceholderWhoseSlotReceptionBlocksIsNotMarkedBooked(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.follow(t)
	row := b.row(t, a.ID)
	empty := ""
	if _, err := b.org.EditSlot(row.SlotID, sandbox.SlotEdit{Status: "blocked", SlotTypeID: row.EMISSlotTypeID, Notes: &empty}); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State == booking.StateBooked {
		t.Fatalf("the slot of %s was blocked in EMIS and holds no appointment, yet herolink marked it booked", a.Reference)
	}
}

// The service counts the cancel reason in bytes, the API in characters: a 300-character
// reason in a non-Latin script passes the API's check and is refused by the service.
func TestACancelReasonIsMeasuredInCharacters(t *testing.T) {
	b := setup(t)
	a := b.reserve(t, b.freeSlots(t, 1)[0].ID)
	_, err := b.svc.Cancel(context.Background(), b.group, a.ID, booking.CancelRequest{Reason: strings.Repeat("é", 300)})
	if err != nil {
		t.Fatalf("a 300-character reason was refused: %v", err)
	}
}

// EMIS does not answer the patient search within MatchDeadline: the booking becomes a
// placeholder with match_rule = match_timed_out. The patient was never actually compared with
// the register, yet nothing ever tries the match again (goalOf only converts a placeholder
// with a linked patient): DOMAIN.md says the placeholder "is replaced by a regular appointment
// automatically once the patient is matched". It stays yellow until staff do it by hand.
func TestAPlaceholderMadeBecauseEMISDidNotAnswerIsMatchedOnceEMISReturns(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.confirmed(t, slot.ID, d)
	b.svc.MatchDeadline = time.Minute
	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1})
	b.clock.advance(2 * time.Minute)
	_ = b.svc.Writeback(ctx, a.ID)
	setFaults(t, b, sandbox.FaultConfig{})
	if r := b.row(t, a.ID); r.MatchRule != "match_timed_out" {
		t.Fatalf("match_rule = %q, want match_timed_out", r.MatchRule)
	}
	// EMIS is back: the placeholder is written, the search runs again, and it is converted.
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := b.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		_ = b.writeback(t, a.ID)
	}
	if got, sl := b.get(t, a.ID), b.emisSlot(t, slot.ID); got.State != booking.StateBooked || len(sl.Patients) == 0 || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS answers again and the patient is on the register (EMIS %d), but %s stays %s (match_rule %q)",
			emisNo, a.Reference, got.State, b.row(t, a.ID).MatchRule)
	}
}

// TestATimeoutAfterTheWriteIsReadBackNotRetriedBlindly books a patient already linked (no
// search, one read of the record), so the first write is BookAppointment: it applies, then the
// answer is lost. The next attempt reads the slot back and books nothing more.
func TestATimeoutAfterTheWriteIsReadBackNotRetriedBlindly(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 2)
	first := b.written(t, slots[0].ID, d)
	hold := b.reserve(t, slots[1].ID)
	a, err := b.svc.Book(ctx, b.group, hold.ID, booking.PatientInput{PatientID: b.get(t, first.ID).PatientID})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := b.world.Stats(sandbox.DemoCDB)
	// Reads answer (the record's re-check, the read-back); the write applies and its answer is
	// lost. The job's own retry reads the slot back and finds the appointment there.
	setFaults(t, b, sandbox.FaultConfig{TimeoutAfterWriteRate: 1, StallMS: 3500})
	_ = b.svc.Writeback(ctx, a.ID)
	if r := b.row(t, a.ID); r.WriteAttempts != 1 {
		t.Fatalf("after the lost answer: write_attempts %d; want 1", r.WriteAttempts)
	}
	setFaults(t, b, sandbox.FaultConfig{})
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked", got.State)
	}
	if sl := b.emisSlot(t, slots[1].ID); sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v", sl)
	}
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if n := after.Calls[emis.MethodBookAppointment] - before.Calls[emis.MethodBookAppointment]; n != 1 {
		t.Fatalf("BookAppointment was called %d times for the second booking, want 1", n)
	}
	if n := b.artefacts(t)[a.Reference]; n != 1 {
		t.Fatalf("EMIS holds %d artefacts, want 1", n)
	}
}
