package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// A sync pass's write transaction on SQLite runs statements prepared once on the connection,
// the very strings the store's code sends (on SQLite forUpdate adds nothing).
func TestASyncPassesWriteTransactionUsesStatementsPreparedOnce(t *testing.T) {
	ctx := context.Background()
	st := openMigratedSQLite(t)
	err := st.inTx(ctx, func(tx *Tx) error {
		if tx.forUpdate() != "" {
			t.Fatalf("forUpdate on SQLite is %q: the prepared strings would never match", tx.forUpdate())
		}
		for _, q := range syncTxStatements {
			first := tx.stmt(ctx, q)
			if first == nil || tx.stmt(ctx, q) != first {
				t.Errorf("not prepared, or bound afresh on every use: %q", q)
			}
		}
		var v int64
		return tx.QueryRowContext(ctx, diaryVersionSQL+tx.forUpdate(), 1).Scan(&v) // runs through the prepared statement
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
}

// A first sync records its progress every 20 slot lists: the statement is parsed once.
func TestFirstSyncProgressIsRecordedThroughAStatementPreparedOnce(t *testing.T) {
	ctx := context.Background()
	st := openMigratedSQLite(t)
	p, err := st.EnsurePractice(ctx, "A81001", 90001, "Progress Practice")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSyncProgress(ctx, p.ID, 20, 110); err != nil {
		t.Fatal(err)
	}
	first, ok := st.db.stmts.Load(recordSyncProgressSQL)
	if !ok {
		t.Fatal("progress was recorded through a statement parsed for the one call")
	}
	if err := st.RecordSyncProgress(ctx, p.ID, 40, 110); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.db.stmts.Load(recordSyncProgressSQL); again != first {
		t.Error("the progress statement was prepared again")
	}
	status, err := st.SyncStatus(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if status.ProgressDone != 40 || status.ProgressTotal != 110 {
		t.Errorf("progress %d of %d, want 40 of 110", status.ProgressDone, status.ProgressTotal)
	}
}

// openMigratedSQLite opens a migrated SQLite store in the test's directory, closed at its end.
func openMigratedSQLite(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
