package store

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RoundTrips counts what a PostgreSQL pool sends to the server and waits on: statements,
// batches, prepares and COPYs.
type RoundTrips struct{ n atomic.Int64 }

// Count is the number sent since the last Reset.
func (r *RoundTrips) Count() int64 { return r.n.Load() }

// Reset starts the count again.
func (r *RoundTrips) Reset() { r.n.Store(0) }

func (r *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (r *RoundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *RoundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}
func (r *RoundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *RoundTrips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// OpenPostgresCounting is OpenPostgres with the round trips of its pool counted, on one
// connection: what a test prepares on it is there for what the test counts next, which a
// fresh connection of a bigger pool would prepare again, a round trip more.
func OpenPostgresCounting(ctx context.Context, url string) (*Store, *RoundTrips, error) {
	rt := &RoundTrips{}
	st, err := openPostgres(ctx, url, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = rt
		c.MaxConns = 1
	})
	return st, rt, err
}

// PoolSizeFor is the pool an instance with this many cores keeps by default.
func PoolSizeFor(cores int) int32 { return poolSizeFor(cores) }

// ExecOutsideTx runs one statement on the store's pool, for a test's own tables.
func (s *Store) ExecOutsideTx(ctx context.Context, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, q, args...)
	return err
}

// ConnectionsInUse is how many of a PostgreSQL pool's connections are taken (0 on SQLite).
func (s *Store) ConnectionsInUse() int32 {
	if s.db.pool == nil {
		return 0
	}
	return s.db.pool.Stat().AcquiredConns()
}

// PoolSize is the most connections a PostgreSQL pool opens (0 on SQLite).
func (s *Store) PoolSize() int32 {
	if s.db.pool == nil {
		return 0
	}
	return s.db.pool.Config().MaxConns
}

// CountInBatch counts the rows of q read through a batch of t, as the sync's batched reads
// read them.
func (t *Tx) CountInBatch(ctx context.Context, q string, args ...any) (int, error) {
	n := 0
	b := t.newBatch()
	if err := b.query(ctx, func(Row) error { n++; return nil }, q, args...); err != nil {
		return 0, err
	}
	return n, b.flush(ctx)
}
