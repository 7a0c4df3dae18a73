package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// batch runs many writes of one transaction with as few round trips as the engine allows: on
// PostgreSQL they are queued and sent together at flush (one round trip instead of one per
// row, which is what a sync pass of thousands of slots needs); on SQLite, in-process, each runs
// at once through a statement prepared once per batch. Use it only for writes whose results
// nothing reads before flush.
type batch struct {
	tx    *Tx
	pg    *pgx.Batch
	stmts map[string]Stmt
}

func (t *Tx) newBatch() *batch {
	if t.pg != nil {
		return &batch{tx: t, pg: &pgx.Batch{}}
	}
	return &batch{tx: t, stmts: map[string]Stmt{}}
}

func (b *batch) exec(ctx context.Context, q string, args ...any) error {
	if b.pg != nil {
		b.pg.Queue(rebind(q), pgArgs(args)...)
		return nil
	}
	if hot := b.tx.stmt(ctx, q); hot != nil {
		_, err := hot.ExecContext(ctx, args...)
		return err
	}
	st, ok := b.stmts[q]
	if !ok {
		var err error
		if st, err = b.tx.PrepareContext(ctx, q); err != nil {
			return err
		}
		b.stmts[q] = st
	}
	_, err := st.ExecContext(ctx, args...)
	return err
}

// flush sends what is queued and closes the prepared statements. The first failing
// statement's error is returned (the transaction is then to be rolled back).
func (b *batch) flush(ctx context.Context) error {
	if b.pg != nil {
		n := b.pg.Len()
		if n == 0 {
			return nil
		}
		br := b.tx.pg.SendBatch(ctx, b.pg)
		for i := 0; i < n; i++ {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("statement %d of %d: %w", i+1, n, err)
			}
		}
		b.pg = &pgx.Batch{}
		return br.Close()
	}
	var first error
	for q, st := range b.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(b.stmts, q)
	}
	return first
}
