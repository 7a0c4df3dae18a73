package booking_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
)

// written confirms a booking for the patient and runs its write-back to the end.
func (b *bundle) written(t *testing.T, slot string, d matching.Demographics) booking.Appointment {
	t.Helper()
	a := b.confirmed(t, slot, d)
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	return a
}

// confirmed reserves a free slot and confirms it for the patient.
func (b *bundle) confirmed(t *testing.T, slot string, d matching.Demographics) booking.Appointment {
	t.Helper()
	a := b.reserve(t, slot)
	got, err := b.svc.Book(context.Background(), b.group, a.ID, booking.PatientInput{Demographics: d, Phone: "07700 900123"})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	if got.State != booking.StateConfirming {
		t.Fatalf("after book the state is %s, want confirming", got.State)
	}
	return got
}

func TestAMatchedPatientIsBookedIntoEMISAgainstTheirRecord(t *testing.T) {
	b := setup(t)
	d, emisNo := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked || got.EMISReference == "" {
		t.Fatalf("appointment = %+v, want booked with an EMIS reference", got)
	}
	sl := b.emisSlot(t, slot.ID)
	if sl.Status != emis.SlotBooked || len(sl.Patients) != 1 || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v, want booked for patient %d", sl, emisNo)
	}
	if !strings.Contains(sl.Notes, a.Reference) {
		t.Fatalf("EMIS notes %q lack the reference %s", sl.Notes, a.Reference)
	}
	if n := b.artefacts(t)[a.Reference]; n != 1 {
		t.Fatalf("EMIS holds %d artefacts of %s, want 1", n, a.Reference)
	}
	// The patient is now linked: their next booking needs no search.
	p, err := b.svc.Patient(context.Background(), b.group, got.PatientID)
	if err != nil || len(p.Links) != 1 || p.Links[0].EMISPatientID != emisNo {
		t.Fatalf("patient = %+v, %v", p, err)
	}
}

func TestAnUnmatchedPatientGetsAYellowPlaceholderThatStaffCanConvert(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	stranger := matching.Demographics{FamilyName: "Nobody-Known", GivenName: "Pat", DateOfBirth: "1990-01-01", Postcode: "ZZ9 9ZZ"}
	a := b.written(t, slot.ID, stranger)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	sl := b.emisSlot(t, slot.ID)
	unreg := unregisteredType(t, b)
	if sl.Type.TypeID != unreg || !strings.Contains(sl.Notes, a.Reference) || !strings.Contains(sl.Notes, "Nobody-Known") {
		t.Fatalf("EMIS slot = %+v, want the unregistered type %d with the booking's details", sl, unreg)
	}
	// Reception cannot book over the placeholder: the time is reserved.
	_, emisNo := b.emisPatient(t)
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: emisNo}); err == nil {
		t.Fatal("reception booked over the placeholder")
	}
	placeholders, waiting, err := b.svc.StaffQueue(ctx, b.practiceID)
	if err != nil || len(placeholders) != 1 || len(waiting) != 0 || placeholders[0].Reference != a.Reference {
		t.Fatalf("staff queue = %+v, %+v, %v", placeholders, waiting, err)
	}
	// Staff find the patient in EMIS (registered now) and link the EMIS number.
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("after linking the state is %s, want booked", got.State)
	}
	sl = b.emisSlot(t, slot.ID)
	if sl.Status != emis.SlotBooked || sl.Patients[0].DBID != emisNo || sl.Type.TypeID == unreg {
		t.Fatalf("EMIS slot after conversion = %+v", sl)
	}
	if n := b.artefacts(t)[a.Reference]; n != 1 {
		t.Fatalf("EMIS holds %d artefacts of %s, want 1", n, a.Reference)
	}
}

func unregisteredType(t *testing.T, b *bundle) int {
	t.Helper()
	id, err := b.store.UnregisteredSlotTypeID(context.Background(), b.practiceID)
	if err != nil || id == 0 {
		t.Fatalf("unregistered type = %d, %v", id, err)
	}
	return id
}

func TestASlotBookedByReceptionMeanwhileFailsWithAlternatives(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	_, other := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.confirmed(t, slot.ID, d)
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: b.emisSlot(t, slot.ID).DBID, PatientID: other}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateFailed || got.FailureCode != "slot_taken" || got.FailureMessage == "" {
		t.Fatalf("appointment = %+v, want failed: slot_taken", got)
	}
	if len(got.Alternatives) == 0 {
		t.Fatal("no alternatives offered")
	}
	for _, alt := range got.Alternatives {
		if _, err := b.svc.Slot(context.Background(), b.group, alt); err != nil {
			t.Fatalf("alternative %s is not free: %v", alt, err)
		}
	}
	if sl := b.emisSlot(t, slot.ID); sl.Patients[0].DBID != other {
		t.Fatalf("herolink disturbed reception's booking: %+v", sl)
	}
}

func setFaults(t *testing.T, b *bundle, f sandbox.FaultConfig) {
	t.Helper()
	if err := b.world.SetFaults(sandbox.Faults{Global: f}); err != nil {
		t.Fatal(err)
	}
}

