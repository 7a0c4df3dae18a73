package jobs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river"

	"herolink/internal/jobs"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

func TestJobsInsertedTogetherInATransactionExistOnlyIfItCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, noteWorker{})
		q, err := jobs.New(st, &river.Config{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		batch := func(from int) []river.InsertManyParams {
			return []river.InsertManyParams{{Args: noteArgs{N: from}}, {Args: noteArgs{N: from + 1}}, {Args: noteArgs{N: from + 2}}}
		}
		errRolledBack := errors.New("rolled back on purpose")
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := q.InsertManyTx(ctx, tx, batch(10)); err != nil {
				return err
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := q.InsertManyTx(ctx, tx, batch(20))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res, err := q.JobList(ctx, river.NewJobListParams().Kinds(noteArgs{}.Kind()))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) != 3 {
			t.Fatalf("%d jobs, want the committed three", len(res.Jobs))
		}
	})
}
