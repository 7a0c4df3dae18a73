package booking_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/store"
)

func TestReservingAFreeSlotHoldsItForFifteenMinutes(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.reserve(t, slot.ID)
	if a.State != booking.StateReserved || !strings.HasPrefix(a.Reference, "HL-") {
		t.Fatalf("hold = %+v", a)
	}
	if d := time.Until(a.ReservedUntil); d < 14*time.Minute || d > 15*time.Minute+time.Second {
		t.Fatalf("reserved_until is %v away, want 15 minutes", d)
	}
	if a.SlotID != slot.ID || a.AppointmentTypeID != slot.AppointmentTypeID || a.LocationID != slot.LocationID {
		t.Fatalf("hold %+v does not describe slot %+v", a, slot)
	}
}

func TestASecondHoldOnTheSameSlotIsRefused(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	b.reserve(t, slot.ID)
	_, err := b.svc.Reserve(context.Background(), b.group, "key_other", booking.ReserveRequest{SlotID: slot.ID})
	wantCode(t, err, booking.CodeSlotUnavailable)
}

func TestOfFiftyConcurrentReservationsOfOneSlotExactlyOneWins(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, refused := 0, 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.svc.Reserve(context.Background(), b.group, "key", booking.ReserveRequest{SlotID: slot.ID})
			mu.Lock()
			defer mu.Unlock()
			switch booking.CodeOf(err) {
			case "":
				if err == nil {
					won++
				} else {
					t.Errorf("unexpected error: %v", err)
				}
			case booking.CodeSlotUnavailable:
				refused++
			default:
				t.Errorf("unexpected refusal: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || refused != 49 {
		t.Fatalf("won %d, refused %d; want 1 and 49", won, refused)
	}
}

func TestAHeldSlotIsNotListedAndAnExpiredHoldFreesIt(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.reserve(t, slot.ID)
	if _, err := b.svc.Slot(ctx, b.group, slot.ID); booking.CodeOf(err) != booking.CodeSlotUnavailable {
		t.Fatalf("held slot: %v", err)
	}
	b.clock.advance(16 * time.Minute)
	if got := b.get(t, a.ID); got.State != booking.StateExpired {
		t.Fatalf("after 16 minutes the hold is %s, want expired", got.State)
	}
	if _, err := b.svc.Slot(ctx, b.group, slot.ID); err != nil {
		t.Fatalf("the expired hold still blocks the slot: %v", err)
	}
	// Confirming an expired hold is refused; another partner can take the slot.
	_, err := b.svc.Book(ctx, b.group, a.ID, booking.PatientInput{PatientID: "pat_x"})
	wantCode(t, err, booking.CodeHoldExpired)
	b.reserve(t, slot.ID)
	if n, err := b.store.ExpireHolds(ctx); err != nil || n != 0 {
		t.Fatalf("expire holds = %d, %v; the expired one was already expired by the new hold", n, err)
	}
}

func TestHoldLengthFollowsThePracticePolicy(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pol, err := b.store.BookingPolicy(ctx, b.practiceID)
	if err != nil {
		t.Fatal(err)
	}
	pol.Hold = 5 * time.Minute
	if err := b.store.SetBookingPolicy(ctx, b.practiceID, pol, storeAudit("pm")); err != nil {
		t.Fatal(err)
	}
	a := b.reserve(t, b.freeSlots(t, 1)[0].ID)
	if d := time.Until(a.ReservedUntil); d > 5*time.Minute+time.Second || d < 4*time.Minute {
		t.Fatalf("hold is %v, want 5 minutes", d)
	}
}

func TestEditingAHoldChangesItsTextOrMovesItToAnotherSlot(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slots := b.freeSlots(t, 3)
	a := b.reserve(t, slots[0].ID)
	got, err := b.svc.UpdateHold(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[0].ID, Description: "Earache", Comment: "left ear"})
	if err != nil || got.Description != "Earache" || got.Comment != "left ear" {
		t.Fatalf("edit text: %+v, %v", got, err)
	}
	got, err = b.svc.UpdateHold(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID, Description: "Earache"})
	if err != nil || got.SlotID != slots[1].ID || got.Reference != a.Reference {
		t.Fatalf("move: %+v, %v", got, err)
	}
	if _, err := b.svc.Slot(ctx, b.group, slots[0].ID); err != nil {
		t.Fatalf("the old slot was not released: %v", err)
	}
	// A move onto a held slot is refused and leaves the hold where it was.
	b.reserve(t, slots[2].ID)
	_, err = b.svc.UpdateHold(ctx, b.group, a.ID, booking.ReserveRequest{SlotID: slots[2].ID})
	wantCode(t, err, booking.CodeSlotUnavailable)
	if got := b.get(t, a.ID); got.SlotID != slots[1].ID {
		t.Fatalf("refused move changed the hold: %+v", got)
	}
}

