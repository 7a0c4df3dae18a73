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
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err = st.inTx(ctx, func(tx *Tx) error {
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
