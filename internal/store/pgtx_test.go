package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// openCounting is a PostgreSQL store with its round trips counted, and a table of its own.
func openCounting(t *testing.T) (context.Context, *store.Store, *store.RoundTrips, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	url := storetest.URL(t)
	st, rt, err := store.OpenPostgresCounting(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if st.ConnectionsInUse() == 0 { // Close would wait for ever for a connection not given back
			st.Close()
		}
	})
	if err := st.ExecOutsideTx(ctx, `CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return ctx, st, rt, url
}

func noteCount(t *testing.T, ctx context.Context, st *store.Store, id int64) int {
	t.Helper()
	var n int
	err := st.InTx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM notes WHERE id = ?`, id).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A hold's transaction on PostgreSQL is its statements with BEGIN in front, then COMMIT: two
// round trips, where BEGIN on its own made three; one that sends nothing costs none.
func TestAPostgreSQLTransactionSendsBEGINWithItsFirstStatements(t *testing.T) {
	ctx, st, rt, _ := openCounting(t)
	write := func(id int64) error {
		return st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, id, "first")
			return err
		})
	}
	if err := write(1); err != nil { // prepares the statement on the connection
		t.Fatal(err)
	}
	rt.Reset()
	if err := write(2); err != nil {
		t.Fatal(err)
	}
	if n := rt.Count(); n != 2 {
		t.Errorf("a one-statement transaction took %d round trips; want 2 (BEGIN with the statement, then COMMIT)", n)
	}
	rt.Reset()
	if err := st.InTx(ctx, func(*store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n := rt.Count(); n != 0 {
		t.Errorf("a transaction that sent nothing took %d round trips; want none", n)
	}
}

// The first statement runs inside the transaction, not before it: a row it locks stays locked
// until the transaction ends, and a write it makes goes when the transaction is rolled back.
func TestAPostgreSQLTransactionsFirstStatementIsInsideIt(t *testing.T) {
	ctx, st, _, url := openCounting(t)
	if err := st.ExecOutsideTx(ctx, `INSERT INTO notes (id, body) VALUES (1, 'locked')`); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())

	firsts := map[string]func(tx *store.Tx) error{
		"a one-row read": func(tx *store.Tx) error {
			var body string
			return tx.QueryRowContext(ctx, `SELECT body FROM notes WHERE id = ? FOR UPDATE`, 1).Scan(&body)
		},
		"a many-row read": func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT body FROM notes WHERE id >= ? FOR UPDATE`, 1)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		},
		"a write": func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE notes SET body = ? WHERE id = ?`, "changed", 1)
			return err
		},
	}
	for name, first := range firsts {
		t.Run(name, func(t *testing.T) {
			errRolledBack := errors.New("rolled back on purpose")
			err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := first(tx); err != nil {
					return err
				}
				_, err := other.Exec(ctx, `SELECT 1 FROM notes WHERE id = 1 FOR UPDATE NOWAIT`)
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "55P03" {
					t.Errorf("another connection locked the row while the transaction held it (err %v): the first statement ran outside the transaction", err)
				}
				// The connection is free for the transaction's next statement.
				if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, 2, "later"); err != nil {
					return err
				}
				return errRolledBack
			})
			if !errors.Is(err, errRolledBack) {
				t.Fatalf("transaction: %v", err)
			}
			var body string
			if err := other.QueryRow(ctx, `SELECT body FROM notes WHERE id = 1`).Scan(&body); err != nil || body != "locked" {
				t.Errorf("after the rollback the row reads %q (%v); want it unchanged", body, err)
			}
			if n := noteCount(t, ctx, st, 2); n != 0 {
				t.Errorf("the rolled-back transaction's insert is there")
			}
		})
	}
}

// A transaction whose first statement fails is rolled back and gives its connection back,
// many more times than the pool has connections; one that goes on after a failed statement
// cannot commit what came before it.
func TestAPostgreSQLTransactionThatFailsGivesBackItsConnection(t *testing.T) {
	ctx, st, _, _ := openCounting(t)
	if err := st.ExecOutsideTx(ctx, `INSERT INTO notes (id, body) VALUES (1, 'taken')`); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, 1, "again")
			return err
		})
		if !store.IsUniqueViolation(err) {
			t.Fatalf("attempt %d: %v; want the unique index's refusal", i+1, err)
		}
		if n := st.ConnectionsInUse(); n != 0 {
			t.Fatalf("after failed attempt %d, %d connections are still taken; want all given back", i+1, n)
		}
	}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, 3, "before"); err != nil {
			return err
		}
		_, _ = tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, 1, "again") // fails; ignored
		return nil
	})
	if !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Errorf("committing after a failed statement: %v; want it refused as rolled back", err)
	}
	if n := noteCount(t, ctx, st, 3); n != 0 {
		t.Errorf("the write before the failed statement was committed")
	}
}

// River's calls inside a transaction (Tx.PgxTx) run in it; a nested transaction is a
// savepoint, whose rollback keeps what the outer transaction did.
func TestRiversPostgreSQLTransactionIsTheStoresAndNestsAsSavepoints(t *testing.T) {
	ctx, st, _, _ := openCounting(t)
	err := st.InTx(ctx, func(tx *store.Tx) error {
		px := tx.PgxTx()
		if _, err := px.Exec(ctx, `INSERT INTO notes (id, body) VALUES ($1, $2)`, pgx.QueryExecModeExec, 1, "outer"); err != nil {
			return err
		}
		nested, err := px.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := nested.Exec(ctx, `INSERT INTO notes (id, body) VALUES ($1, $2)`, 2, "inner"); err != nil {
			return err
		}
		if err := nested.Rollback(ctx); err != nil {
			return err
		}
		kept, err := px.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := kept.Exec(ctx, `INSERT INTO notes (id, body) VALUES ($1, $2)`, 3, "kept"); err != nil {
			return err
		}
		return kept.Commit(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A transaction rolled back takes River's writes with it, whether they were its first
	// statement (BEGIN sent on its own: a per-query option) or came after the store's.
	errRolledBack := errors.New("rolled back on purpose")
	for _, storeFirst := range []bool{false, true} {
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if storeFirst {
				if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, 5, "store's"); err != nil {
					return err
				}
			}
			if _, err := tx.PgxTx().Exec(ctx, `INSERT INTO notes (id, body) VALUES ($1, $2)`, pgx.QueryExecModeExec, 4, "River's"); err != nil {
				return err
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatalf("transaction: %v", err)
		}
	}
	for id, want := range map[int64]int{1: 1, 2: 0, 3: 1, 4: 0, 5: 0} {
		if n := noteCount(t, ctx, st, id); n != want {
			t.Errorf("note %d: %d rows; want %d", id, n, want)
		}
	}
}

// A batched read (the sync pass's reads) answers its rows inside the transaction, and on a
// transaction already ended is refused with pgx's ErrTxClosed, not a panic.
func TestABatchedReadOnAnEndedPostgreSQLTransactionIsRefused(t *testing.T) {
	ctx, st, _, _ := openCounting(t)
	var ended *store.Tx
	err := st.InTx(ctx, func(tx *store.Tx) error {
		ended = tx
		if _, err := tx.ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (1, 'a'), (2, 'b')`); err != nil {
			return err
		}
		n, err := tx.CountInBatch(ctx, `SELECT id FROM notes WHERE id > ?`, 0)
		if err == nil && n != 2 {
			t.Errorf("a batched read in the transaction found %d rows, want 2", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ended.CountInBatch(ctx, `SELECT id FROM notes WHERE id > ?`, 0); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("a batched read after commit: %v, want pgx.ErrTxClosed", err)
	}
}
