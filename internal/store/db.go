package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is the database engine a Store runs on.
type Dialect int

const (
	// SQLite is the embedded default: one file in the data directory, one writer.
	SQLite Dialect = iota
	// Postgres is the scale-out engine: several instances share one database.
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Row is one row of a query's answer.
type Row interface{ Scan(dest ...any) error }

// Rows is a query's answer, read row by row; Close it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Queryer is what reads and single statements need: the database, the read pool or a
// transaction. SQL inside the store is written with ? placeholders in the common dialect of
// SQLite and PostgreSQL; the Queryer rewrites them to $n for PostgreSQL.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) Row
}

// conn is a pool on either engine.
type conn struct {
	dialect Dialect
	sql     *sql.DB       // SQLite
	pool    *pgxpool.Pool // PostgreSQL
	// stmts are SQLite statements prepared once for the hottest queries (QueryRowPrepared):
	// parsing a statement cost more than running it. pgx keeps its own per connection.
	stmts sync.Map // query -> *sql.Stmt
	// hot are the statements transactions on SQLite's writing connection use prepared.
	hot atomic.Pointer[map[string]*sql.Stmt]
}

// QueryRowPrepared is QueryRowContext for a fixed hot query, prepared once.
func (c *conn) QueryRowPrepared(ctx context.Context, q string, args ...any) Row {
	if c.pool != nil {
		return c.QueryRowContext(ctx, q, args...)
	}
	st, err := c.prepared(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// QueryPrepared is QueryContext for a fixed hot query, prepared once (see QueryRowPrepared).
func (c *conn) QueryPrepared(ctx context.Context, q string, args ...any) (Rows, error) {
	if c.pool != nil {
		return c.QueryContext(ctx, q, args...)
	}
	st, err := c.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// ExecPrepared is ExecContext for a fixed hot statement, prepared once.
func (c *conn) ExecPrepared(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if c.pool != nil {
		return c.ExecContext(ctx, q, args...)
	}
	st, err := c.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *conn) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	prepared, err := c.sql.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if st, ok := c.stmts.LoadOrStore(q, prepared); ok {
		prepared.Close() // another caller prepared it first
		return st.(*sql.Stmt), nil
	}
	return prepared, nil
}

// errRow is a Row whose Scan fails with err.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (c *conn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if c.pool != nil {
		tag, err := c.pool.Exec(ctx, rebind(q), pgArgs(args)...)
		return pgResult(tag), err
	}
	return c.sql.ExecContext(ctx, q, args...)
}

func (c *conn) QueryContext(ctx context.Context, q string, args ...any) (Rows, error) {
	if c.pool != nil {
		rows, err := c.pool.Query(ctx, rebind(q), pgArgs(args)...)
		if err != nil {
			return nil, err
		}
		return pgRows{rows}, nil
	}
	return c.sql.QueryContext(ctx, q, args...)
}

func (c *conn) QueryRowContext(ctx context.Context, q string, args ...any) Row {
	if c.pool != nil {
		return pgRow{c.pool.QueryRow(ctx, rebind(q), pgArgs(args)...)}
	}
	return c.sql.QueryRowContext(ctx, q, args...)
}

func (c *conn) PingContext(ctx context.Context) error {
	if c.pool != nil {
		return c.pool.Ping(ctx)
	}
	return c.sql.PingContext(ctx)
}

func (c *conn) Close() error {
	if c.pool != nil {
		c.pool.Close()
		return nil
	}
	c.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return c.sql.Close()
}

// BeginTx starts a transaction. On SQLite it takes the write lock at once (_txlock=immediate);
// on PostgreSQL it is READ COMMITTED, so a read that a later write depends on takes a row lock
// (forUpdate) where SQLite's single writer used to hide the race. On PostgreSQL it takes a
// connection and nothing more: BEGIN goes with the first statement (pgTx).
func (c *conn) BeginTx(ctx context.Context) (*Tx, error) {
	if c.pool != nil {
		pc, err := c.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		return &Tx{dialect: Postgres, pg: &pgTx{conn: pc}}, nil
	}
	tx, err := c.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	var hot map[string]*sql.Stmt
	if h := c.hot.Load(); h != nil {
		hot = *h
	}
	return &Tx{dialect: SQLite, sql: tx, hot: hot}, nil
}