func TestEMISDownLongerThanTheThresholdAlertsStaffAndTheBookingCompletesLater(t *testing.T) {
	b := setup(t)
	b.svc.AlertAfter = time.Minute
	d, _ := b.emisPatient(t)
	a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1})
	if err := b.svc.Writeback(context.Background(), a.ID); err == nil {
		t.Fatal("write-back succeeded with EMIS down")
	}
	_, waiting, _ := b.svc.StaffQueue(context.Background(), b.practiceID)
	if len(waiting) != 1 || waiting[0].Alerted {
		t.Fatalf("waiting = %+v: alerted too early", waiting)
	}
	b.clock.advance(2 * time.Minute)
	_ = b.svc.Writeback(context.Background(), a.ID)
	_, waiting, _ = b.svc.StaffQueue(context.Background(), b.practiceID)
	if len(waiting) != 1 || !waiting[0].Alerted || waiting[0].LastError == "" {
		t.Fatalf("waiting = %+v, want alerted with the last error", waiting)
	}
	if got := b.get(t, a.ID); got.State != booking.StateConfirming {
		t.Fatalf("state = %s, want still confirming", got.State)
	}
	setFaults(t, b, sandbox.FaultConfig{})
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state after EMIS returned = %s, want booked", got.State)
	}
}

func TestCancellationFollowsThePolicyAndFreesTheSlotInEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	// Within 24 hours of the appointment partners cannot cancel; staff can.
	b.clock.advance(time.Until(slot.StartAt) - 2*time.Hour)
	_, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "feeling better"})
	wantCode(t, err, booking.CodeCancellationWindow)
	got, err := b.svc.StaffCancel(ctx, b.practiceID, a.ID, "patient phoned", "receptionist")
	if err != nil || got.State != booking.StateCancelled || got.CancelledBy != "staff" {
		t.Fatalf("staff cancel = %+v, %v", got, err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if sl := b.emisSlot(t, slot.ID); sl.Status != emis.SlotAvailable {
		t.Fatalf("EMIS slot after cancel = %+v, want available", sl)
	}
	// Cancelling again changes nothing.
	if again, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{}); err != nil || again.State != booking.StateCancelled {
		t.Fatalf("second cancel = %+v, %v", again, err)
	}
}

func TestCancellingAHoldReleasesItWithoutTouchingEMIS(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.reserve(t, slot.ID)
	got, err := b.svc.Cancel(context.Background(), b.group, a.ID, booking.CancelRequest{})
	if err != nil || got.State != booking.StateCancelled {
		t.Fatalf("cancel hold = %+v, %v", got, err)
	}
	if _, err := b.svc.Slot(context.Background(), b.group, slot.ID); err != nil {
		t.Fatalf("slot not released: %v", err)
	}
}

func TestAPlaceholderCancelledGivesTheSlotBackItsType(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	before := b.emisSlot(t, slot.ID).Type.TypeID
	a := b.written(t, slot.ID, matching.Demographics{FamilyName: "Unknown", GivenName: "Jo", DateOfBirth: "1970-05-05"})
	if _, err := b.svc.Cancel(context.Background(), b.group, a.ID, booking.CancelRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	sl := b.emisSlot(t, slot.ID)
	if sl.Type.TypeID != before || sl.Notes != "" {
		t.Fatalf("EMIS slot = %+v, want type %d without notes", sl, before)
	}
}

func TestRescheduleBooksTheNewSlotBeforeReleasingTheOld(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 3)
	a := b.written(t, slots[0].ID, d)
	next, err := b.svc.Reschedule(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID})
	if err != nil || next.State != booking.StateConfirming || next.RescheduledFrom != a.ID {
		t.Fatalf("reschedule = %+v, %v", next, err)
	}
	if old := b.get(t, a.ID); old.State != booking.StateBooked {
		t.Fatalf("the old booking was released before the new one was written: %s", old.State)
	}
	if err := b.writeback(t, next.ID); err != nil {
		t.Fatal(err)
	}
	old := b.get(t, a.ID)
	if old.State != booking.StateCancelled || old.RescheduledTo != next.ID || old.CancelledBy != "reschedule" {
		t.Fatalf("old = %+v", old)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if sl := b.emisSlot(t, slots[0].ID); sl.Status != emis.SlotAvailable {
		t.Fatalf("old EMIS slot = %+v, want available", sl)
	}
	if sl := b.emisSlot(t, slots[1].ID); sl.Status != emis.SlotBooked || sl.Patients[0].DBID != emisNo {
		t.Fatalf("new EMIS slot = %+v", sl)
	}

	// A reschedule whose new slot was taken in EMIS fails and leaves the booking in place.
	_, other := b.emisPatient(t)
	failing, err := b.svc.Reschedule(ctx, b.group, next.ID, booking.ReserveRequest{SlotID: slots[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: b.emisSlot(t, slots[2].ID).DBID, PatientID: other}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, failing.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, failing.ID); got.State != booking.StateFailed {
		t.Fatalf("failing reschedule = %s, want failed", got.State)
	}
	if kept := b.get(t, next.ID); kept.State != booking.StateBooked {
		t.Fatalf("the booking was lost when its reschedule failed: %s", kept.State)
	}
	if sl := b.emisSlot(t, slots[1].ID); sl.Status != emis.SlotBooked {
		t.Fatalf("EMIS lost the booking: %+v", sl)
	}
}

func TestABookingCancelledByReceptionInEMISIsCancelledInHerolink(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("herolink's own booking seen in the feed changed it: %s", got.State)
	}
	if err := b.org.ReceptionCancel(b.emisSlot(t, slot.ID).DBID); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	got := b.get(t, a.ID)
	if got.State != booking.StateCancelled || got.CancelledBy != "emis" {
		t.Fatalf("after reception cancelled: %+v", got)
	}
}

