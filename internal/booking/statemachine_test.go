package booking_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"pgregory.net/rapid"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
)

func TestCancellingWhileConfirmingLeavesNothingInEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.confirmed(t, slot.ID, d)
	got, err := b.svc.Cancel(ctx, b.group, a.ID, booking.CancelRequest{Reason: "changed my mind"})
	if err != nil || got.State != booking.StateCancelled || got.CancelledBy != "partner" {
		t.Fatalf("cancel while confirming = %+v, %v", got, err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := b.artefacts(t)[a.Reference]; n != 0 {
		t.Fatalf("EMIS holds %d artefacts of a booking cancelled before it was written", n)
	}
	if _, err := b.svc.Slot(ctx, b.group, slot.ID); err != nil {
		t.Fatalf("the slot is not free again: %v", err)
	}
}

func TestAPlaceholderReceptionReplacedWithABookingInEMISBecomesBooked(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, matching.Demographics{FamilyName: "Unknownish", GivenName: "Lee", DateOfBirth: "1966-06-06"})
	b.follow(t)
	// Reception removes the placeholder and books the patient they found, in EMIS itself.
	sl := b.emisSlot(t, slot.ID)
	empty := ""
	if _, err := b.org.EditSlot(sl.DBID, sandbox.SlotEdit{SlotTypeID: 1, Notes: &empty}); err != nil {
		t.Fatal(err)
	}
	_, emisNo := b.emisPatient(t)
	if _, err := b.org.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: emisNo}); err != nil {
		t.Fatal(err)
	}
	b.follow(t)
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked (reconciled in EMIS)", got.State)
	}
	placeholders, _, _ := b.svc.StaffQueue(ctx, b.practiceID)
	if len(placeholders) != 0 {
		t.Fatalf("the reconciled placeholder is still listed for staff: %+v", placeholders)
	}
}

// allowed is the state machine of docs/architecture.md: every change a run may observe.
var allowed = map[booking.State][]booking.State{
	booking.StateReserved:    {booking.StateExpired, booking.StateCancelled, booking.StateConfirming},
	booking.StateConfirming:  {booking.StateBooked, booking.StatePlaceholder, booking.StateFailed, booking.StateCancelled},
	booking.StateBooked:      {booking.StateCancelled},
	booking.StatePlaceholder: {booking.StateBooked, booking.StateCancelled, booking.StateFailed},
}

// TestBookingStateMachineProperties drives random sequences of partner, staff, EMIS and
// worker actions over a few slots and checks after every action that no slot has two live
// appointments and that every state change is one the state machine allows; after each
// sequence the write-backs drain and EMIS must hold exactly one artefact per booked or
// placeholder appointment and none for the others.
func TestBookingStateMachineProperties(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pool := b.freeSlots(t, 300)
	next := 0
	rapid.Check(t, func(rt *rapid.T) {
		// Each sequence gets three slots of its own; the clock it moves is moved back after.
		slots := pool[next%len(pool) : next%len(pool)+3]
		next += 3
		var moved time.Duration
		defer func() { b.clock.advance(-moved) }()
		known, _ := b.emisPatient(t)
		var ids []string
		states := map[string]booking.State{}
		observe := func(action string) {
			for _, id := range ids {
				now := b.get(t, id).State
				if was := states[id]; was != now && !slices.Contains(allowed[was], now) {
					rt.Fatalf("after %s: %s went from %s to %s", action, id, was, now)
				}
				states[id] = now
			}
			// The sweep must re-enqueue exactly the rows the write-back has work for: its SQL
			// restates goalOf, and a row it missed would never reach EMIS if its job were lost.
			listed, err := b.store.AppointmentsNeedingEMIS(ctx, b.clock.now().Add(-15*time.Minute), 100000)
			if err != nil {
				rt.Fatal(err)
			}
			for _, id := range ids {
				row, _ := b.store.Appointment(ctx, b.store.DBQ(), id)
				if work, in := b.svc.HasEMISWork(row), slices.Contains(listed, id); work != in {
					rt.Fatalf("after %s: %s (%s, written %q, unknown %v, patient %d, rule %q): write-back has work %v, sweep lists it %v",
						action, row.Reference, row.State, row.EMISWritten, row.WriteUnknown, row.EMISPatientID, row.MatchRule, work, in)
				}
			}
			live := map[string]int{}
			for _, id := range ids {
				if a := b.get(t, id); a.State.Live() {
					live[a.SlotID]++
					if live[a.SlotID] > 1 {
						rt.Fatalf("after %s: two live appointments on %s", action, a.SlotID)
					}
				}
			}
		}
		pick := func() string { return rapid.SampledFrom(ids).Draw(rt, "appointment") }
		steps := rapid.IntRange(3, 12).Draw(rt, "steps")
		for range steps {
			action := rapid.SampledFrom([]string{"reserve", "book", "book-unknown", "cancel", "staff-cancel", "writeback", "expire", "reschedule", "reception-books"}).Draw(rt, "action")
			if len(ids) == 0 {
				action = "reserve"
			}
			switch action {
			case "reserve":
				s := rapid.SampledFrom(slots).Draw(rt, "slot")
				if a, err := b.svc.Reserve(ctx, b.group, "key", booking.ReserveRequest{SlotID: s.ID}); err == nil {
					ids = append(ids, a.ID)
					states[a.ID] = booking.StateReserved
				}
			case "book":
				_, _ = b.svc.Book(ctx, b.group, pick(), booking.PatientInput{Demographics: known})
			case "book-unknown":
				_, _ = b.svc.Book(ctx, b.group, pick(), booking.PatientInput{Demographics: matching.Demographics{FamilyName: "Nobodyknows", GivenName: "Al", DateOfBirth: "2001-01-01"}})
			case "cancel":
				_, _ = b.svc.Cancel(ctx, b.group, pick(), booking.CancelRequest{})
			case "staff-cancel":
				_, _ = b.svc.StaffCancel(ctx, b.practiceID, pick(), "", "staff")
			case "writeback":
				_ = b.svc.Writeback(ctx, pick())
			case "expire":
				b.clock.advance(16 * time.Minute)
				moved += 16 * time.Minute
				_, _ = b.store.ExpireHolds(ctx)
			case "reschedule":
				s := rapid.SampledFrom(slots).Draw(rt, "new slot")
				if a, err := b.svc.Reschedule(ctx, b.group, pick(), booking.ReserveRequest{SlotID: s.ID}); err == nil {
					ids = append(ids, a.ID)
					states[a.ID] = booking.StateConfirming
				}
			case "reception-books":
				s := rapid.SampledFrom(slots).Draw(rt, "slot reception books")
				_, emisNo := b.emisPatient(t)
				_, _ = b.org.ReceptionBook(sandbox.BookInput{SlotID: b.emisSlot(t, s.ID).DBID, PatientID: emisNo})
			}
			observe(action)
		}
		// Drain: run every write-back until nothing is left to do.
		for range 5 {
			for _, id := range ids {
				if err := b.svc.Writeback(ctx, id); err != nil {
					var snooze *river.JobSnoozeError
					if !errors.As(err, &snooze) {
						rt.Fatalf("write-back of %s: %v", id, err)
					}
				}
			}
			observe("drain")
		}
		arte := b.artefacts(t)
		for _, id := range ids {
			a := b.get(t, id)
			want := 0
			if a.State == booking.StateBooked || a.State == booking.StatePlaceholder {
				want = 1
			}
			if a.State == booking.StateConfirming {
				rt.Fatalf("%s still confirming after the drain", a.Reference)
			}
			if got := arte[a.Reference]; got != want {
				rt.Fatalf("%s is %s and EMIS holds %d artefacts of it, want %d", a.Reference, a.State, got, want)
			}
		}
	})
}

