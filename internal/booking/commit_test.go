package booking_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"herolink/internal/booking"
	"herolink/internal/store"
)

// Each partner operation runs the commit hook inside its own transaction, with what it made:
// a hook that fails undoes the operation, so what the hook records (an Idempotency-Key's use)
// and the operation commit together or not at all.
func TestAnOperationAndItsCommitHookCommitTogetherOrNotAtAll(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	errRefused := errors.New("the hook refused")
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := b.store.DBQ().QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	failing := booking.WithCommitHook(ctx, func(context.Context, *store.Tx, string) error { return errRefused })
	var ref string
	recording := booking.WithCommitHook(ctx, func(_ context.Context, tx *store.Tx, r string) error {
		ref = r
		return nil
	})
	slots := b.freeSlots(t, 2)
	d, _ := b.emisPatient(t)

	// Register.
	if _, err := b.svc.RegisterPatient(failing, b.group, booking.PatientInput{Demographics: d}); !errors.Is(err, errRefused) {
		t.Fatalf("register: %v", err)
	}
	if n := count(`SELECT COUNT(*) FROM patients`); n != 0 {
		t.Fatalf("a refused hook left %d patients", n)
	}
	pt, err := b.svc.RegisterPatient(recording, b.group, booking.PatientInput{Demographics: d})
	if err != nil || ref != pt.ID {
		t.Fatalf("register: hook saw %q for %+v, %v", ref, pt, err)
	}

	// Reserve.
	if _, err := b.svc.Reserve(failing, b.group, "key_test", booking.ReserveRequest{SlotID: slots[0].ID}); !errors.Is(err, errRefused) {
		t.Fatalf("reserve: %v", err)
	}
	if n := count(`SELECT COUNT(*) FROM appointments`); n != 0 {
		t.Fatalf("a refused hook left %d holds", n)
	}
	a, err := b.svc.Reserve(recording, b.group, "key_test", booking.ReserveRequest{SlotID: slots[0].ID})
	if err != nil || ref != a.ID {
		t.Fatalf("reserve: hook saw %q for %+v, %v", ref, a, err)
	}

	// Book.
	if _, err := b.svc.Book(failing, b.group, a.ID, booking.PatientInput{PatientID: pt.ID}); !errors.Is(err, errRefused) {
		t.Fatalf("book: %v", err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateReserved {
		t.Fatalf("a refused hook left the hold %s", got.State)
	}
	if n := count(`SELECT COUNT(*) FROM river_job`); n != 0 {
		t.Fatalf("a refused hook left %d write-back jobs", n)
	}
	if _, err := b.svc.Book(recording, b.group, a.ID, booking.PatientInput{PatientID: pt.ID}); err != nil || ref != a.ID {
		t.Fatalf("book: hook saw %q, %v", ref, err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}

	// Reschedule.
	before := count(`SELECT COUNT(*) FROM appointments`)
	if _, err := b.svc.Reschedule(failing, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID}); !errors.Is(err, errRefused) {
		t.Fatalf("reschedule: %v", err)
	}
	if n := count(`SELECT COUNT(*) FROM appointments`); n != before {
		t.Fatalf("a refused hook left %d new appointments", n-before)
	}
	next, err := b.svc.Reschedule(recording, b.group, a.ID, booking.ReserveRequest{SlotID: slots[1].ID})
	if err != nil || ref != next.ID {
		t.Fatalf("reschedule: hook saw %q for %+v, %v", ref, next, err)
	}
}

// Holds arriving together commit in one transaction, but one whose operation has a commit hook
// (an Idempotency-Key's record) commits alone: each hook runs, in its own hold's transaction.
func TestHoldsWithCommitHooksArrivingTogetherEachRunTheirOwnHook(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	slots := b.freeSlots(t, 20)
	var mu sync.Mutex
	seen := map[string]string{} // hold id -> the slot its hook was given with
	var wg sync.WaitGroup
	errs := make([]error, len(slots))
	for i, sl := range slots {
		wg.Go(func() {
			var ref string
			hooked := booking.WithCommitHook(ctx, func(_ context.Context, _ *store.Tx, r string) error {
				ref = r
				return nil
			})
			a, err := b.svc.Reserve(hooked, b.group, "key_test", booking.ReserveRequest{SlotID: sl.ID})
			errs[i] = err
			if err == nil {
				mu.Lock()
				seen[a.ID] = ref
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("hold %d: %v", i, err)
		}
	}
	for id, ref := range seen {
		if ref != id {
			t.Errorf("hold %s: its hook ran with %q; want its own id (a hook not run leaves an Idempotency-Key unrecorded)", id, ref)
		}
	}
}