func TestReservationInputIsValidated(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	cases := []struct {
		name  string
		req   booking.ReserveRequest
		code  booking.Code
		field string
	}{
		{"missing slot", booking.ReserveRequest{}, booking.CodeInvalid, "slot_id"},
		{"description over 100 characters", booking.ReserveRequest{SlotID: slot.ID, Description: strings.Repeat("x", 101)}, booking.CodeInvalid, "description"},
		{"comment over 500 characters", booking.ReserveRequest{SlotID: slot.ID, Comment: strings.Repeat("x", 501)}, booking.CodeInvalid, "comment"},
		{"malformed slot id", booking.ReserveRequest{SlotID: "slot-1"}, booking.CodeNotFound, ""},
		{"slot of another practice group", booking.ReserveRequest{SlotID: "slt_999_1"}, booking.CodeNotFound, ""},
		{"wrong appointment type", booking.ReserveRequest{SlotID: slot.ID, AppointmentTypeID: "at_999999"}, booking.CodeInvalid, "appointment_type_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.svc.Reserve(ctx, b.group, "key", c.req)
			wantCode(t, err, c.code)
			if c.field != "" {
				var e *booking.Error
				if !asError(err, &e) || len(e.Fields) == 0 || e.Fields[0].Field != c.field {
					t.Fatalf("fields = %+v, want %s", e, c.field)
				}
			}
		})
	}
	// Nothing was held by the refusals.
	if _, err := b.svc.Slot(ctx, b.group, slot.ID); err != nil {
		t.Fatalf("a refused reservation held the slot: %v", err)
	}
}

func TestAnotherPracticeGroupCannotSeeOrTouchAnAppointment(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	a := b.reserve(t, b.freeSlots(t, 1)[0].ID)
	other := "pg_someone_else"
	_, err := b.svc.Appointment(ctx, other, a.ID)
	wantCode(t, err, booking.CodeNotFound)
	_, err = b.svc.Cancel(ctx, other, a.ID, booking.CancelRequest{})
	wantCode(t, err, booking.CodeNotFound)
	_, err = b.svc.Book(ctx, other, a.ID, booking.PatientInput{})
	wantCode(t, err, booking.CodeNotFound)
	_, err = b.svc.Reserve(ctx, other, "key", booking.ReserveRequest{SlotID: a.SlotID})
	wantCode(t, err, booking.CodeNotFound)
}

func TestAPracticeWithoutAnUnregisteredSlotTypeDoesNotTakeBookings(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	unreg := unregisteredType(t, b)
	if _, err := b.store.DBQ().ExecContext(context.Background(), `UPDATE emis_slot_types SET feature = 'not_bookable' WHERE practice_id = ? AND emis_id = ?`, b.practiceID, unreg); err != nil {
		t.Fatal(err)
	}
	_, err := b.svc.Reserve(context.Background(), b.group, "key", booking.ReserveRequest{SlotID: slot.ID})
	wantCode(t, err, booking.CodePracticeNotReady)
}

