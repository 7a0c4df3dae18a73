package booking_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/matching"
	"herolink/internal/practice"
	"herolink/internal/store"
)

var stranger = matching.Demographics{FamilyName: "Nobody-Known", GivenName: "Pat", DateOfBirth: "1990-01-01", Postcode: "ZZ9 9ZZ"}

// waits runs the write-back of a booking that needs a placeholder and checks that it waits:
// still confirming, nothing written in EMIS, staff alerted with the reason.
func (b *bundle) waits(t *testing.T, a booking.Appointment, slot string, reasonHas ...string) {
	t.Helper()
	err := b.svc.Writeback(context.Background(), a.ID)
	var wait *booking.PlaceholderWaitError
	if !errors.As(err, &wait) {
		t.Fatalf("write-back = %v, want it to wait for the slot type", err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateConfirming {
		t.Fatalf("state = %s (failure %q), want confirming: the booking waits", got.State, got.FailureCode)
	}
	if sl := b.emisSlot(t, slot); sl.Notes != "" {
		t.Fatalf("EMIS slot = %+v, want nothing written while the slot type cannot take a placeholder", sl)
	}
	_, waiting, err := b.svc.StaffQueue(context.Background(), b.practiceID)
	if err != nil || len(waiting) != 1 || !waiting[0].Alerted {
		t.Fatalf("staff queue: %+v, %v; want the booking waiting, staff alerted", waiting, err)
	}
	for _, want := range reasonHas {
		if !strings.Contains(waiting[0].LastError, want) {
			t.Fatalf("staff are told %q; it lacks %q", waiting[0].LastError, want)
		}
	}
}

func TestABookingNeedingAPlaceholderWaitsWhileTheSlotTypeIsUnbookableAndCompletesWhenItIsBack(t *testing.T) {
	b := setup(t)
	unreg := unregisteredType(t, b)
	no, yes := false, true
	if _, err := b.org.EditSlotType(unreg, sandbox.SlotTypeInput{Bookable: &no}); err != nil {
		t.Fatal(err)
	}
	slot := b.freeSlots(t, 1)[0]
	a := b.confirmed(t, slot.ID, stranger)
	b.waits(t, a, slot.ID, "not bookable", "Appts config", "tick Bookable")

	if _, err := b.org.EditSlotType(unreg, sandbox.SlotTypeInput{Bookable: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder once the slot type is bookable again", got.State)
	}
	if sl := b.emisSlot(t, slot.ID); sl.Type.TypeID != unreg || !strings.Contains(sl.Notes, a.Reference) {
		t.Fatalf("EMIS slot = %+v, want the placeholder", sl)
	}
}

// Deleting the slot type in EMIS used to fail the booking at once with a false "slot no
// longer exists": EMIS answers "not found" for the slot type, not the slot.
func TestABookingNeedingAPlaceholderWaitsWhileTheSlotTypeIsDeletedAndCompletesWithItsReplacement(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	unreg := unregisteredType(t, b)
	if err := b.org.DeleteSlotType(unreg); err != nil {
		t.Fatal(err)
	}
	slot := b.freeSlots(t, 1)[0]
	a := b.confirmed(t, slot.ID, stranger)
	b.waits(t, a, slot.ID, "deleted in EMIS", "click Add", "Hero unregistered patient")

	// The practice follows the guide again, and staff give the feature to the new slot type.
	name, colour := "Hero unregistered patient", "#ffeb3b"
	yes := true
	added, err := b.org.AddSlotType(sandbox.SlotTypeInput{Name: &name, Colour: &colour, Bookable: &yes})
	if err != nil {
		t.Fatal(err)
	}
	maps := &mapping.Service{Store: b.store, Conns: b.practices}
	if _, err := maps.RefreshFromEMIS(ctx, "staff", b.practiceID); err != nil {
		t.Fatal(err)
	}
	if _, err := maps.SetFeature(ctx, "staff", b.practiceID, unreg, store.FeatureNotBookable); err != nil {
		t.Fatal(err)
	}
	if _, err := maps.SetFeature(ctx, "staff", b.practiceID, added.ID, store.FeatureUnregistered); err != nil {
		t.Fatal(err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s (failure %q), want placeholder", got.State, got.FailureCode)
	}
	if sl := b.emisSlot(t, slot.ID); sl.Type.TypeID != added.ID {
		t.Fatalf("EMIS slot = %+v, want the new slot type %d", sl, added.ID)
	}
}

// A rename keeps the EMIS id: placeholders still reserve the time, under the new name.
func TestARenamedUnregisteredSlotTypeStillTakesPlaceholders(t *testing.T) {
	b := setup(t)
	unreg := unregisteredType(t, b)
	name := "Online walk-in"
	if _, err := b.org.EditSlotType(unreg, sandbox.SlotTypeInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	slot := b.freeSlots(t, 1)[0]
	a := b.written(t, slot.ID, stranger)
	if got := b.get(t, a.ID); got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	if sl := b.emisSlot(t, slot.ID); sl.Type.TypeID != unreg || sl.Type.Description != name {
		t.Fatalf("EMIS slot type = %+v, want %d %q", sl.Type, unreg, name)
	}
}

func TestWhileEMISRefusesThePracticesCredentialsNewHoldsAreRefusedAndConfirmedBookingsWaitUntilFixed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, emisNo := b.emisPatient(t)
	slots := b.freeSlots(t, 2)
	a := b.confirmed(t, slots[0].ID, d)

	// Someone sets a fresh API password in EMAS Manager → Edit Users; the health check notices.
	if err := b.org.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "FreshApi2027x"); err != nil {
		t.Fatal(err)
	}
	if u, _ := b.practices.CheckHealth(ctx, b.practiceID); u.Status != store.HealthFailing {
		t.Fatalf("health = %+v, want failing", u)
	}
	_, err := b.svc.Reserve(ctx, b.group, "key_test", booking.ReserveRequest{SlotID: slots[1].ID})
	wantCode(t, err, booking.CodePracticeUnavailable)
	for _, secret := range []string{"password", "API", "EMIS", "credential", "Herouser", "A81001", "refused"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("the partner is told why (%q): %v", secret, err)
		}
	}
	if err := b.svc.Writeback(ctx, a.ID); err == nil {
		t.Fatal("the write-back succeeded with credentials EMIS refuses")
	}
	if got := b.get(t, a.ID); got.State != booking.StateConfirming {
		t.Fatalf("state = %s, want confirming: the booking waits", got.State)
	}

	// The practice enters the new API password: the waiting booking completes, holds are taken.
	res, err := b.practices.Connect(ctx, practice.Actor{Name: "pm"}, practice.ConnectRequest{Replace: true,
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: "FreshApi2027x"}, Spaces: practice.SpacesKeep})
	if err != nil || !res.Saved {
		t.Fatalf("reconnect: %+v, %v", res, err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked {
		t.Fatalf("state = %s, want booked once the practice fixed its credentials", got.State)
	}
	if sl := b.emisSlot(t, slots[0].ID); len(sl.Patients) != 1 || sl.Patients[0].DBID != emisNo {
		t.Fatalf("EMIS slot = %+v", sl)
	}
	if _, err := b.svc.Reserve(ctx, b.group, "key_test", booking.ReserveRequest{SlotID: slots[1].ID}); err != nil {
		t.Fatalf("a hold after the fix: %v", err)
	}
}

// A passing EMIS error degrades the connection but does not stop bookings: they wait for EMIS.
func TestADegradedConnectionStillTakesHolds(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	if err := b.world.SetFaults(sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: 1}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := b.practices.CheckHealth(ctx, b.practiceID); u.Status != store.HealthDegraded {
		t.Fatalf("health = %+v, want degraded", u)
	}
	if _, err := b.svc.Reserve(ctx, b.group, "key_test", booking.ReserveRequest{SlotID: b.freeSlots(t, 1)[0].ID}); err != nil {
		t.Fatalf("hold while EMIS errors: %v", err)
	}
}

func TestASlotSearchInThePastOrBeyondTheSyncedWindowIsRefusedNamingTheWindow(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	now := time.Now()
	first, last := b.svc.SyncWindow()
	day := func(n int) time.Time { return now.AddDate(0, 0, n) }
	for _, c := range []struct {
		name     string
		from, to time.Time
		field    string
	}{
		{"wholly in the past", day(-10), day(-3), "end_date"},
		{"wholly beyond the window", day(15), day(20), "start_date"},
		{"overlapping the past", day(-3), day(3), ""},
		{"overlapping the window's end", day(10), day(20), ""},
	} {
		_, err := b.svc.Slots(ctx, b.group, booking.SlotQuery{From: c.from, To: c.to})
		if c.field == "" {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			continue
		}
		var be *booking.Error
		if !asError(err, &be) || be.Code != booking.CodeInvalid || len(be.Fields) != 1 || be.Fields[0].Field != c.field {
			t.Fatalf("%s: %v, want a validation error on %s", c.name, err, c.field)
		}
		if !strings.Contains(be.Message, first.String()) || !strings.Contains(be.Message, last.String()) || !strings.Contains(be.Message, "14 days") {
			t.Fatalf("%s: %q does not name the window %s to %s", c.name, be.Message, first, last)
		}
	}
	// The window follows the sync horizon.
	b.svc.SyncHorizonDays = 7
	_, err := b.svc.Slots(ctx, b.group, booking.SlotQuery{From: day(8), To: day(9)})
	wantCode(t, err, booking.CodeInvalid)
	if !strings.Contains(err.Error(), "7 days") {
		t.Fatalf("horizon 7: %v", err)
	}
}
