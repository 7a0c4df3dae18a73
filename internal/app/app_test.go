package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func TestDemoSeedsAConnectedPracticeAndHealthChecksRunAsDurableJobs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, SecondDemo: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()

	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID,
		HealthInterval: time.Minute, SweepInterval: 200 * time.Millisecond}
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if info.StaffPassword == "" || info.APIKey == "" || info.PracticeGroupID == "" {
		t.Fatalf("demo info = %+v", info)
	}
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil || p.HealthStatus != store.HealthConnected {
		t.Fatalf("demo practice = %+v, %v", p, err)
	}
	data, err := os.ReadFile(app.DemoInfoPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk app.DemoInfo
	if err := json.Unmarshal(data, &onDisk); err != nil || onDisk != info {
		t.Fatalf("demo.json = %s, %v", data, err)
	}

	// Make the check due now, run the app, and wait for the sweep to enqueue it and the
	// worker to record it.
	before := p.HealthCheckedAt
	must(t, a.Store.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, Status: store.HealthConnected,
		Reason: "due", NextCheck: time.Now().Add(-time.Second)}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()

	// Generous for a loaded machine under -race: the rounds end as soon as the checks run.
	deadline := time.Now().Add(45 * time.Second)
	// Two rounds: the second proves a completed check does not block the next one.
	for round := 1; round <= 2; round++ {
		for {
			got, _ := a.Store.PracticeByID(ctx, p.ID)
			if got.HealthReason != "due" && got.HealthCheckedAt.After(before) {
				if got.NextHealthCheckAt.Before(time.Now()) {
					t.Fatalf("round %d: next check not rescheduled: %+v", round, got)
				}
				before = got.HealthCheckedAt
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the health check job never ran: %+v", round, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
		must(t, a.Store.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, Status: store.HealthConnected,
			Reason: "due", NextCheck: time.Now().Add(-time.Second)}))
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	// Connecting asked for a sync: the demo practice's diary is copied without waiting a round.
	for {
		st, _ := a.Store.SyncStatus(ctx, p.ID)
		if st.FirstSyncDone && st.Slots > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first sync never finished: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err = http.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`herolink_sync_passes_total{kind="full",result="ok"}`, "herolink_sync_emis_calls_total", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Seeding again (a restart of the demo) reuses everything.
	again, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Store.Close()
	info2, err := again.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil || info2 != info {
		t.Fatalf("second seed = %+v, %v; want %+v", info2, err, info)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
