package store

import (
	"context"
	"errors"
	"runtime/metrics"
	"testing"
)

// goroutinesCreated is how many goroutines the process has started so far.
func goroutinesCreated(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatal("this Go reports no count of goroutines created")
	}
	return s[0].Value.Uint64()
}

// Writes in a SQLite transaction under a context that can end start no goroutine each:
// modernc's driver watched such a context on a goroutine of its own for every statement, and
// the sync runs thousands a second. (A read still starts one, database/sql's, which closes
// its rows when the transaction ends.)
func TestWritesInASQLiteTransactionStartNoGoroutineEach(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, p := openMigratedSQLiteWithPractice(t, "A81003", 90003)
	const n = 100
	before := goroutinesCreated(t)
	err := st.inTx(ctx, func(tx *Tx) error {
		b := tx.newBatch()
		for range n {
			// A statement prepared on the connection, one prepared for the transaction, and
			// one the batch runs.
			if _, err := tx.ExecContext(ctx, bumpDiaryVersionSQL, p.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE practices SET name = name WHERE id = ?`, p.ID); err != nil {
				return err
			}
			if err := b.exec(ctx, bumpDiaryVersionSQL, p.ID); err != nil {
				return err
			}
		}
		return b.flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := goroutinesCreated(t) - before; got > n/4 {
		t.Errorf("%d statements in one transaction started %d goroutines; want a few for the transaction", 3*n, got)
	}
	v, err := st.DiaryVersion(ctx, p.ID)
	if err != nil || v != 2*n {
		t.Errorf("diary version %d (%v) after %d bumps", v, err, 2*n)
	}
}

// A SQLite transaction whose context ends starts no statement after, and writes nothing: its
// statements run without watching the context, so the transaction checks it before each.
func TestASQLiteTransactionWhoseContextEndsStartsNoStatementAndWritesNothing(t *testing.T) {
	st, p := openMigratedSQLiteWithPractice(t, "A81004", 90004)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := st.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, bumpDiaryVersionSQL, p.ID); err != nil {
			return err
		}
		cancel()
		for name, run := range map[string]func() error{
			"exec":      func() error { _, err := tx.ExecContext(ctx, bumpDiaryVersionSQL, p.ID); return err },
			"query":     func() error { _, err := tx.QueryContext(ctx, diaryVersionSQL, p.ID); return err },
			"query row": func() error { var v int64; return tx.QueryRowContext(ctx, diaryVersionSQL, p.ID).Scan(&v) },
			"batch":     func() error { return tx.newBatch().exec(ctx, bumpDiaryVersionSQL, p.ID) },
		} {
			if err := run(); !errors.Is(err, context.Canceled) {
				t.Errorf("a statement (%s) asked for after the context ended: %v, want context.Canceled", name, err)
			}
		}
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the transaction: %v, want context.Canceled", err)
	}
	if v, err := st.DiaryVersion(context.Background(), p.ID); err != nil || v != 0 {
		t.Errorf("diary version %d (%v): the ended transaction wrote", v, err)
	}
}