func TestAPlaceholderNotReplacedWithinTenMinutesRaisesTheUnregisteredPatientAlert(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	b.written(t, b.freeSlots(t, 1)[0].ID, matching.Demographics{FamilyName: "Alertcase", GivenName: "Kim", DateOfBirth: "1982-08-08"})
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	placeholders, _, _ := b.svc.StaffQueue(ctx, b.practiceID)
	if len(placeholders) != 1 || placeholders[0].Alerted {
		t.Fatalf("alerted too early: %+v", placeholders)
	}
	b.clock.advance(11 * time.Minute)
	for range 2 { // the second sweep must not alert again
		if err := b.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	placeholders, _, _ = b.svc.StaffQueue(ctx, b.practiceID)
	if len(placeholders) != 1 || !placeholders[0].Alerted {
		t.Fatalf("no alert after 11 minutes: %+v", placeholders)
	}
	audit, _ := b.store.ListAudit(ctx, b.practiceID, 50)
	n := 0
	for _, e := range audit {
		if e.Action == "unregistered_patient_alert" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d unregistered patient alerts in the audit trail, want 1", n)
	}
}

func TestAnEMISChangeThatCannotBeConfirmedNowDoesNotHoldUpTheFeed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, d)
	b.follow(t)
	if err := b.org.ReceptionCancel(b.emisSlot(t, slot.ID).DBID); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1}) // the read-back cannot confirm it now
	if _, err := b.svc.FollowDiary(ctx); err != nil {
		t.Fatalf("the feed stopped on one practice's EMIS: %v", err)
	}
	if n, _ := b.svc.FollowDiary(ctx); n != 0 {
		t.Fatalf("the feed's cursor did not move past the change: %d read again", n)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("cancelled without confirming with EMIS: %s", got.State)
	}
	setFaults(t, b, sandbox.FaultConfig{})
	stop := b.startRiver(t)
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for b.get(t, a.ID).State != booking.StateCancelled {
		if time.Now().After(deadline) {
			t.Fatal("the retried change never cancelled the booking")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTheBookingCoreNeverLogsThePatientsDetails(t *testing.T) {
	b := setup(t)
	var logs strings.Builder
	var mu sync.Mutex
	b.svc.Log = slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	stranger := matching.Demographics{FamilyName: "Zzyzx-Private", GivenName: "Quentin", DateOfBirth: "1961-12-25", Postcode: "YO1 7HH"}
	slots := b.freeSlots(t, 2)
	known := b.confirmed(t, slots[0].ID, d)
	unknown := b.confirmed(t, slots[1].ID, stranger)
	b.svc.AlertAfter, b.svc.PlaceholderAlertAfter = time.Nanosecond, time.Nanosecond
	setFaults(t, b, sandbox.FaultConfig{ErrorRate: 1}) // errors and alerts get logged
	_ = b.svc.Writeback(ctx, known.ID)
	_ = b.svc.Writeback(ctx, unknown.ID)
	setFaults(t, b, sandbox.FaultConfig{})
	for _, id := range []string{known.ID, unknown.ID} {
		if err := b.writeback(t, id); err != nil {
			t.Fatal(err)
		}
	}
	b.clock.advance(time.Minute)
	if err := b.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "unregistered patient alert") || !strings.Contains(out, "write-back did not complete") {
		t.Fatalf("the test did not exercise the logging it checks:\n%s", out)
	}
	for _, secret := range []string{d.FamilyName, d.NHSNumber, d.DateOfBirth, stranger.FamilyName, stranger.GivenName, stranger.DateOfBirth, stranger.Postcode, "07700 900123"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds the patient's %q:\n%s", secret, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
