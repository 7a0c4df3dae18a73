package booking_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
)

// staffLink is staff linking a placeholder to an EMIS number and confirming, with a reason,
// whatever disagreement the record shows: for tests about what happens after a link.
func (b *bundle) staffLink(ctx context.Context, id string, emisNo int64) error {
	_, err := b.svc.LinkPlaceholder(ctx, b.practiceID, id, booking.LinkRequest{EMISNumber: emisNo, ConfirmMismatch: true,
		Reason: "registered in EMIS under another name", Actor: "receptionist"})
	return err
}

// placeholderFor writes a placeholder for a patient whom matching cannot link (no NHS number,
// a first name EMIS does not hold), so staff have to.
func (b *bundle) placeholderFor(t *testing.T, d matching.Demographics) booking.Appointment {
	t.Helper()
	a := b.written(t, b.freeSlots(t, 1)[0].ID, d)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	return a
}

// unmatchable is an EMIS patient's details as a patient might type them: right surname and
// date of birth, a first name EMIS does not hold, no NHS number. Matching refuses; staff can tell.
func unmatchable(d matching.Demographics) matching.Demographics {
	return matching.Demographics{FamilyName: d.FamilyName, GivenName: "Lex", DateOfBirth: d.DateOfBirth, Postcode: d.Postcode}
}

func (b *bundle) auditHas(t *testing.T, action string, parts ...string) bool {
	t.Helper()
	rows, err := b.store.DBQ().QueryContext(context.Background(), `SELECT actor, detail FROM audit_log WHERE action = ?`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var actor, detail string
		if err := rows.Scan(&actor, &detail); err != nil {
			t.Fatal(err)
		}
		line := actor + " " + detail
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func (b *bundle) linkCount(t *testing.T, patientID string) int {
	t.Helper()
	var n int
	if err := b.store.DBQ().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM patient_links WHERE patient_id = ?`, patientID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPlaceholderLinkRefusesAnEMISNumberEMISDoesNotKnow(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	a := b.placeholder(t, b.freeSlots(t, 1)[0].ID)
	_, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: 987654321, Actor: "receptionist"})
	if booking.CodeOf(err) != booking.CodeEMISRecordNotFound {
		t.Fatalf("linking an unknown EMIS number: %v, want %s", err, booking.CodeEMISRecordNotFound)
	}
	if row := b.row(t, a.ID); row.EMISPatientID != 0 || row.MatchRule == booking.RuleStaff || row.State != string(booking.StatePlaceholder) {
		t.Fatalf("a refused link changed the booking: %+v", row)
	}
}

func TestPlaceholderLinkToAnotherPersonsRecordNeedsAConfirmationAndChangesNothingWithout(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID) // "Nobody-Known", born 1990-01-01
	_, other := b.emisPatient(t)   // Testperson..., born 1985-03-14
	check, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: other, Actor: "receptionist"})
	var me *booking.MismatchError
	if !errors.As(err, &me) || booking.CodeOf(err) != booking.CodeDemographicsMismatch {
		t.Fatalf("linking another person's record: %v, want %s", err, booking.CodeDemographicsMismatch)
	}
	if strings.Join(check.Disagree, ",") != "family_name,date_of_birth" || check.Typed.FamilyName != "Nobody-Known" ||
		!strings.HasPrefix(check.Record.FamilyName, "Testperson") || check.Record.DateOfBirth != "1985-03-14" {
		t.Fatalf("the check shows %+v", check)
	}
	if strings.Contains(err.Error(), "Nobody") || strings.Contains(err.Error(), "Testperson") {
		t.Fatalf("the error text carries patient details: %v", err)
	}
	if row := b.row(t, a.ID); row.EMISPatientID != 0 || row.MatchRule == booking.RuleStaff {
		t.Fatalf("an unconfirmed mismatch changed the booking: %+v", row)
	}
	// A confirmation needs a reason.
	_, err = b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: other, ConfirmMismatch: true, Actor: "receptionist"})
	if booking.CodeOf(err) != booking.CodeInvalid {
		t.Fatalf("confirmation without a reason: %v, want %s", err, booking.CodeInvalid)
	}
	if b.writeback(t, a.ID) != nil || b.artefacts(t)[a.Reference] != 1 {
		t.Fatal("the placeholder is not intact in EMIS")
	}
	if sl := b.emisSlot(t, slot.ID); sl.Status == emis.SlotBooked {
		t.Fatalf("EMIS booked the slot for %v after an unconfirmed link", sl.Patients)
	}
}

func TestAConfirmedMismatchIsAuditedWithTheStaffMembersNameAndReason(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	a := b.placeholder(t, b.freeSlots(t, 1)[0].ID)
	_, emisNo := b.emisPatient(t)
	if _, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: emisNo, ConfirmMismatch: true,
		Reason: "married since; the patient confirmed by phone", Actor: "jsmith"}); err != nil {
		t.Fatal(err)
	}
	if !b.auditHas(t, "placeholder_link_mismatch_confirmed", "jsmith", a.Reference, "married since; the patient confirmed by phone") {
		t.Fatal("no audit line with the staff member's name, the booking and the reason")
	}
	if b.auditHas(t, "placeholder_link_mismatch_confirmed", "Nobody") {
		t.Fatal("the audit line carries the patient's details")
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked after the confirmed link", got.State)
	}
}

func TestAStaffLinkIsRememberedOnlyOnceEMISHoldsTheAppointment(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	a := b.placeholderFor(t, unmatchable(d))
	check, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: emisNo, Actor: "receptionist"})
	if err != nil || len(check.Disagree) != 0 || check.Record.NHSNumber != d.NHSNumber {
		t.Fatalf("link of the right record: %+v, %v", check, err)
	}
	pid := b.get(t, a.ID).PatientID
	if n := b.linkCount(t, pid); n != 0 {
		t.Fatalf("the link is stored before EMIS holds the appointment (%d links)", n)
	}
	// EMIS is down: the conversion cannot land, and the link is still not stored.
	_ = b.world.SetFaults(sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: 1}})
	_ = b.svc.Writeback(ctx, a.ID)
	if n := b.linkCount(t, pid); n != 0 {
		t.Fatalf("the link is stored although EMIS never took the appointment (%d links)", n)
	}
	_ = b.world.SetFaults(sandbox.Faults{})
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked", got.State)
	}
	if n := b.linkCount(t, pid); n != 1 {
		t.Fatalf("after EMIS took the appointment there are %d links, want 1", n)
	}
}

// The partner's patient was linked to a record; then the record's name and date of birth
// changed in EMIS (a wrong link corrected, or another person's record reused). The next
// booking by patient_id must not be written into that record.
func TestAfterTheRecordChangesInEMISTheNextBookingByPatientIDIsNotWrittenIntoIt(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 3)
	first := b.written(t, slots[0].ID, d)
	if got := b.get(t, first.ID); got.State != booking.StateBooked {
		t.Fatalf("first booking is %s", got.State)
	}
	pid := b.get(t, first.ID).PatientID
	family, dob := "Someoneelse", "1971-07-07"
	if _, err := b.org.EditPatient(emisNo, sandbox.PatientInput{FamilyName: &family, DateOfBirth: &dob}); err != nil {
		t.Fatal(err)
	}
	a := b.reserve(t, slots[1].ID)
	if _, err := b.svc.Book(ctx, b.group, a.ID, booking.PatientInput{PatientID: pid}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	sl := b.emisSlot(t, slots[1].ID)
	if sl.Status == emis.SlotBooked {
		t.Fatalf("the booking was written into EMIS record %v whose details no longer agree", sl.Patients)
	}
	row := b.row(t, a.ID)
	if row.State != string(booking.StatePlaceholder) || row.MatchRule != booking.RuleEMISRecordChanged || b.artefacts(t)[a.Reference] != 1 {
		t.Fatalf("booking = %s (%s), EMIS artefacts %d: want a placeholder keeping the time", row.State, row.MatchRule, b.artefacts(t)[a.Reference])
	}
	if n := b.linkCount(t, pid); n != 0 {
		t.Fatalf("the stale link is still stored (%d)", n)
	}
	if got := b.get(t, a.ID); got.PlaceholderReason != booking.PlaceholderLinkedRecordChanged {
		t.Fatalf("the partner is told %q, want %q", got.PlaceholderReason, booking.PlaceholderLinkedRecordChanged)
	}
	// A reschedule of the first booking is not written into the record either.
	r, err := b.svc.Reschedule(ctx, b.group, first.ID, booking.ReserveRequest{SlotID: slots[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, r.ID); err != nil {
		t.Fatal(err)
	}
	if sl := b.emisSlot(t, slots[2].ID); sl.Status == emis.SlotBooked {
		t.Fatalf("the reschedule was written into EMIS record %v whose details no longer agree", sl.Patients)
	}
}

func TestADeductedPatientIsNeverBookedAgainstTheirOldRecord(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 2)
	first := b.written(t, slots[0].ID, d)
	pid := b.get(t, first.ID).PatientID
	if _, err := b.org.DeductPatient(emisNo); err != nil {
		t.Fatal(err)
	}
	a := b.reserve(t, slots[1].ID)
	if _, err := b.svc.Book(ctx, b.group, a.ID, booking.PatientInput{PatientID: pid}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if sl := b.emisSlot(t, slots[1].ID); sl.Status == emis.SlotBooked {
		t.Fatalf("a deducted patient was booked: %+v", sl)
	}
	if row := b.row(t, a.ID); row.State != string(booking.StatePlaceholder) || row.MatchRule != booking.RuleEMISPatientNotFound {
		t.Fatalf("booking = %s (%s), want a placeholder", row.State, row.MatchRule)
	}
	// The re-check, not EMIS's refusal, is what stops it: the link to the old record is
	// forgotten, so no later booking is even tried against it.
	if n := b.linkCount(t, pid); n != 0 {
		t.Fatalf("the link to the deducted patient's record is still stored (%d)", n)
	}
}

func TestASecondStaffLinkWhileTheFirstIsBeingBookedIsRefused(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	a := b.placeholderFor(t, unmatchable(d))
	if _, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: emisNo, Actor: "first"}); err != nil {
		t.Fatal(err)
	}
	_, other := b.emisPatient(t)
	_, err := b.svc.LinkPlaceholder(ctx, b.practiceID, a.ID, booking.LinkRequest{EMISNumber: other, ConfirmMismatch: true, Reason: "x", Actor: "second"})
	if booking.CodeOf(err) != booking.CodeInvalidState {
		t.Fatalf("second link: %v, want %s", err, booking.CodeInvalidState)
	}
	if row := b.row(t, a.ID); row.EMISPatientID != emisNo {
		t.Fatalf("the row names EMIS number %d, want the first link's %d", row.EMISPatientID, emisNo)
	}
}

// A patient who gives another surname than EMIS holds (married since registering) but the
// same NHS number, date of birth and first name is linked by matching's NHS number rule; the
// re-check before writing must accept what matching accepted, or every such booking would be
// a placeholder telling the partner the record "changed".
func TestAPatientLinkedByNHSNumberUnderAnotherSurnameIsBookedNotPlaceholdered(t *testing.T) {
	b := setup(t)
	d, emisNo := b.emisPatient(t)
	d.FamilyName = "Marriedname"
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	row := b.row(t, a.ID)
	if row.State != string(booking.StateBooked) || row.EMISPatientID != emisNo {
		t.Fatalf("booking = %s (%s), EMIS number %d: want booked into record %d, as matching linked it", row.State, row.MatchRule, row.EMISPatientID, emisNo)
	}
	// The same holds for the next booking by patient_id, which re-reads the record.
	slot2 := b.freeSlots(t, 2)[1]
	next := b.reserve(t, slot2.ID)
	if _, err := b.svc.Book(context.Background(), b.group, next.ID, booking.PatientInput{PatientID: b.get(t, a.ID).PatientID}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, next.ID); err != nil {
		t.Fatal(err)
	}
	if row := b.row(t, next.ID); row.State != string(booking.StateBooked) || row.EMISPatientID != emisNo {
		t.Fatalf("next booking = %s (%s): want booked into record %d", row.State, row.MatchRule, emisNo)
	}
}
