package sandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

func setFaults(t *testing.T, b *testBundle, f sandbox.Faults) {
	t.Helper()
	b.mustAdmin(t, 200, "PUT", "/sandbox/v1/faults", f)
}

func TestInjectedErrorAnswers503AndAppliesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: 1}})
	_, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001})
	var te *emis.TransportError
	if !errors.As(err, &te) || te.StatusCode != 503 {
		t.Fatalf("err = %v, want HTTP 503", err)
	}
	setFaults(t, b, sandbox.Faults{})
	if sl := slotNow(t, b, free.DBID); sl.Status != emis.SlotAvailable {
		t.Fatalf("an injected error applied the booking: %+v", sl)
	}
}

func slotNow(t *testing.T, b *testBundle, id int64) emis.Slot {
	t.Helper()
	return mustDecodeWire[emis.Slot](t, b.mustAdmin(t, 200, "GET", demoOrg+"/slots/"+strconv.FormatInt(id, 10), nil))
}

func TestTimeoutAfterWriteLeavesTheBookingAppliedButUnanswered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, _ := connected(t, sandbox.Options{Seed: 1})
	impatient, _ := emis.NewCaller(emis.Config{BaseURL: b.srv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 2 * time.Second})
	conn, err := impatient.Connect(ctx, emis.Credentials{CDB: sandbox.DemoCDB, Username: "Herouser", APIPassword: sandbox.DemoAPIPassword})
	if err != nil {
		t.Fatal(err)
	}
	free := findSlot(t, b, conn, freeFuture(b))
	other := findSlot(t, b, conn, func(s emis.Slot) bool { return freeFuture(b)(s) && s.DBID != free.DBID })

	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{TimeoutAfterWriteRate: 1, StallMS: 5000}})
	_, err = conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001})
	var te *emis.TransportError
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{TimeoutRate: 1, StallMS: 5000}})
	if _, err = conn.BookAppointment(ctx, emis.Booking{SlotID: other.DBID, PatientID: 9002}); !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	setFaults(t, b, sandbox.Faults{})
	if sl := slotNow(t, b, free.DBID); sl.Status != emis.SlotBooked || sl.Patients[0].DBID != 9001 {
		t.Fatalf("timeout after write: slot %+v, want booked for 9001", sl)
	}
	if sl := slotNow(t, b, other.DBID); sl.Status != emis.SlotAvailable {
		t.Fatalf("timeout before write: slot %+v, want still available", sl)
	}
	st, _ := b.world.Stats(0)
	if st.Faults["timeout_after_write"] != 1 || st.Faults["timeout"] != 1 {
		t.Fatalf("fault counters = %v", st.Faults)
	}
}

func TestFaultsForOnePracticeLeaveOthersAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, sandbox.Options{Seed: 1, Practices: 2, Preconfigured: true})
	setFaults(t, b, sandbox.Faults{Organisations: map[string]sandbox.FaultConfig{
		strconv.Itoa(sandbox.GeneratedCDB(1)): {ErrorRate: 1}}})
	if _, err := b.caller.Connect(ctx, emis.Credentials{CDB: sandbox.GeneratedCDB(1), Username: "Herouser", APIPassword: sandbox.GeneratedAPIPassword(1)}); err == nil {
		t.Fatal("the faulty practice connected")
	}
	if _, err := b.caller.Connect(ctx, emis.Credentials{CDB: sandbox.GeneratedCDB(2), Username: "Herouser", APIPassword: sandbox.GeneratedAPIPassword(2)}); err != nil {
		t.Fatalf("a healthy practice was affected: %v", err)
	}
}

func TestOutageWindowAndConnectionResets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	now := b.clock.Now()
	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{Outages: []sandbox.Outage{{Start: now.Add(-time.Minute), End: now.Add(time.Hour)}}}})
	var te *emis.TransportError
	if _, err := conn.GetCurrentUser(ctx); !errors.As(err, &te) || te.StatusCode != 503 {
		t.Fatalf("during the outage: %v, want 503", err)
	}
	b.clock.Advance(2 * time.Hour)
	if _, err := conn.GetCurrentUser(ctx); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{ResetRate: 1}})
	if _, err := conn.GetCurrentUser(ctx); !errors.As(err, &te) || te.StatusCode != 0 {
		t.Fatalf("reset: %v, want a transport error without HTTP status", err)
	}
}

func TestFixedLatencyDelaysEveryCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	setFaults(t, b, sandbox.Faults{Global: sandbox.FaultConfig{LatencyMS: 40}})
	start := time.Now()
	if _, err := conn.GetCurrentUser(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 40*time.Millisecond {
		t.Fatalf("call took %s with 40 ms latency injected", took)
	}
}

func TestFaultSettingsAreValidated(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	cases := []struct {
		body map[string]any
		says string
	}{
		{map[string]any{"global": map[string]any{"error_rate": 1.5}}, "between 0 and 1"},
		{map[string]any{"global": map[string]any{"error_rate": 0.6, "timeout_rate": 0.6}}, "add up to"},
		{map[string]any{"global": map[string]any{"latency_p50_ms": 100}}, "go together"},
		{map[string]any{"global": map[string]any{"latency_p50_ms": 100, "latency_p99_ms": 50}}, "below"},
		{map[string]any{"organisations": map[string]any{"abc": map[string]any{}}}, "not a CDB"},
		{map[string]any{"global": map[string]any{"eror_rate": 0.1}}, "unknown field"},
	}
	for _, c := range cases {
		status, body := b.admin(t, "PUT", "/sandbox/v1/faults", c.body)
		if status != 422 || !strings.Contains(string(body), c.says) {
			t.Errorf("%v: %d %s, want 422 saying %q", c.body, status, body, c.says)
		}
	}
	if f := b.world.Faults(); len(f.Organisations) != 0 || f.Global.ErrorRate != 0 {
		t.Fatalf("refused settings were stored: %+v", f)
	}
}

func TestStateFileKeepsChangesAcrossARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.json")
	b, conn := connected(t, sandbox.Options{Seed: 1, Practices: 2})
	free := findSlot(t, b, conn, freeFuture(b))
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001, Reason: "kept"}); err != nil {
		t.Fatal(err)
	}
	b.mustAdmin(t, 201, "POST", "/sandbox/v1/organisations", map[string]any{"ods": "Y12345", "cdb": 777, "name": "New Practice"})
	if err := b.world.SaveState(path); err != nil {
		t.Fatal(err)
	}

	again := sandbox.New(sandbox.Options{Seed: 1, Practices: 2, Now: b.clock.Now})
	if err := again.LoadState(path); err != nil {
		t.Fatal(err)
	}
	o, err := again.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := o.GetSlot(free.DBID)
	if err != nil || sl.Status != emis.SlotBooked || sl.Reason != "kept" {
		t.Fatalf("after restart the booking is %+v, %v", sl, err)
	}
	if _, err := again.OrgByODS("y12345"); err != nil {
		t.Fatalf("created organisation lost: %v", err)
	}
	if _, err := o.GetUser("Herouser"); err != nil {
		t.Fatalf("Herouser lost: %v", err)
	}
	// A different seed cannot reuse the file: its ids would point elsewhere.
	other := sandbox.New(sandbox.Options{Seed: 2, Practices: 2, Now: b.clock.Now})
	if err := other.LoadState(path); err == nil || !strings.Contains(err.Error(), "--seed 1") {
		t.Fatalf("loading another seed's state: %v", err)
	}
}

func TestAFaultAimedAtOneSessionFailsOnlyThatSessionsSlotRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	target := findSlot(t, b, conn, freeFuture(b))
	other := findSlot(t, b, conn, func(s emis.Slot) bool { return freeFuture(b)(s) && s.SessionDBID != target.SessionDBID })
	setFaults(t, b, sandbox.Faults{Organisations: map[string]sandbox.FaultConfig{
		strconv.Itoa(sandbox.DemoCDB): {FailSlotsOf: []int64{target.SessionDBID}}}})
	for range 3 { // every time, not by chance
		_, err := conn.GetSlotsForSession(ctx, target.SessionDBID)
		var te *emis.TransportError
		if !errors.As(err, &te) || te.StatusCode != 503 {
			t.Fatalf("slots of the aimed-at session: err = %v, want HTTP 503", err)
		}
	}
	if _, err := conn.GetSlotsForSession(ctx, other.SessionDBID); err != nil {
		t.Fatalf("another session's slots: %v", err)
	}
	if _, err := conn.GetAppointmentSessions(ctx, emis.Today(time.Now()), emis.Today(time.Now()).AddDays(6), 0); err != nil {
		t.Fatalf("the session list: %v", err)
	}
}
