// Package jobs is herolink's durable job queue: River, on whichever engine the store runs
// (riversqlite or riverpgxv5), behind one interface so that the domain packages enqueue a job
// in the same transaction as the change that calls for it without naming the engine.
package jobs

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/store"
)

// Queue is a River client on either engine.
type Queue interface {
	// Insert enqueues a job on its own.
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// InsertTx enqueues a job in tx: it runs only if tx commits.
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// InsertManyTx inserts several jobs in tx in one round trip (the webhook fan-out).
	InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// JobList lists jobs.
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// StopAndCancel stops at once, cancelling the jobs in flight (tests; shutdown on a deadline).
	StopAndCancel(ctx context.Context) error
}

// New builds the River client for st's engine. On SQLite, which has no LISTEN, workers poll
// for new jobs every config.FetchPollInterval; on PostgreSQL River is told of them at once.
func New(st *store.Store, config *river.Config) (Queue, error) {
	if st.Dialect() == store.Postgres {
		c, err := river.NewClient(riverpgxv5.New(st.Pool()), config)
		if err != nil {
			return nil, err
		}
		return &client[pgx.Tx]{Client: c, tx: func(t *store.Tx) (pgx.Tx, bool) { return t.PgxTx(), t.Dialect() == store.Postgres }}, nil
	}
	c, err := river.NewClient(riversqlite.New(st.DB()), config)
	if err != nil {
		return nil, err
	}
	return &client[*sql.Tx]{Client: c, tx: func(t *store.Tx) (*sql.Tx, bool) { return t.SQLTx(), t.Dialect() == store.SQLite }}, nil
}

// ErrOtherEngine is a transaction from another engine than the queue's: a wiring mistake.
var ErrOtherEngine = errors.New("jobs: the transaction is not on the queue's database engine")

type client[TTx any] struct {
	*river.Client[TTx]
	tx func(*store.Tx) (TTx, bool)
}

func (c *client[TTx]) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	t, ok := c.tx(tx)
	if !ok {
		return nil, ErrOtherEngine
	}
	return c.Client.InsertTx(ctx, t, args, opts)
}

func (c *client[TTx]) InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	t, ok := c.tx(tx)
	if !ok {
		return nil, ErrOtherEngine
	}
	return c.Client.InsertManyTx(ctx, t, params)
}

// Inserter enqueues jobs.
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// FromContext is the River client running the current job, whichever engine it is on: for a
// worker that enqueues further jobs.
func FromContext(ctx context.Context) (Inserter, error) {
	if c, err := river.ClientFromContextSafely[*sql.Tx](ctx); err == nil {
		return c, nil
	}
	c, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}
