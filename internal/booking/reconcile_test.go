package booking_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
)

// events lists an appointment's timeline as "event/detail", oldest first.
func (b *bundle) events(t *testing.T, id string) []string {
	t.Helper()
	rows, err := b.store.DBQ().QueryContext(context.Background(), `SELECT event, detail FROM appointment_events WHERE appointment_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e, d string
		if err := rows.Scan(&e, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, e+"/"+d)
	}
	return out
}

func count(xs []string, x string) int {
	n := 0
	for _, s := range xs {
		if s == x {
			n++
		}
	}
	return n
}

// wantReconciledOnce checks a conversion's timeline: one appointment.reconciled with how it
// came about, and no second "confirmed" for the partner.
func (b *bundle) wantReconciledOnce(t *testing.T, id, how string) {
	t.Helper()
	ev := b.events(t, id)
	if count(ev, "appointment.reconciled/"+how) != 1 || count(ev, "appointment.confirmed/appointment") != 0 || count(ev, "appointment.confirmed/placeholder") != 1 {
		t.Fatalf("timeline of %s = %v, want one appointment.reconciled/%s after the placeholder and no confirmed/appointment", id, ev, how)
	}
}

func TestAPlaceholderStaffLinkRecordsAppointmentReconciledWithTheConversion(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	a := b.placeholderFor(t, unmatchable(d))
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	if ev := b.events(t, a.ID); count(ev, "appointment.reconciled/staff_link") != 0 {
		t.Fatalf("reconciled before EMIS holds the appointment: %v", ev)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked", got.State)
	}
	b.wantReconciledOnce(t, a.ID, booking.ReconciledStaffLink)
}

func TestAPlaceholderMatchedAutomaticallyLaterRecordsAppointmentReconciledAsAutoMatch(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d := matching.Demographics{FamilyName: "Laterfound", GivenName: "Robin", DateOfBirth: "1975-04-30", Postcode: "LS2 9JT"}
	a := b.written(t, b.freeSlots(t, 1)[0].ID, d)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	if _, err := b.org.RegisterPatient(sandbox.PatientInput{FamilyName: &d.FamilyName, FirstNames: &d.GivenName, DateOfBirth: &d.DateOfBirth, Postcode: &d.Postcode}); err != nil {
		t.Fatal(err)
	}
	b.clock.advance(16 * time.Minute)
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked", got.State)
	}
	b.wantReconciledOnce(t, a.ID, booking.ReconciledAutoMatch)
}

// A conversion is two EMIS writes: the placeholder's slot given back its own type, then the
// patient's appointment booked. A process killed between them, or between the second and
// herolink recording it, leaves exactly one EMIS artefact once the write-back resumes.
func TestACrashBetweenTheTwoStepsOfAConversionEndsWithOneEMISArtefactAndTheBookingBooked(t *testing.T) {
	for _, tc := range []struct {
		name string
		// crash does the EMIS writes the killed worker did, as it recorded them.
		crash func(t *testing.T, b *bundle, a booking.Appointment, emisNo int64)
	}{
		{"the placeholder removed, the appointment not yet written", func(t *testing.T, b *bundle, a booking.Appointment, _ int64) {
			row := b.row(t, a.ID)
			b.exec(t, `UPDATE appointments SET write_unknown = 1, write_attempts = write_attempts + 1 WHERE id = ?`, a.ID)
			if _, err := b.conn(t).SetSlotType(context.Background(), row.SlotID, row.EMISSlotTypeID, ""); err != nil {
				t.Fatal(err)
			}
		}},
		{"the appointment written, herolink's placeholder not yet replaced", func(t *testing.T, b *bundle, a booking.Appointment, emisNo int64) {
			row := b.row(t, a.ID)
			c := b.conn(t)
			if _, err := c.SetSlotType(context.Background(), row.SlotID, row.EMISSlotTypeID, ""); err != nil {
				t.Fatal(err)
			}
			b.exec(t, `UPDATE appointments SET emis_written = '', write_unknown = 1, write_attempts = write_attempts + 1 WHERE id = ?`, a.ID)
			if _, err := c.BookAppointment(context.Background(), emis.Booking{SlotID: row.SlotID, PatientID: emisNo, Reason: "Sore throat",
				Notes: "herolink " + a.Reference, BookedBy: "herolink"}); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t)
			ctx := context.Background()
			d, emisNo := b.emisPatient(t)
			slot := b.freeSlots(t, 1)[0]
			a := b.written(t, slot.ID, unmatchable(d))
			b.follow(t)
			if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
				t.Fatal(err)
			}
			tc.crash(t, b, a, emisNo)
			b.follow(t) // the sync sees the half-done conversion: it must not be taken for reception's doing
			if err := b.writeback(t, a.ID); err != nil {
				t.Fatal(err)
			}
			got, sl := b.get(t, a.ID), b.emisSlot(t, slot.ID)
			if n := b.artefacts(t)[a.Reference]; n != 1 || got.State != booking.StateBooked || sl.Status != emis.SlotBooked ||
				len(sl.Patients) != 1 || sl.Patients[0].DBID != emisNo || sl.Type.TypeID == unregisteredType(t, b) {
				t.Fatalf("after the crash: herolink %s, EMIS holds %d artefacts of %s, slot %s type %d patients %v", got.State, n, a.Reference,
					sl.Status, sl.Type.TypeID, sl.Patients)
			}
			b.wantReconciledOnce(t, a.ID, booking.ReconciledStaffLink)
		})
	}
}

// receptionBooks is staff doing by hand in EMIS what herolink would: the placeholder taken
// off the slot and the patient booked into it.
func (b *bundle) receptionBooks(t *testing.T, a booking.Appointment, emisNo int64) {
	t.Helper()
	row := b.row(t, a.ID)
	if _, err := b.conn(t).SetSlotType(context.Background(), row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: row.SlotID, PatientID: emisNo}); err != nil {
		t.Fatal(err)
	}
}

func TestBookedByHandInEMISFollowsTheAppointmentEMISHoldsWithoutAdoptingThePatient(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, unmatchable(d))
	b.receptionBooks(t, a, emisNo)
	check, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"})
	if err != nil {
		t.Fatal(err)
	}
	if check.EMISNumber != emisNo || len(check.Disagree) != 0 {
		t.Fatalf("check = %+v", check)
	}
	row := b.row(t, a.ID)
	if row.State != string(booking.StateBooked) || row.MatchRule != booking.RuleBookedInEMIS || row.EMISPatientID != 0 {
		t.Fatalf("after booked by hand: %s rule %q EMIS patient %d", row.State, row.MatchRule, row.EMISPatientID)
	}
	if n := b.linkCount(t, row.PatientID); n != 0 {
		t.Fatalf("herolink adopted the patient EMIS holds as its patient's record (%d links)", n)
	}
	if ev := b.events(t, a.ID); count(ev, "appointment.reconciled/booked_in_emis") != 1 {
		t.Fatalf("timeline = %v", ev)
	}
	if !b.auditHas(t, "placeholder_booked_in_emis", "reception", a.Reference) {
		t.Fatal("not audited with the staff member's name")
	}
	// The sync and feed afterwards change nothing, and record no second reconciliation.
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("after the next sync: %s", got.State)
	}
	if ev := b.events(t, a.ID); count(ev, "appointment.reconciled/booked_in_emis") != 1 {
		t.Fatalf("timeline after the sync = %v", ev)
	}
}

func TestBookedByHandInEMISIsRefusedAndChangesNothingUnlessEMISHoldsARealAppointmentInTheSlot(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slots := b.freeSlots(t, 2)
	// Still herolink's placeholder in EMIS: staff have not booked anything yet.
	a := b.placeholder(t, slots[0].ID)
	_, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"})
	wantCode(t, err, booking.CodeNotBookedInEMIS)
	if row := b.row(t, a.ID); row.State != string(booking.StatePlaceholder) || count(b.events(t, a.ID), "appointment.reconciled/booked_in_emis") != 0 {
		t.Fatalf("a refusal changed the booking: %+v %v", row, b.events(t, a.ID))
	}
	// The placeholder taken off but nobody booked: the slot is free.
	row := b.row(t, a.ID)
	if _, err := b.conn(t).SetSlotType(ctx, row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"})
	wantCode(t, err, booking.CodeNotBookedInEMIS)
	if row := b.row(t, a.ID); row.State != string(booking.StatePlaceholder) || row.MatchRule == booking.RuleBookedInEMIS {
		t.Fatalf("a refusal changed the booking: %+v", row)
	}
	if count(b.events(t, a.ID), "appointment.reconciled/booked_in_emis") != 0 {
		t.Fatal("a refusal recorded a reconciliation")
	}
}

// Reception gave the placeholder's time to somebody else: the patient EMIS holds there is
// not the one who booked. Following it would tell the partner the patient is booked when the
// clinician expects another person, so it needs a confirmation with a reason.
func TestBookedByHandInEMISForAnotherPersonNeedsAConfirmationAndChangesNothingWithout(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	a := b.placeholder(t, b.freeSlots(t, 1)[0].ID) // "Nobody-Known", born 1990-01-01
	_, other := b.emisPatient(t)
	b.receptionBooks(t, a, other)
	check, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"})
	var me *booking.MismatchError
	if !errors.As(err, &me) || booking.CodeOf(err) != booking.CodeDemographicsMismatch {
		t.Fatalf("another person in the slot: %v, want %s", err, booking.CodeDemographicsMismatch)
	}
	if check.EMISNumber != other || strings.Join(check.Disagree, ",") != "family_name,date_of_birth" {
		t.Fatalf("check = %+v", check)
	}
	if row := b.row(t, a.ID); row.State != string(booking.StatePlaceholder) {
		t.Fatalf("an unconfirmed mismatch changed the booking: %s", row.State)
	}
	_, err = b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{ConfirmMismatch: true, Actor: "reception"})
	wantCode(t, err, booking.CodeInvalid)
	if _, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{ConfirmMismatch: true,
		Reason: "registered under her married name", Actor: "reception"}); err != nil {
		t.Fatal(err)
	}
	if row := b.row(t, a.ID); row.State != string(booking.StateBooked) || row.EMISPatientID != 0 {
		t.Fatalf("after confirming: %s, EMIS patient %d", row.State, row.EMISPatientID)
	}
	if !b.auditHas(t, "placeholder_booked_in_emis", "reception", "married name") {
		t.Fatal("the confirmation is not audited with the reason")
	}
}

// A placeholder staff linked, whose conversion herolink is writing, is the write-back's:
// "booked by hand" could otherwise follow the appointment herolink itself is writing.
func TestBookedByHandInEMISIsRefusedWhileHerolinkIsConvertingThePlaceholder(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	a := b.placeholderFor(t, unmatchable(d))
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"})
	wantCode(t, err, booking.CodeInvalidState)
}

// A worker searching again for a placeholder's patient (read before staff acted) finds the
// patient reception has just registered, while staff follow the appointment they booked by
// hand. The search's answer must not attach that booking to a patient herolink itself chose,
// nor overwrite its booked_in_emis rule (the verifier would then take reception's appointment
// for someone else's and cancel the booking).
func TestASearchFinishingAfterStaffFollowedTheirAppointmentInEMISChangesNothing(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d := matching.Demographics{FamilyName: "Registeredlate", GivenName: "Sam", DateOfBirth: "1981-06-15", Postcode: "LS7 3AB"}
	a := b.written(t, b.freeSlots(t, 1)[0].ID, d)
	p, err := b.org.RegisterPatient(sandbox.PatientInput{FamilyName: &d.FamilyName, FirstNames: &d.GivenName, DateOfBirth: &d.DateOfBirth, Postcode: &d.Postcode})
	if err != nil {
		t.Fatal(err)
	}
	stale := b.row(t, a.ID) // what the searching worker read
	b.receptionBooks(t, a, p.ID)
	if _, err := b.svc.MarkBookedInEMIS(ctx, b.practiceID, a.ID, booking.BookedInEMISRequest{Actor: "reception"}); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.MatchAsReadEarlier(ctx, stale); err != nil {
		t.Fatal(err)
	}
	row := b.row(t, a.ID)
	if row.State != string(booking.StateBooked) || row.MatchRule != booking.RuleBookedInEMIS || row.EMISPatientID != 0 || b.linkCount(t, row.PatientID) != 0 {
		t.Fatalf("the late search changed the followed booking: %s rule %q EMIS patient %d, %d links", row.State, row.MatchRule, row.EMISPatientID, b.linkCount(t, row.PatientID))
	}
}
