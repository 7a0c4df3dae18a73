package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"herolink/internal/store"
)

func TestConformanceSeam(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		must(t, st.Ping(ctx))
		pg := strings.HasSuffix(t.Name(), "/postgres")
		if pg != (st.Dialect() == store.Postgres) || (st.DB() != nil) == pg || (st.Pool() != nil) != pg {
			t.Fatalf("dialect %v, DB %v, Pool %v in subtest %s", st.Dialect(), st.DB() != nil, st.Pool() != nil, t.Name())
		}
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			if tx.Dialect() != st.Dialect() || (tx.SQLTx() != nil) == pg || (tx.PgxTx() != nil) != pg {
				t.Errorf("transaction: dialect %v, SQLTx %v, PgxTx %v", tx.Dialect(), tx.SQLTx() != nil, tx.PgxTx() != nil)
			}
			return nil
		}))
		// A transaction whose function fails writes nothing.
		boom := errors.New("boom")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO practice_groups (id, name, created_at) VALUES (?, ?, ?)`, "pg_x", "x", 0); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the function's error", err)
		}
		var n int
		must(t, st.ReadQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM practice_groups WHERE id = ?`, "pg_x").Scan(&n))
		if n != 0 {
			t.Fatal("a rolled-back transaction's row was kept")
		}
		// A question mark inside a string literal is not a placeholder.
		var s string
		must(t, st.DBQ().QueryRowContext(ctx, `SELECT 'what?' || ?`, "!").Scan(&s))
		if s != "what?!" {
			t.Fatalf("literal with a question mark: %q", s)
		}
	})
}

func TestOpenRefusesADatabaseURLItCannotUse(t *testing.T) {
	ctx := context.Background()
	for _, o := range []store.Options{
		{},
		{DatabaseURL: "mysql://user:secret@host/db"},
		{DatabaseURL: "postgres://user:secret@%zz/db"},
	} {
		st, err := store.Open(ctx, o)
		if err == nil {
			st.Close()
			t.Errorf("Open(%+v) succeeded", o)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open's error quotes the password: %v", err)
		}
	}
}
