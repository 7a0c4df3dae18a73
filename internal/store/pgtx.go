package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgTx is a PostgreSQL transaction whose BEGIN is sent with its first statement, in one
// round trip, instead of on its own: a hold is then two round trips (BEGIN with its
// statements, COMMIT) where pgx's own transaction takes three, and every sync pass saves one.
// A transaction that sends nothing sends no BEGIN and no COMMIT.
//
// It is what the store's Tx runs on, and the pgx.Tx handed to River (Tx.PgxTx): River's calls
// go through the same connection and transaction. Nested Begin is a savepoint, as in pgx.
type pgTx struct {
	conn   *pgxpool.Conn
	begun  bool // BEGIN has been sent: from then on the connection is in the transaction
	closed bool // committed or rolled back; the connection is back in the pool
}

var _ pgx.Tx = (*pgTx)(nil)

// begin sends BEGIN on its own, for what cannot carry it: COPY, a script, River's calls with
// pgx's per-query options, a savepoint.
func (t *pgTx) begin(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if t.begun {
		return nil
	}
	t.begun = true // set before sending: whatever happens, the end is ROLLBACK or a closed connection
	_, err := t.conn.Exec(ctx, "begin")
	return err
}

// batchable says whether a statement can go in one batch with BEGIN: it has arguments (without
// them pgx uses the simple protocol, which allows several statements in one string) and no
// pgx per-query option, which a batch would take for an argument.
func batchable(args []any) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0].(type) {
	case pgx.QueryExecMode, pgx.QueryRewriter:
		return false
	}
	return true
}

// carriesBegin says whether a statement is the transaction's first and can take BEGIN along in
// one batch; if not, BEGIN has been sent before it where needed, and it goes as it is.
func (t *pgTx) carriesBegin(ctx context.Context, args []any) (bool, error) {
	if !t.closed && !t.begun && batchable(args) {
		return true, nil
	}
	return false, t.begin(ctx)
}

// withBegin sends one statement as the first of the transaction, BEGIN in front.
func (t *pgTx) withBegin(ctx context.Context, sql string, args []any) pgx.BatchResults {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return t.SendBatch(ctx, b)
}

