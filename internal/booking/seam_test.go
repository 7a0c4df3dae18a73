package booking_test

import (
	"context"
	"strings"
	"testing"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/store"
)

// replaceUnregisteredType is the practice following the guide after deleting its unregistered
// slot type: a new one added in EMIS, the old one Not Bookable in herolink, the new one mapped.
// Placeholders already in EMIS keep the old slot type's id.
func (b *bundle) replaceUnregisteredType(t *testing.T) (old, added int) {
	t.Helper()
	ctx := context.Background()
	old = unregisteredType(t, b)
	if err := b.org.DeleteSlotType(old); err != nil {
		t.Fatal(err)
	}
	name, colour, yes := "Hero unregistered patient", "#ffeb3b", true
	nt, err := b.org.AddSlotType(sandbox.SlotTypeInput{Name: &name, Colour: &colour, Bookable: &yes})
	if err != nil {
		t.Fatal(err)
	}
	maps := &mapping.Service{Store: b.store, Conns: b.practices}
	if _, err := maps.RefreshFromEMIS(ctx, "staff", b.practiceID); err != nil {
		t.Fatal(err)
	}
	if _, err := maps.SetFeature(ctx, "staff", b.practiceID, old, store.FeatureNotBookable); err != nil {
		t.Fatal(err)
	}
	if _, err := maps.SetFeature(ctx, "staff", b.practiceID, nt.ID, store.FeatureUnregistered); err != nil {
		t.Fatal(err)
	}
	return old, nt.ID
}

// A placeholder written before the practice replaced its unregistered slot type still carries
// the patient's details in EMIS. Cancelling it must clear it there, not report
// "cancelled in EMIS" while EMIS keeps the time reserved with the patient's name in the notes.
func TestAPlaceholderCancelledAfterTheUnregisteredSlotTypeWasReplacedIsClearedInEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.placeholder(t, slot.ID)
	b.replaceUnregisteredType(t)
	if _, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "no longer needed"}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if sl := b.emisSlot(t, slot.ID); strings.Contains(sl.Notes, a.Reference) {
		t.Fatalf("EMIS slot after the cancellation = %+v: the placeholder and the patient's details are still there", sl)
	}
}

// Staff linking such a placeholder books the patient into the slot; it is not a false
// "slot taken" that leaves the placeholder in EMIS.
func TestAStaffLinkOfAPlaceholderWrittenUnderAReplacedSlotTypeBooksThePatient(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	a := b.placeholderFor(t, unmatchable(d))
	b.replaceUnregisteredType(t)
	if err := b.staffLink(ctx, a.ID, emisNo); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked {
		t.Fatalf("state = %s (failure %q), want booked into the placeholder's slot", got.State, got.FailureCode)
	}
	sl := b.emisSlot(t, a.SlotID)
	if len(sl.Patients) != 1 || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v, want the linked patient's appointment", sl)
	}
}

// Matching links on the NHS number and date of birth even when the surname differs (a married
// name): the link check tells the partner "linked". The re-check before writing must not then
// undo that very link as "the record changed": the booking goes into the record, as matching
// decided, rather than becoming a placeholder whose reason says something changed.
func TestAPatientMatchingLinksByNHSNumberDespiteANewSurnameIsBookedNotDroppedByTheRecheck(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	d.FamilyName = "Marriedname"
	slot := b.freeSlots(t, 1)[0]
	p, err := b.svc.RegisterPatient(ctx, b.group, booking.PatientInput{Demographics: d})
	if err != nil {
		t.Fatal(err)
	}
	if check, err := b.svc.PatientLinkCheck(ctx, b.group, p.ID, 0); err != nil || !check.Linked {
		t.Fatalf("link check = %+v, %v; the premise is that matching links these details", check, err)
	}
	a := b.reserve(t, slot.ID)
	if _, err := b.svc.Book(ctx, b.group, a.ID, booking.PatientInput{PatientID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked {
		t.Fatalf("state = %s (partner told %q), want booked: the link check said linked and nothing changed in EMIS", got.State, got.PlaceholderReason)
	}
	if sl := b.emisSlot(t, slot.ID); len(sl.Patients) != 1 || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v, want the appointment in EMIS number %d", sl, emisNo)
	}
}

// While the practice's connection is "failing" for a set-up reason that leaves EMIS answering
// (its unregistered slot type made not bookable), herolink's bookings there are still read back
// every interval: one EMIS lost without any change the sync can see is found.
func TestBookingsAreStillVerifiedWhileThePracticeIsFailingOnlyForItsSetUp(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slot := b.freeSlotWithSibling(t)
	a := b.written(t, slot.ID, d)
	b.follow(t)
	v := b.verifier()
	b.verify(t, v)

	no := false
	if _, err := b.org.EditSlotType(unregisteredType(t, b), sandbox.SlotTypeInput{Bookable: &no}); err != nil {
		t.Fatal(err)
	}
	if u, _ := b.practices.CheckHealth(ctx, b.practiceID); u.Status != store.HealthFailing {
		t.Fatalf("health = %s, the premise is a practice failing for its set-up", u.Status)
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
	b.clock.advance(verifyEvery)
	res := b.verify(t, v)
	if got := b.get(t, a.ID); got.State != booking.StateCancelled {
		t.Fatalf("after EMIS lost the booking and one interval passed: %s (verification %+v), want cancelled", got.State, res)
	}
}

// Reception moves herolink's appointment to another slot, and the partner cancels before
// herolink has noticed the move: the cancellation must still take the appointment out of EMIS,
// wherever reception put it, not leave it in the patient's record while herolink says
// "cancelled in EMIS".
func TestACancellationRightAfterReceptionMovedTheAppointmentCancelsItWhereItIsNow(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slots := b.freeSlots(t, 2)
	a := b.written(t, slots[0].ID, d)
	if _, err := b.org.MoveAppointment(b.emisSlot(t, slots[0].ID).DBID, b.emisSlot(t, slots[1].ID).DBID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "feeling better"}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := b.artefacts(t)[a.Reference]; n != 0 {
		t.Fatalf("after the cancellation EMIS still holds %d appointment(s) of %s (slot now %+v)", n, a.Reference, b.emisSlot(t, slots[1].ID))
	}
}
