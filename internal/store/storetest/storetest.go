// Package storetest opens herolink's store on either engine for tests: SQLite in a temporary
// directory, or a fresh database of its own on the PostgreSQL server that
// HEROLINK_TEST_POSTGRES_URL names. Under CI=true the PostgreSQL half must run: a missing URL
// fails the test rather than skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"herolink/internal/store"
)

// PostgresURLEnv names the PostgreSQL server the tests may create databases on.
const PostgresURLEnv = "HEROLINK_TEST_POSTGRES_URL"

// EngineEnv chooses the engine of the end-to-end suites (Open): "sqlite" (the default) or
// "postgres".
const EngineEnv = "HEROLINK_TEST_DATABASE"

// Each runs fn once per engine, as subtests named sqlite and postgres: the conformance suite.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// Open opens a migrated store on the engine EngineEnv names (SQLite if unset), for the
// end-to-end suites that run once per CI pass on each engine.
func Open(t testing.TB) *store.Store {
	t.Helper()
	switch e := os.Getenv(EngineEnv); e {
	case "", "sqlite":
		return OpenSQLite(t)
	case "postgres":
		return OpenPostgres(t)
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", EngineEnv, e)
		return nil
	}
}

// Engine is the engine EngineEnv chooses.
func Engine() store.Dialect {
	if os.Getenv(EngineEnv) == "postgres" {
		return store.Postgres
	}
	return store.SQLite
}

// OpenSQLite opens a migrated SQLite store in a temporary directory.
func OpenSQLite(t testing.TB) *store.Store {
	t.Helper()
	return OpenSQLiteAt(t, filepath.Join(t.TempDir(), "herolink.db"))
}

// OpenSQLiteAt opens a migrated SQLite store at path, for tests that read the file.
func OpenSQLiteAt(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// URL is a fresh, empty database on the test server, dropped when the test ends: for tests
// that start herolink processes of their own on it. It skips (or fails under CI) without a
// server.
func URL(t testing.TB) string {
	t.Helper()
	server := os.Getenv(PostgresURLEnv)
	if server == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI the PostgreSQL half of the suite must run (.ci/run starts a server)", PostgresURLEnv)
		}
		t.Skipf("PostgreSQL half skipped: set %s to a server URL (scripts/postgres-test-cluster starts one)", PostgresURLEnv)
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s does not parse as a URL", PostgresURLEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "herolink_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the test PostgreSQL server (%s): %v", PostgresURLEnv, err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// OpenPostgres opens a migrated store on a fresh database of the test server.
func OpenPostgres(t testing.TB) *store.Store {
	t.Helper()
	dsn := URL(t)
	st, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Registered after URL's, so it runs first: the pool closes before the database is dropped.
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(fmt.Errorf("migrate PostgreSQL: %w", err))
	}
	return st
}

// EachPair runs fn once per engine with two stores on one database, as two instances of
// herolink would have: what one writes, the other must see.
func EachPair(t *testing.T, fn func(t *testing.T, a, b *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herolink.db")
		fn(t, OpenSQLiteAt(t, path), OpenSQLiteAt(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := URL(t)
		var sts [2]*store.Store
		for i := range sts {
			st, err := store.OpenPostgres(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(fmt.Errorf("migrate PostgreSQL: %w", err))
			}
			sts[i] = st
		}
		fn(t, sts[0], sts[1])
	})
}