func (t *pgTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	first, err := t.carriesBegin(ctx, args)
	switch {
	case err != nil:
		return pgconn.CommandTag{}, err
	case !first:
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.withBegin(ctx, sql, args)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *pgTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	first, err := t.carriesBegin(ctx, args)
	switch {
	case err != nil:
		return nil, err
	case !first:
		return t.conn.Query(ctx, sql, args...)
	}
	br := t.withBegin(ctx, sql, args)
	rows, err := br.Query()
	if err != nil {
		if rows != nil {
			rows.Close()
		}
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *pgTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	first, err := t.carriesBegin(ctx, args)
	switch {
	case err != nil:
		return errPgRow{err}
	case !first:
		return t.conn.QueryRow(ctx, sql, args...)
	}
	br := t.withBegin(ctx, sql, args)
	return batchRow{row: br.QueryRow(), br: br}
}

// SendBatch sends b; the transaction's first batch carries BEGIN in front of it.
func (t *pgTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.closed {
		return &begunBatch{err: pgx.ErrTxClosed, read: true}
	}
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	withBegin := &pgx.Batch{}
	withBegin.Queue("begin")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	return &begunBatch{BatchResults: t.conn.SendBatch(ctx, withBegin)}
}

func (t *pgTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *pgTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	return t.conn.Conn().Prepare(ctx, name, sql)
}

// LargeObjects is not offered: pgx builds them only on its own transactions, and herolink
// stores none. It panics, as using a zero pgx.LargeObjects would.
func (t *pgTx) LargeObjects() pgx.LargeObjects {
	panic("store: large objects are not available on herolink's PostgreSQL transactions")
}

func (t *pgTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Begin starts a nested transaction: a savepoint.
func (t *pgTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.begin(ctx); err != nil {
		return nil, err
	}
	return newSavepoint(ctx, t, 1)
}

// Commit sends COMMIT, or nothing when the transaction sent nothing, and gives the connection
// back. A transaction that failed is rolled back by COMMIT; that is an error, as in pgx.
func (t *pgTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if !t.begun {
		return nil
	}
	tag, err := t.conn.Exec(ctx, "commit")
	if err != nil {
		return err // release closes a connection left inside the transaction
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// Rollback sends ROLLBACK, or nothing when the transaction sent nothing, and gives the
// connection back; a connection whose ROLLBACK failed is closed, not reused.
func (t *pgTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	defer t.release()
	if !t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "rollback"); err != nil {
		_ = t.conn.Conn().Close(ctx)
		return err
	}
	return nil
}

// release gives the connection back to the pool, which destroys it if it is closed, busy or
// still inside a transaction.
func (t *pgTx) release() {
	t.closed = true
	t.conn.Release()
}

// begunBatch is the results of a batch sent with BEGIN in front: BEGIN's result is read first,
// and its error, if any, is every statement's.
type begunBatch struct {
	pgx.BatchResults
	err  error
	read bool
}

func (b *begunBatch) readBegin() error {
	if !b.read {
		b.read = true
		if _, err := b.BatchResults.Exec(); err != nil {
			b.err = fmt.Errorf("begin: %w", err)
		}
	}
	return b.err
}

func (b *begunBatch) Exec() (pgconn.CommandTag, error) {
	if err := b.readBegin(); err != nil {
		return pgconn.CommandTag{}, err
	}
	return b.BatchResults.Exec()
}

func (b *begunBatch) Query() (pgx.Rows, error) {
	err := b.readBegin()
	if b.BatchResults == nil {
		return nil, err
	}
	rows, qerr := b.BatchResults.Query()
	if err != nil {
		return rows, err
	}
	return rows, qerr
}

func (b *begunBatch) QueryRow() pgx.Row {
	if err := b.readBegin(); err != nil {
		return errPgRow{err}
	}
	return b.BatchResults.QueryRow()
}

func (b *begunBatch) Close() error {
	err := b.readBegin()
	if b.BatchResults == nil {
		return err
	}
	if cerr := b.BatchResults.Close(); err == nil {
		err = cerr
	}
	return err
}

// batchRows are a query's rows read from a batch, which is closed when they end: until then
// the connection can carry nothing else.
type batchRows struct {
	pgx.Rows
	br       pgx.BatchResults
	done     bool
	closeErr error
}

func (r *batchRows) finish() {
	if !r.done {
		r.done = true
		r.Rows.Close()
		r.closeErr = r.br.Close()
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.finish()
	return false
}

func (r *batchRows) Close() { r.finish() }

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.closeErr
}

// batchRow is a query's one row read from a batch, which Scan closes.
type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errPgRow struct{ err error }

func (r errPgRow) Scan(...any) error { return r.err }

// pgSavepoint is a nested transaction inside a pgTx.
type pgSavepoint struct {
	*pgTx
	depth  int
	closed bool
}

func newSavepoint(ctx context.Context, t *pgTx, depth int) (*pgSavepoint, error) {
	if _, err := t.conn.Exec(ctx, fmt.Sprintf("savepoint sp_%d", depth)); err != nil {
		return nil, err
	}
	return &pgSavepoint{pgTx: t, depth: depth}, nil
}

func (s *pgSavepoint) Begin(ctx context.Context) (pgx.Tx, error) {
	if s.closed || s.pgTx.closed {
		return nil, pgx.ErrTxClosed
	}
	return newSavepoint(ctx, s.pgTx, s.depth+1)
}

func (s *pgSavepoint) Commit(ctx context.Context) error {
	return s.end(ctx, "release savepoint sp_%d")
}

func (s *pgSavepoint) Rollback(ctx context.Context) error {
	return s.end(ctx, "rollback to savepoint sp_%d")
}

func (s *pgSavepoint) end(ctx context.Context, stmt string) error {
	if s.closed || s.pgTx.closed {
		return pgx.ErrTxClosed
	}
	s.closed = true
	_, err := s.pgTx.conn.Exec(ctx, fmt.Sprintf(stmt, s.depth))
	return err
}
