package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store/storetest"
)

// A PostgreSQL instance that loses its database says so on /readyz (for the load balancer to
// stop sending it traffic) and recovers by itself; /healthz, the process being alive, stays ok.
func TestReadyzFailsWhileThePostgreSQLDatabaseCannotBeReached(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.URL(t)
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: dsn, EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz with the database up: %d %q", code, body)
	}
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, os.Getenv(storetest.PostgresURLEnv))
	must(t, err)
	defer admin.Close(ctx)
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The database refuses new connections and drops the instance's open ones.
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	defer admin.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true") //nolint:errcheck // best effort: the database is dropped anyway
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "' AND pid <> pg_backend_pid()")
	start := time.Now()
	code, body := get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Fatalf("/readyz with the database unreachable: %d %q, want 503 naming the database", code, body)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("/readyz took %s to answer: a load balancer's probe would time out first", took)
	}
	if strings.Contains(body, u.Host) || strings.Contains(body, name) {
		t.Fatalf("/readyz tells the world where the database is: %q", body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz with the database unreachable: %d", code)
	}
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	// Back within a few probes: the pool replaces the connections the server dropped.
	back := time.Now()
	for {
		code, body := get("/readyz")
		if code == http.StatusOK {
			t.Logf("/readyz ok again %s after the database came back", time.Since(back).Round(time.Millisecond))
			break
		}
		if time.Since(back) > 10*time.Second {
			t.Fatalf("/readyz 10 s after the database came back: %d %q", code, body)
		}
		time.Sleep(100 * time.Millisecond) // a load balancer's probe interval, shortened
	}
}
