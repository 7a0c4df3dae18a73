package app_test

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/app"
	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/matching"
	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// A running instance resumes a booking whose worker died as soon as the lease lapses, without
// waiting for River's leader to sweep: here the leader's sweep has run and the next is an hour
// away, so only the orphan watch every instance runs can finish the booking.
func TestARunningInstanceResumesADeadWorkersBookingWithoutWaitingForTheSweep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, emisURL, url := sandboxAndDatabase(t)
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: url, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		BookingSweepInterval: time.Hour, OrphanWatchInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	info, err := a.SeedDemo(ctx, "http://admin", emisURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	must(t, err)
	must(t, a.Mapping.AdoptDefaults(ctx, "test", p.ID))
	today := emis.Today(time.Now())
	if _, err := a.Sync.Engine.Sync(ctx, p.ID, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}
	page, err := a.Booking.Slots(ctx, info.PracticeGroupID, booking.SlotQuery{From: time.Now(), To: time.Now().Add(13 * 24 * time.Hour), Limit: 1})
	if err != nil || len(page.Slots) == 0 {
		t.Fatalf("slots: %v %v", page, err)
	}
	held, err := a.Booking.Reserve(ctx, info.PracticeGroupID, "", booking.ReserveRequest{SlotID: page.Slots[0].ID, Description: "Sore throat"})
	must(t, err)
	if _, err := a.Booking.Book(ctx, info.PracticeGroupID, held.ID, booking.PatientInput{
		Demographics: matching.Demographics{FamilyName: "Visitor", GivenName: "Sam", DateOfBirth: "1990-06-15"}}); err != nil {
		t.Fatal(err)
	}
	// Before the instance starts, leave the booking as a killed process leaves it: River lists
	// its job as running (since 10 s ago: River's own rescue of stuck jobs waits 45 s), and a
	// dead worker's lease, held for now, is on the appointment.
	res, err := a.River.JobList(ctx, river.NewJobListParams().Kinds(booking.WritebackArgs{}.Kind()))
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("want the booking's one write-back job: %v %v", res, err)
	}
	if _, err := a.Store.DBQ().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ? WHERE id = ?`,
		time.Now().Add(-10*time.Second).UTC(), res.Jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Store.LeaseAppointment(ctx, held.ID, "lease_dead", time.Hour); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	// Wait for the leader's sweep at start, which finds the lease held and leaves the booking.
	for {
		res, err := a.River.JobList(ctx, river.NewJobListParams().Kinds(booking.SweepArgs{}.Kind()).States(rivertype.JobStateCompleted))
		must(t, err)
		if len(res.Jobs) > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the booking sweep never ran at start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, err := a.Booking.Appointment(ctx, info.PracticeGroupID, held.ID); err != nil || got.State != booking.StateConfirming {
		t.Fatalf("before the lease lapsed the booking is %s (%v), want confirming", got.State, err)
	}
	// The dead worker's lease lapses.
	if _, err := a.Store.DBQ().ExecContext(ctx, `UPDATE appointments SET lease_until = ? WHERE id = ?`,
		time.Now().Add(-time.Second).UnixMilli(), held.ID); err != nil {
		t.Fatal(err)
	}
	lapsed := time.Now()
	for {
		got, err := a.Booking.Appointment(ctx, info.PracticeGroupID, held.ID)
		must(t, err)
		if got.State != booking.StateConfirming {
			if got.State != booking.StatePlaceholder { // Sam Visitor is not on the register
				t.Fatalf("resumed booking ended %s, want placeholder", got.State)
			}
			t.Logf("resumed %s after the lease lapsed", time.Since(lapsed).Round(time.Millisecond))
			return
		}
		if time.Since(lapsed) > 10*time.Second {
			t.Fatal("the booking was not resumed within 10 s of its lease lapsing")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sandboxAndDatabase starts an EMIS sandbox with the demo practice set up, and gives the
// database URL for the engine the tests run on ("" for SQLite).
func sandboxAndDatabase(t *testing.T) (world *sandbox.World, emisURL, databaseURL string) {
	t.Helper()
	world = sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	t.Cleanup(emisSrv.Close)
	if storetest.Engine() == store.Postgres {
		databaseURL = storetest.URL(t)
	}
	return world, emisSrv.URL, databaseURL
}
