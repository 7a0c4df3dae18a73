package jobs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"go.uber.org/goleak"

	"herolink/internal/jobs"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type noteArgs struct{ N int }

func (noteArgs) Kind() string { return "jobs_test_note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
}

func (noteWorker) Work(context.Context, *river.Job[noteArgs]) error { return nil }

// A job enqueued in a transaction exists only if the transaction commits, on either engine:
// how the booking core makes a state change and its write-back job one step.
func TestAJobEnqueuedInATransactionExistsOnlyIfItCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, noteWorker{})
		q, err := jobs.New(st, &river.Config{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		errRolledBack := errors.New("rolled back on purpose")
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := q.InsertTx(ctx, tx, noteArgs{N: 1}, nil); err != nil {
				return err
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := q.InsertTx(ctx, tx, noteArgs{N: 2}, nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res, err := q.JobList(ctx, river.NewJobListParams().Kinds(noteArgs{}.Kind()))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 1 {
			t.Fatalf("%d jobs, want only the committed one", len(res.Jobs))
		}
	})
}

// A transaction of one engine given to a queue of the other is refused, not half-applied.
func TestATransactionOfTheOtherEngineIsRefused(t *testing.T) {
	lite, pg := storetest.OpenSQLite(t), storetest.OpenPostgres(t)
	workers := river.NewWorkers()
	river.AddWorker(workers, noteWorker{})
	q, err := jobs.New(lite, &river.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = pg.InTx(ctx, func(tx *store.Tx) error {
		_, err := q.InsertTx(ctx, tx, noteArgs{N: 3}, nil)
		return err
	})
	if !errors.Is(err, jobs.ErrOtherEngine) {
		t.Fatalf("a SQLite queue given a PostgreSQL transaction: %v, want ErrOtherEngine", err)
	}
}
