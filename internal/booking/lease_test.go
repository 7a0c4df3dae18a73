package booking_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// TestAWorkerWhoseBookingWasTakenOverCannotWriteIt stalls a write-back just before its write
// until its lease has lapsed, lets a second worker take the booking over and write it, then
// lets the first go on: its write must be refused by the lease's token, so EMIS receives one
// BookAppointment and the booking ends booked, not "slot taken" by its own twin.
func TestAWorkerWhoseBookingWasTakenOverCannotWriteIt(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
	before, _ := b.world.Stats(sandbox.DemoCDB)
	var once sync.Once
	var second error
	stalled := booking.WithBeforeWrite(context.Background(), func() {
		once.Do(func() {
			b.clock.advance(time.Minute) // the first worker stalls past its lease
			second = b.svc.Writeback(context.Background(), a.ID)
		})
	})
	if err := b.svc.Writeback(stalled, a.ID); err != nil {
		t.Fatalf("the stalled worker: %v", err)
	}
	if second != nil {
		t.Fatalf("the worker that took over: %v", second)
	}
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if n := after.Calls[emis.MethodBookAppointment] - before.Calls[emis.MethodBookAppointment]; n != 1 {
		t.Errorf("EMIS received %d BookAppointment calls for one booking, want 1", n)
	}
	got := b.get(t, a.ID)
	if got.State != booking.StateBooked {
		t.Errorf("the booking ended %s (%s), want booked", got.State, got.FailureCode)
	}
	if n := b.artefacts(t)[got.Reference]; n != 1 {
		t.Errorf("EMIS holds %d artefacts for %s, want 1", n, got.Reference)
	}
}

// TestALiveWorkerKeepsItsLeaseAndALostLeaseStopsIt: a renewed lease stays held, an unrenewed
// one lapses after 20 s and can be taken, and its first holder can no longer renew it.
func TestALiveWorkerKeepsItsLeaseAndALostLeaseStopsIt(t *testing.T) {
	b := setup(t)
	d, _ := b.emisPatient(t)
	a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
	ctx := context.Background()
	ok, err := b.store.LeaseAppointment(ctx, a.ID, "tok_a", 20*time.Second)
	if err != nil || !ok {
		t.Fatalf("take the lease: %v %v", ok, err)
	}
	if ok, err := b.store.RenewLease(ctx, a.ID, "tok_a", 20*time.Second); err != nil || !ok {
		t.Fatalf("the holder could not renew its live lease: %v %v", ok, err)
	}
	if free, _ := b.store.LeaseFree(ctx, a.ID); free {
		t.Fatal("a renewed lease is reported free")
	}
	b.clock.advance(21 * time.Second)
	if free, _ := b.store.LeaseFree(ctx, a.ID); !free {
		t.Fatal("a lease not renewed for 21 s is still held")
	}
	if ok, _ := b.store.LeaseAppointment(ctx, a.ID, "tok_b", 20*time.Second); !ok {
		t.Fatal("another worker could not take a lapsed lease")
	}
	if ok, err := b.store.RenewLease(ctx, a.ID, "tok_a", 20*time.Second); err != nil || ok {
		t.Fatalf("the first worker renewed a lease another worker now holds: %v %v", ok, err)
	}
}

// TestABookingWhoseWorkerDiedIsResumedOnceItsLeaseLapses leaves a write-back as a killed
// process does (River still lists its job as running; the appointment's lease, no longer
// renewed, lapses): the orphan watch gives it a new job while the lease is free, not before,
// and that job writes the booking once.
func TestABookingWhoseWorkerDiedIsResumedOnceItsLeaseLapses(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	d, _ := b.emisPatient(t)
	a := b.confirmed(t, b.freeSlots(t, 1)[0].ID, d)
	jobs, err := b.river.JobList(ctx, river.NewJobListParams().Kinds(booking.WritebackArgs{}.Kind()))
	if err != nil || len(jobs.Jobs) != 1 {
		t.Fatalf("want the confirmation's one job: %v %v", jobs, err)
	}
	dead := jobs.Jobs[0].ID
	// The process died mid-run: River's row says running, the lease is the dead worker's.
	if _, err := b.store.DBQ().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE id = ?`,
		time.Now().Add(-time.Minute).UTC(), dead); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.store.LeaseAppointment(ctx, a.ID, "lease_dead", 20*time.Second); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	takeovers := func() []int64 {
		t.Helper()
		res, err := b.river.JobList(ctx, river.NewJobListParams().Kinds(booking.WritebackArgs{}.Kind()).
			States(rivertype.JobStateAvailable))
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, j := range res.Jobs {
			var args booking.WritebackArgs
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				t.Fatal(err)
			}
			if args.AppointmentID == a.ID {
				out = append(out, args.Takeover)
			}
		}
		return out
	}
	if err := b.svc.ResumeOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	if got := takeovers(); len(got) != 0 {
		t.Fatalf("a job was enqueued while the lease was still held: %v", got)
	}
	b.clock.advance(21 * time.Second) // nobody renews it
	if err := b.svc.ResumeOrphans(ctx); err != nil {
		t.Fatal(err)
	}
	if got := takeovers(); len(got) != 1 || got[0] != dead {
		t.Fatalf("after the lease lapsed the orphan watch enqueued %v, want one job taking over job %d", got, dead)
	}
	if err := b.svc.ResumeOrphans(ctx); err != nil || len(takeovers()) != 1 {
		t.Fatalf("a second look enqueued another job: %v %v", takeovers(), err)
	}
	if err := b.writeback(t, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.get(t, a.ID); got.State != booking.StateBooked || b.artefacts(t)[got.Reference] != 1 {
		t.Fatalf("the resumed booking ended %s with %d artefacts, want booked with 1", got.State, b.artefacts(t)[got.Reference])
	}
}
