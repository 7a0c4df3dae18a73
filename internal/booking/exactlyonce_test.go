package booking_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/jobs"
	"herolink/internal/matching"
)

// startRiver runs the write-back workers until the returned stop is called. stop cancels
// jobs mid-call, as a killed process would leave them.
func (b *bundle) startRiver(t *testing.T) (stop func()) {
	t.Helper()
	workers := river.NewWorkers()
	booking.AddWorkers(workers, b.svc)
	rc, err := jobs.New(b.store, &river.Config{
		Queues:               map[string]river.QueueConfig{booking.WritebackQueue: {MaxWorkers: 8}},
		Workers:              workers,
		FetchCooldown:        20 * time.Millisecond,
		FetchPollInterval:    50 * time.Millisecond,
		JobTimeout:           time.Second,
		RescueStuckJobsAfter: time.Second,
		Logger:               b.svc.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.svc.River = rc
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := rc.StopAndCancel(ctx); err != nil {
			t.Logf("stop river: %v", err)
		}
	}
}

// TestEachConfirmedBookingExistsInEMISExactlyOnceAfterFaultsAndRestarts confirms bookings for
// matched and unmatched patients, then runs the write-back through rounds of EMIS errors,
// timeouts (half of them after the write applied), resets and process kills, and finally
// lets it drain. Every booking must end booked or placeholder with exactly one artefact in
// EMIS carrying its reference. HEROLINK_EXACTLY_ONCE_SEED replays a failing seed.
func TestEachConfirmedBookingExistsInEMISExactlyOnceAfterFaultsAndRestarts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HEROLINK_EXACTLY_ONCE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (HEROLINK_EXACTLY_ONCE_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := setup(t)
	ctx := context.Background()
	const n = 24
	slots := b.freeSlots(t, n)
	ids := make([]string, n)
	for i := range n {
		var d matching.Demographics
		if rng.IntN(3) == 0 {
			d = matching.Demographics{FamilyName: fmt.Sprintf("Stranger%c", 'a'+i), GivenName: "Sam", DateOfBirth: "1991-02-03"}
		} else {
			d, _ = b.emisPatient(t)
		}
		ids[i] = b.confirmed(t, slots[i].ID, d).ID
	}
	// Some are cancelled by the patient while the faults rage.
	cancelled := map[string]bool{}
	for rounds := 1 + rng.IntN(3); rounds > 0; rounds-- {
		f := sandbox.FaultConfig{ErrorRate: 0.1, TimeoutRate: 0.025, TimeoutAfterWriteRate: 0.025, ResetRate: 0.05, StallMS: 3500}
		setFaults(t, b, f)
		stop := b.startRiver(t)
		if err := b.svc.Sweep(ctx); err != nil {
			t.Logf("sweep under faults: %v", err)
		}
		if rng.IntN(2) == 0 {
			id := ids[rng.IntN(n)]
			if _, err := b.svc.Cancel(ctx, b.group, id, booking.CancelRequest{Reason: "test"}); err == nil {
				cancelled[id] = true
			}
		}
		time.Sleep(time.Duration(200+rng.IntN(2500)) * time.Millisecond)
		stop()                           // killed mid-flight
		b.clock.advance(4 * time.Minute) // a killed worker's lease lapses
	}
	setFaults(t, b, sandbox.FaultConfig{})
	stop := b.startRiver(t)
	defer stop()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := b.svc.Sweep(ctx); err != nil {
			t.Logf("sweep: %v", err)
		}
		settled := true
		for _, id := range ids {
			a := b.get(t, id)
			row, _ := b.store.Appointment(ctx, b.store.DBQ(), id)
			if a.State == booking.StateConfirming || (a.State == booking.StateCancelled && (row.EMISWritten != "" || row.WriteUnknown)) {
				settled = false
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write-backs did not drain within 60 s of EMIS recovering")
		}
		time.Sleep(200 * time.Millisecond)
	}
	arte := b.artefacts(t)
	counts := map[booking.State]int{}
	for _, id := range ids {
		a := b.get(t, id)
		counts[a.State]++
		want := 1
		switch a.State {
		case booking.StateBooked, booking.StatePlaceholder:
		case booking.StateCancelled:
			want = 0
			if !cancelled[id] {
				t.Errorf("%s was cancelled but nobody cancelled it", a.Reference)
			}
		default:
			t.Errorf("%s ended %s (%s); want booked or placeholder", a.Reference, a.State, a.FailureCode)
		}
		if got := arte[a.Reference]; got != want {
			t.Errorf("%s (%s): EMIS holds %d artefacts, want %d", a.Reference, a.State, got, want)
		}
	}
	t.Logf("outcomes: %v", counts)
}