func TestBookingValidatesThePatient(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	a := b.reserve(t, b.freeSlots(t, 1)[0].ID)
	cases := []struct {
		name  string
		in    booking.PatientInput
		field string
	}{
		{"unknown patient id", booking.PatientInput{PatientID: "pat_nope"}, "patient_id"},
		{"NHS number failing its check digit", booking.PatientInput{Demographics: matching.Demographics{NHSNumber: "9434765918", DateOfBirth: "1980-01-01"}}, "patient.nhs_number"},
		{"no date of birth", booking.PatientInput{Demographics: matching.Demographics{FamilyName: "Smith", GivenName: "Ann"}}, "patient.date_of_birth"},
		{"bad email", booking.PatientInput{Demographics: matching.Demographics{FamilyName: "Smith", GivenName: "Ann", DateOfBirth: "1980-01-01"}, Email: "nope"}, "patient.email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.svc.Book(ctx, b.group, a.ID, c.in)
			wantCode(t, err, booking.CodeInvalid)
			var e *booking.Error
			found := false
			if asError(err, &e) {
				for _, f := range e.Fields {
					found = found || f.Field == c.field
				}
			}
			if !found {
				t.Fatalf("fields = %+v, want %s", e, c.field)
			}
		})
	}
	if got := b.get(t, a.ID); got.State != booking.StateReserved {
		t.Fatalf("a refused confirmation changed the hold: %s", got.State)
	}
}

func TestAWriteBackJobLostWithItsProcessIsEnqueuedAgainByTheSweep(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
	jobs := func() int {
		var n int
		if err := b.store.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'appointment_writeback' AND state = 'available'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if jobs() != 1 {
		t.Fatalf("confirming enqueued %d jobs, want 1 (in the same transaction)", jobs())
	}
	if _, err := b.store.DBQ().ExecContext(ctx, `DELETE FROM river_job`); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs() != 1 {
		t.Fatalf("after the sweep there are %d jobs, want 1", jobs())
	}
	if err := b.svc.Sweep(ctx); err != nil || jobs() != 1 {
		t.Fatalf("a second sweep duplicated the job: %d, %v", jobs(), err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s", got.State)
	}
}

func TestABookingWhoseSessionReceptionMovesFollowsTheNewTime(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	b.follow(t)
	sl := b.emisSlot(t, slot.ID)
	start := slot.StartAt.In(emis.London).Add(-30 * time.Minute)
	sess, err := b.org.GetSession(sl.SessionDBID)
	if err != nil {
		t.Fatal(err)
	}
	// Move the whole session half an hour earlier.
	st, _ := time.ParseInLocation("15:04", sess.StartTime, emis.London)
	newStart := st.Add(-30 * time.Minute).Format("15:04")
	if _, err := b.org.MoveSession(sess.DBID, newStart, 0); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked || !got.StartAt.Equal(start) {
		t.Fatalf("after the move: %s at %s, want booked at %s", got.State, got.StartAt, start)
	}
}

func TestAPlaceholderIsBookedByItselfOnceReceptionRegistersThePatient(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	d := matching.Demographics{FamilyName: "Latecomer", GivenName: "Robin", DateOfBirth: "1975-04-30", Postcode: "LS2 9JT"}
	a := b.written(t, slot.ID, d)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	// Reception registers the patient in EMIS. Nothing happens before the next search is due.
	p, err := b.org.RegisterPatient(sandbox.PatientInput{FamilyName: &d.FamilyName, FirstNames: &d.GivenName, DateOfBirth: &d.DateOfBirth, Postcode: &d.Postcode})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("searched again too early: %s", got.State)
	}
	b.clock.advance(16 * time.Minute)
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, a.ID)
	sl := b.emisSlot(t, slot.ID)
	if got.State != booking.StateBooked || sl.Status != emis.SlotBooked || sl.Patients[0].DBID != p.ID {
		t.Fatalf("after the patient was registered: %s, EMIS %+v (want booked for %d)", got.State, sl, p.ID)
	}
	if n := b.artefacts(t)[a.Reference]; n != 1 {
		t.Fatalf("EMIS holds %d artefacts, want 1", n)
	}
}
