package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// batch runs many statements of one transaction with as few round trips as the engine allows:
// on PostgreSQL they are queued and sent together at flush (one round trip instead of one per
// row, which is what a sync pass of thousands of slots needs); on SQLite, in-process, each runs
// at once through a statement prepared once per batch. Use it only for writes whose results
// nothing reads before flush, and for reads (queryRow, query) whose answers nothing uses
// before flush.
type batch struct {
	tx    *Tx
	pg    *pgx.Batch
	stmts map[string]Stmt
}

// adHocPreparesKey carries, in this package's tests, a count of the statements a batch
// prepared for its transaction alone on SQLite.
type adHocPreparesKey struct{}

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
	ctx, err := quiet(ctx)
	if err != nil {
		return err
	}
	if hot := b.tx.stmt(ctx, q); hot != nil {
		_, err := hot.ExecContext(ctx, args...)
		return err
	}
	st, ok := b.stmts[q]
	if !ok {
		if n, ok := ctx.Value(adHocPreparesKey{}).(*int); ok {
			*n++
		}
		if st, err = b.tx.PrepareContext(ctx, q); err != nil {
			return err
		}
		b.stmts[q] = st
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// queryRow reads one row and hands it to scan: at once on SQLite; on PostgreSQL at flush, in
// the batch's order.
func (b *batch) queryRow(ctx context.Context, scan func(Row) error, q string, args ...any) error {
	if b.pg != nil {
		b.pg.Queue(rebind(q), pgArgs(args)...).QueryRow(func(r pgx.Row) error { return scan(pgRow{r}) })
		return nil
	}
	return scan(b.tx.QueryRowContext(ctx, q, args...))
}

// query reads rows and hands each to each, when queryRow would.
func (b *batch) query(ctx context.Context, each func(Row) error, q string, args ...any) error {
	if b.pg != nil {
		// Not QueuedQuery.Query, which closes the rows it is given even when a batch sent on a
		// closed transaction gives none.
		b.pg.Queue(rebind(q), pgArgs(args)...).Fn = func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if rows == nil {
				return err
			}
			defer rows.Close()
			if err != nil {
				return err
			}
			if err := eachRow(pgRows{rows}, each); err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}
		return nil
	}
	rows, err := b.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if err := eachRow(rows, each); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// eachRow hands every row to each, stopping at the first error.
func eachRow(rows Rows, each func(Row) error) error {
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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
		for i, qq := range b.pg.QueuedQueries {
			var err error
			if qq.Fn != nil {
				err = qq.Fn(br) // a read: its answer to its scan
			} else {
				_, err = br.Exec()
			}
			if err != nil {
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