// prepareHot prepares statements on SQLite's connection, for transactions to use (Tx.stmt).
// It must run when no transaction holds the connection: the writing pool has one.
func (c *conn) prepareHot(ctx context.Context, qs []string) error {
	if c.pool != nil || c.hot.Load() != nil {
		return nil // pgx keeps its own per connection; or prepared already
	}
	m := make(map[string]*sql.Stmt, len(qs))
	for _, q := range qs {
		st, err := c.sql.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare %q: %w", q, err)
		}
		m[q] = st
	}
	c.hot.Store(&m)
	return nil
}

// Tx is a transaction on either engine: what the domain packages pass back into the store so
// that a state change, its audit entry and its job commit or roll back together.
type Tx struct {
	dialect Dialect
	sql     *sql.Tx
	pg      *pgTx
	hot     map[string]*sql.Stmt // SQLite: statements prepared on the connection (prepareHot)
	bound   map[string]*sql.Stmt // hot statements bound to this transaction
}

// quiet is the context a statement in a SQLite transaction runs under: ctx's values without
// its end. For a statement under a context that can end, modernc's driver starts a goroutine
// to watch it and sets SQLite's progress handler: at 7,000 practices the sync's transactions
// run thousands of statements a second, each a fraction of a millisecond, and the watch was
// about 1 % of herolink's CPU besides the goroutines' start and exit. The transaction stays
// bound to ctx: database/sql rolls it back when ctx ends (and closes a read's rows: it still
// watches each read), and a statement asked for after that does not start (err). A statement
// already running finishes first, however long it takes. River's statements (SQLTx) and the
// migrations do not come through here and keep watching their context.
func quiet(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// stmt is the transaction's use of a statement prepared once on the connection, or nil.
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	st := t.hot[q]
	if st == nil {
		return nil
	}
	if b := t.bound[q]; b != nil {
		return b
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	b := t.sql.StmtContext(ctx, st)
	t.bound[q] = b
	return b
}

// SQLTx is the SQLite transaction, for River's riversqlite driver; nil on PostgreSQL.
func (t *Tx) SQLTx() *sql.Tx { return t.sql }

// PgxTx is the PostgreSQL transaction, for River's riverpgxv5 driver; nil on SQLite.
func (t *Tx) PgxTx() pgx.Tx {
	if t.pg == nil {
		return nil
	}
	return t.pg
}

// Dialect says which engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.dialect }

func (t *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.pg != nil {
		tag, err := t.pg.Exec(ctx, rebind(q), pgArgs(args)...)
		return pgResult(tag), err
	}
	ctx, err := quiet(ctx)
	if err != nil {
		return nil, err
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.sql.ExecContext(ctx, q, args...)
}

func (t *Tx) QueryContext(ctx context.Context, q string, args ...any) (Rows, error) {
	if t.pg != nil {
		rows, err := t.pg.Query(ctx, rebind(q), pgArgs(args)...)
		if err != nil {
			return nil, err
		}
		return pgRows{rows}, nil
	}
	ctx, err := quiet(ctx)
	if err != nil {
		return nil, err
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.sql.QueryContext(ctx, q, args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, q string, args ...any) Row {
	if t.pg != nil {
		return pgRow{t.pg.QueryRow(ctx, rebind(q), pgArgs(args)...)}
	}
	ctx, err := quiet(ctx)
	if err != nil {
		return errRow{err}
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.sql.QueryRowContext(ctx, q, args...)
}

func (t *Tx) commit(ctx context.Context) error {
	if t.pg != nil {
		return t.pg.Commit(ctx)
	}
	return t.sql.Commit()
}

func (t *Tx) rollback(ctx context.Context) error {
	if t.pg != nil {
		return t.pg.Rollback(ctx)
	}
	return t.sql.Rollback()
}

// forUpdate is the row lock a read inside a transaction takes when a later write depends on
// it: needed on PostgreSQL, where two transactions run at once; SQLite has no such clause and
// needs none, since its transactions take the one write lock when they begin.
func (t *Tx) forUpdate() string {
	if t.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// lockIn is the row lock for a read through q: FOR UPDATE when q is a PostgreSQL transaction.
func lockIn(q Queryer) string {
	if tx, ok := q.(*Tx); ok {
		return tx.forUpdate()
	}
	return ""
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

func (r pgRows) Scan(dest ...any) error { return r.Rows.Scan(pgDest(dest)...) }

type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error { return r.Row.Scan(pgDest(dest)...) }

// Flags are 0/1 integer columns, as SQLite has no boolean type: one schema for both engines.
// So a Go bool is written as 0 or 1, and read from either an integer column or a PostgreSQL
// boolean expression (lease_until IS NULL ...), as database/sql does for SQLite.
func pgArgs(args []any) []any {
	copied := false
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if !copied { // args is the caller's
				args, copied = append([]any(nil), args...), true
			}
			if b {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		}
	}
	return args
}

func pgDest(dest []any) []any {
	for i, d := range dest {
		if b, ok := d.(*bool); ok {
			dest[i] = flag{b}
		}
	}
	return dest
}

// flag scans an integer or boolean into a bool.
type flag struct{ b *bool }

func (f flag) Scan(src any) error {
	switch v := src.(type) {
	case bool:
		*f.b = v
	case int64:
		*f.b = v != 0
	case int32:
		*f.b = v != 0
	case nil:
		*f.b = false
	default:
		return fmt.Errorf("store: cannot read %T as a flag", src)
	}
	return nil
}

type pgResult pgconn.CommandTag

func (r pgResult) LastInsertId() (int64, error) {
	return 0, errors.New("store: LastInsertId is not available on PostgreSQL: use RETURNING")
}
func (r pgResult) RowsAffected() (int64, error) { return pgconn.CommandTag(r).RowsAffected(), nil }

// rebinds caches the $n form of each statement: the store's statements are constants or a
// bounded set of shapes, so this stays small.
var rebinds sync.Map

// rebind rewrites ? placeholders to PostgreSQL's $1, $2... Question marks inside string
// literals, quoted identifiers and comments are left alone.
func rebind(q string) string {
	if v, ok := rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	rebinds.Store(q, out)
	return out
}

// isUniqueViolation says whether err is the database refusing a row that a unique index or
// key forbids, read from the engine's error code (SQLSTATE 23505), never its message.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation says whether err is a reference to a row that does not exist
// (SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// errDatabaseURL is a --database-url the store cannot use.
func errDatabaseURL(url string) error {
	scheme, _, _ := strings.Cut(url, "://")
	return fmt.Errorf("store: the database URL must start with postgres:// or postgresql://, not %q", scheme+"://")
}

// Stmt is a statement run many times in one transaction.
type Stmt interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	Close() error
}

// PrepareContext prepares q for repeated use in the transaction: a real prepared statement on
// SQLite; on PostgreSQL pgx already prepares and caches each statement per connection.
func (t *Tx) PrepareContext(ctx context.Context, q string) (Stmt, error) {
	if t.pg != nil {
		return pgStmt{tx: t.pg, q: rebind(q)}, nil
	}
	return t.sql.PrepareContext(ctx, q)
}

type pgStmt struct {
	tx pgx.Tx
	q  string
}

func (s pgStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	tag, err := s.tx.Exec(ctx, s.q, pgArgs(args)...)
	return pgResult(tag), err
}

func (s pgStmt) Close() error { return nil }

// IsUniqueViolation says whether err is a unique index refusing a row, on either engine: for
// tests that check the database itself enforces a rule.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }
