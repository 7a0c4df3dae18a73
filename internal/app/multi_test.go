package app_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/store/storetest"
)

// twoInstances builds two herolink instances on one database (a shared SQLite file, or a
// fresh PostgreSQL database), sharing the vault's keys as instances must, and a seeded demo.
func twoInstances(t *testing.T, engine string) (a, b *app.App, info app.DemoInfo) {
	t.Helper()
	ctx := context.Background()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	t.Cleanup(emisSrv.Close)
	dirA, dirB, url := t.TempDir(), t.TempDir(), ""
	if engine == "sqlite" {
		dirB = dirA // one herolink.db, opened by two processes
	} else {
		url = storetest.URL(t)
	}
	cfg := app.Config{DataDir: dirA, DatabaseURL: url, EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID, InstanceID: "a"}
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Store.Close() })
	if dirB != dirA {
		keys, err := os.ReadFile(filepath.Join(dirA, "secret.keys"))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dirB, "secret.keys"), keys, 0o600))
	}
	cfg.DataDir, cfg.InstanceID = dirB, "b"
	b, err = app.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Store.Close() })
	// Not SeedDemo: its mapping step does not run on PostgreSQL yet (store/mapping.go scans
	// 0/1 columns into bools). A connected practice and a key are all these tests need.
	res, err := a.Practices.Connect(ctx, practice.Actor{Name: "test"}, practice.ConnectRequest{
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	if err != nil || !res.Saved {
		t.Fatalf("connect: %v %+v", err, res.Test)
	}
	p, err := a.Store.PracticeByID(ctx, res.PracticeID)
	must(t, err)
	created, err := a.Keys.Create(ctx, apikey.Actor{Name: "test"}, p.PracticeGroupID,
		apikey.NewKey{Name: "Triage", Partner: "Partner", Scopes: []string{apikey.ScopeBooking}})
	must(t, err)
	return a, b, app.DemoInfo{APIKey: created.Secret, PracticeGroupID: p.PracticeGroupID}
}

func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

func TestAKeyRevokedOnOneInstanceIsRefusedByTheOtherAtItsNextCachePoll(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		a, b, info := twoInstances(t, engine)
		must(t, b.PollCaches(ctx))
		key, err := b.Keys.Authenticate(ctx, info.APIKey) // now in B's cache
		must(t, err)
		must(t, a.Keys.Revoke(ctx, apikey.Actor{Name: "test"}, info.PracticeGroupID, key.ID))
		if _, err := b.Keys.Authenticate(ctx, info.APIKey); err != nil {
			t.Fatalf("before its poll B already refuses the key (%v): this test would prove nothing", err)
		}
		must(t, b.PollCaches(ctx))
		if _, err := b.Keys.Authenticate(ctx, info.APIKey); !errors.Is(err, apikey.ErrUnknownKey) {
			t.Fatalf("B after its poll: %v, want ErrUnknownKey", err)
		}
	})
}

func TestAKeyRevokedOnOneRunningInstanceIsRefusedByTheOtherWithinTwoSeconds(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		a, b, info := twoInstances(t, engine)
		key, err := b.Keys.Authenticate(ctx, info.APIKey)
		must(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- b.Run(runCtx, ln) }()
		defer func() { stop(); <-done }()
		if _, err := b.Keys.Authenticate(ctx, info.APIKey); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		must(t, a.Keys.Revoke(ctx, apikey.Actor{Name: "test"}, info.PracticeGroupID, key.ID))
		for {
			if _, err := b.Keys.Authenticate(ctx, info.APIKey); errors.Is(err, apikey.ErrUnknownKey) {
				break
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("B still accepts the key %s after A revoked it", time.Since(start))
			}
			time.Sleep(10 * time.Millisecond) // measuring real time: nothing to wait on
		}
		t.Logf("%s: B refused the key %s after A revoked it", engine, time.Since(start).Round(time.Millisecond))
	})
}

func TestNewCredentialsPutInForceOnOneInstanceAreUsedByTheOther(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		a, b, _ := twoInstances(t, engine)
		p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
		must(t, err)
		must(t, b.PollCaches(ctx))
		before, err := b.Practices.Conn(ctx, p.ID) // B logs on with the first credentials
		must(t, err)
		old, err := a.Store.ActiveConnection(ctx, p.ID)
		must(t, err)
		res, err := a.Practices.Connect(ctx, practice.Actor{Name: "test"}, practice.ConnectRequest{Replace: true, Replaces: old.ID,
			Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
		if err != nil || !res.Saved {
			t.Fatalf("replace credentials on A: %v %+v", err, res)
		}
		if again, _ := b.Practices.Conn(ctx, p.ID); again != before {
			t.Fatal("B dropped its connection before its poll: this test would prove nothing")
		}
		must(t, b.PollCaches(ctx))
		after, err := b.Practices.Conn(ctx, p.ID)
		must(t, err)
		if after == before {
			t.Fatal("after its poll B still uses the connection logged on with the replaced credentials")
		}
	})
}
