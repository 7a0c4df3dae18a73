package app_test

import (
	"context"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
)

// Idempotency-Key answers can hold a registered patient's details: the running app deletes
// those past their day even when no partner sends another request.
func TestTheRunningAppPurgesIdempotencyAnswersPastTheirDay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := a.Keys.List(ctx, info.PracticeGroupID)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	now := time.Now().UnixMilli()
	for _, row := range []struct {
		key     string
		expires int64
	}{{"old", now - 1000}, {"fresh", now + 3600_000}} {
		if _, err := a.Store.DBQ().ExecContext(ctx, `INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, status, body, lease_until, created_at, expires_at)
			VALUES (?, ?, 'h', 201, '{"family_name":"Example"}', 0, ?, ?)`, keys[0].ID, row.key, now, row.expires); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	defer func() { stop(); <-done }()
	count := func(key string) int {
		var n int
		if err := a.Store.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = ?`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); count("old") != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the expired answer was not purged")
		}
	}
	if count("fresh") != 1 {
		t.Fatal("an answer still within its day was purged")
	}
}