func TestOnePartnerCannotSeeOrChangeAnotherPartnersBookingsOrPatients(t *testing.T) {
	b := setup(t)
	acme, other := booking.WithOwner(context.Background(), "key_acme"), booking.WithOwner(context.Background(), "key_other")
	slot := b.freeSlots(t, 1)[0]
	a, err := b.svc.Reserve(acme, b.group, "key_acme", booking.ReserveRequest{SlotID: slot.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Appointment(other, b.group, a.ID)
	wantCode(t, err, booking.CodeNotFound)
	_, err = b.svc.Cancel(other, b.group, a.ID, booking.CancelRequest{})
	wantCode(t, err, booking.CodeNotFound)
	_, err = b.svc.UpdateHold(other, b.group, a.ID, booking.ReserveRequest{SlotID: slot.ID, Description: "mine now"})
	wantCode(t, err, booking.CodeNotFound)
	d, _ := b.emisPatient(t)
	_, err = b.svc.Book(other, b.group, a.ID, booking.PatientInput{Demographics: d})
	wantCode(t, err, booking.CodeNotFound)
	// Patients too: another partner cannot read one, nor book someone else's patient.
	p, err := b.svc.RegisterPatient(acme, b.group, booking.PatientInput{Demographics: d})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Patient(other, b.group, p.ID)
	wantCode(t, err, booking.CodeNotFound)
	theirs, err := b.svc.Reserve(other, b.group, "key_other", booking.ReserveRequest{SlotID: b.freeSlots(t, 1)[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Book(other, b.group, theirs.ID, booking.PatientInput{PatientID: p.ID})
	wantCode(t, err, booking.CodeInvalid)
	// The owner and the practice's staff (no owner) still can.
	if _, err := b.svc.Book(acme, b.group, a.ID, booking.PatientInput{PatientID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.svc.Appointment(context.Background(), b.group, a.ID); err != nil || got.State != booking.StateConfirming {
		t.Fatalf("staff view: %+v, %v", got, err)
	}
}

type failingConns struct{ err error }

func (f failingConns) Conn(context.Context, int64) (*emis.Conn, error) { return nil, f.err }

func TestAPartnerIsNotToldWhyThePracticesEMISConnectionIsUnavailable(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	p, err := b.svc.RegisterPatient(ctx, b.group, booking.PatientInput{Demographics: d})
	if err != nil {
		t.Fatal(err)
	}
	down := &booking.Service{Store: b.store, River: b.river, Conns: failingConns{errors.New("open the API password of practice A81001: vault: key k7 not loaded")}}
	got, err := down.PatientLinkCheck(ctx, b.group, p.ID, 0)
	if err != nil || got.Linked || got.Reason != booking.LinkPracticeUnavailable {
		t.Fatalf("%+v %v", got, err)
	}
	if msg := fmt.Sprintf("%+v", got); strings.Contains(msg, "vault") || strings.Contains(msg, "A81001") || strings.Contains(msg, "password") {
		t.Fatalf("the partner is told herolink's internals: %s", msg)
	}
}

// A hold is answered from what was written, not read back (two round trips fewer for each
// hold of a burst): the answer must be exactly what reading the appointment gives.
func TestAHoldIsAnsweredAsReadingItBackShowsIt(t *testing.T) {
	b := setup(t)
	slot := b.freeSlots(t, 1)[0]
	a, err := b.svc.Reserve(context.Background(), b.group, "key", booking.ReserveRequest{SlotID: slot.ID,
		Description: "Asthma review", Comment: "Prefers mornings"})
	if err != nil {
		t.Fatal(err)
	}
	if a.LocationID == "" || len(a.PractitionerIDs) == 0 {
		t.Fatalf("the hold's answer names no location or practitioner: %+v", a)
	}
	read, err := b.svc.Appointment(context.Background(), b.group, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(read, a); diff != "" {
		t.Fatalf("the hold's answer differs from reading it back (-read +answered):\n%s", diff)
	}
}

// holdOfALostGroup is a hold on a free slot that its group wrote, and the answer of whose
// COMMIT never came.
func (b *bundle) holdOfALostGroup(t *testing.T) store.AppointmentRow {
	t.Helper()
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	row, err := b.svc.HoldRow(ctx, b.group, "key", booking.ReserveRequest{SlotID: slot.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := b.store.CreateHolds(ctx, tx, []store.AppointmentRow{row}, "appointment.reserved")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return row
}

// A group of holds whose COMMIT's answer was lost (the connection dropped as it committed)
// may have written them. Each is then written again alone and refused as held by itself: the
// partner must get its hold, not be told the slot is taken while the hold keeps it from
// everyone until it lapses. Another partner's request for that slot is still refused.
func TestAHoldWhoseGroupCommittedButLostItsAnswerIsAnsweredNotRefused(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	row := b.holdOfALostGroup(t)
	lost := errors.New("commit: read tcp: connection reset by peer")
	got, err := b.svc.HoldAgain(ctx, row, lost)
	if err != nil || got.ID != row.ID {
		t.Fatalf("the hold written by its group, run again alone: %+v, %v; want its own row", got, err)
	}
	other := row // made before the slot was held, by another partner
	other.ID, other.Reference, other.APIKeyID = "apt_0therpartner0001", "HL-OTHER1", "key_other"
	if _, err := b.svc.HoldAgain(ctx, other, lost); !errors.Is(err, store.ErrSlotHeld) {
		t.Fatalf("another partner's hold on the slot, run again alone: %v, want ErrSlotHeld", err)
	}
}

// When a group failed and the hold, written again alone, is refused as held, only reading the
// hold's own row tells whether the group wrote it. If that read fails too, the partner is told
// of an error it may try again, not that the slot is taken: that could be its own hold.
func TestAHoldWhoseGroupFailedIsNotAnsweredTakenWhenItsOwnRowCannotBeRead(t *testing.T) {
	b := setup(t)
	row := b.holdOfALostGroup(t)
	unreadable := errors.New("read tcp: connection reset by peer")
	ctx := booking.WithOwnHoldReadsFailing(context.Background(), unreadable)
	_, err := b.svc.HoldAgain(ctx, row, errors.New("commit: read tcp: connection reset by peer"))
	if errors.Is(err, store.ErrSlotHeld) || !errors.Is(err, unreadable) {
		t.Fatalf("the hold run again alone, its own row unreadable: %v; want the read's error, not the slot taken", err)
	}
}

// The same, through Reserve: two holds being written hold the writers back while three more
// queue, and the group that then writes the three commits but loses the COMMIT's answer. Each
// of the three partners still gets its hold, not "slot taken" by its own hold.
func TestHoldsOfAGroupWhoseCommitLostItsAnswerAreEachAnsweredWithTheirHold(t *testing.T) {
	b := setup(t)
	slots := b.freeSlots(t, 5)
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	lost := errors.New("commit: read tcp: connection reset by peer")
	var lostGroups atomic.Int32
	ctx := booking.WithHoldsCommitted(context.Background(), func(n int, err error) error {
		switch {
		case err != nil:
			return err
		case n == 1:
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
			return nil
		default:
			lostGroups.Add(1)
			return lost
		}
	})
	type answer struct {
		a   booking.Appointment
		err error
	}
	answers := make([]answer, len(slots))
	var wg sync.WaitGroup
	reserve := func(i int) {
		wg.Go(func() {
			a, err := b.svc.Reserve(ctx, b.group, "key", booking.ReserveRequest{SlotID: slots[i].ID})
			answers[i] = answer{a, err}
		})
	}
	reserve(0)
	reserve(1)
	<-entered
	<-entered // both writers are held back, each with one hold
	for i := 2; i < len(slots); i++ {
		reserve(i)
	}
	for i := 0; b.svc.HoldWritesQueued() < 3; i++ {
		if i > 10_000_000 {
			t.Fatalf("%d holds queued, want 3", b.svc.HoldWritesQueued())
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := lostGroups.Load(); n != 1 {
		t.Fatalf("%d groups committed and lost their answer, want 1", n)
	}
	for i, an := range answers {
		if an.err != nil || an.a.ID == "" {
			t.Errorf("hold %d on %s: id %q, %v; want the hold", i, slots[i].ID, an.a.ID, an.err)
		}
	}
}
