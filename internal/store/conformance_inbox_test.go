package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
)

// placeholderSince makes apt a placeholder written at the clock's time now.
func placeholderSince(t *testing.T, st *store.Store, id string) {
	t.Helper()
	setState(t, st, id, "placeholder", ", emis_written = 'placeholder'")
	must(t, st.AddAppointmentEvent(context.Background(), st.DBQ(), id, "appointment.confirmed", "placeholder"))
}

func TestConformanceWaitingPlaceholdersAndTheirThreshold(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		q := setUp(t, st, "B82002")
		must(t, insertHold(t, st, hold(f.practice, "apt_1", 1, 0)))
		must(t, insertHold(t, st, hold(f.practice, "apt_2", 2, 0)))
		must(t, insertHold(t, st, hold(q.practice, "apt_3", 1, 0)))
		placeholderSince(t, st, "apt_2")
		c.advance(time.Minute)
		placeholderSince(t, st, "apt_1")
		must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_1", "appointment.confirmed", "placeholder")) // written again: the first counts
		placeholderSince(t, st, "apt_3")
		must(t, st.SetPlaceholderOverdue(ctx, q.practice.ID, 45*time.Minute, auditOf("placeholder_threshold_changed")))

		w, err := st.WaitingPlaceholders(ctx, f.practice.ID)
		must(t, err)
		if len(w) != 2 || w[0].AppointmentID != "apt_2" || !w[0].Since.Equal(epoch) || w[1].AppointmentID != "apt_1" ||
			!w[1].Since.Equal(epoch.Add(time.Minute)) || w[0].Threshold != store.DefaultPlaceholderOverdue || w[0].Overdue {
			t.Fatalf("waiting at A81001 = %+v", w)
		}
		all, err := st.WaitingPlaceholders(ctx, 0)
		must(t, err)
		if len(all) != 3 || all[2].AppointmentID != "apt_3" || all[2].Threshold != 45*time.Minute {
			t.Fatalf("waiting everywhere = %+v", all)
		}
		if err := st.SetPlaceholderOverdue(ctx, f.practice.ID, 0, auditOf("x")); err == nil {
			t.Fatal("a threshold of 0 minutes was stored")
		}
		if d, _ := st.PlaceholderOverdue(ctx, f.practice.ID); d != store.DefaultPlaceholderOverdue {
			t.Fatalf("threshold = %s after a refused change", d)
		}
	})
}

// Two instances' sweeps recording one placeholder overdue at once record it once: the guard is
// in the UPDATE, on the row itself.
func TestAPlaceholderIsMarkedOverdueOnceEvenByTwoTransactionsAtOnce(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		must(t, insertHold(t, st, hold(f.practice, "apt_1", 1, 0)))
		placeholderSince(t, st, "apt_1")
		mark := func() error {
			return st.InTx(ctx, func(tx *store.Tx) error {
				if err := st.MarkPlaceholderOverdue(ctx, tx, "apt_1", c.t); err != nil {
					return err
				}
				return st.AddAppointmentEvent(ctx, tx, "apt_1", "appointment.placeholder_overdue", "10m0s")
			})
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = mark() })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrStateChanged):
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of two transactions recorded the placeholder overdue", ok)
		}
		// Alerted cleared by a conversion that was undone: still not overdue a second time.
		exec(t, st, `UPDATE appointments SET alerted_at = NULL WHERE id = 'apt_1'`)
		if err := mark(); !errors.Is(err, store.ErrStateChanged) {
			t.Fatalf("marked overdue again: %v", err)
		}
		w, err := st.WaitingPlaceholders(ctx, 0)
		must(t, err)
		if len(w) != 1 || !w[0].Overdue {
			t.Fatalf("waiting = %+v", w)
		}
	})
}

func TestConformancePlaceholderFiguresAndCandidates(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		for i, id := range []string{"apt_1", "apt_2", "apt_3", "apt_4"} {
			must(t, insertHold(t, st, hold(f.practice, id, i+1, 0)))
			placeholderSince(t, st, id)
		}
		c.advance(4 * time.Minute)
		setState(t, st, "apt_1", "booked", ", updated_at = ?", c.t.UnixMilli())
		must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_1", "appointment.reconciled", "staff_link"))
		c.advance(4 * time.Minute)
		setState(t, st, "apt_2", "cancelled", ", updated_at = ?", c.t.UnixMilli())
		must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_2", "appointment.cancelled", "staff"))
		c.advance(4 * time.Minute)
		setState(t, st, "apt_3", "failed", ", updated_at = ?", c.t.UnixMilli())
		must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_3", "appointment.failed", "slot_taken"))
		figs, err := st.PlaceholderFigures(ctx, f.practice.ID, epoch)
		must(t, err)
		if figs.Open != 1 || !figs.OldestSince.Equal(epoch) || figs.Resolved != 3 || figs.MedianResolve != 8*time.Minute {
			t.Fatalf("figures = %+v", figs)
		}
		if figs, _ = st.PlaceholderFigures(ctx, f.practice.ID, epoch.Add(5*time.Minute)); figs.Resolved != 2 || figs.MedianResolve != 10*time.Minute {
			t.Fatalf("figures from minute 5 = %+v", figs)
		}

		if _, err := st.MatchCandidatesOf(ctx, "apt_4"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("candidates before any search: %v", err)
		}
		must(t, st.SaveMatchCandidates(ctx, st.DBQ(), "apt_4", store.MatchCandidates{SearchedAt: c.t, Reason: "first", Candidates: "[]"}))
		must(t, st.SaveMatchCandidates(ctx, st.DBQ(), "apt_4", store.MatchCandidates{SearchedAt: c.t, Reason: "second", Candidates: `[{"emis_number":1}]`}))
		m, err := st.MatchCandidatesOf(ctx, "apt_4")
		must(t, err)
		if m.Reason != "second" || m.Candidates != `[{"emis_number":1}]` || !m.SearchedAt.Equal(c.t) {
			t.Fatalf("candidates = %+v", m)
		}
		if name, err := st.APIKeyName(ctx, "no_such_key"); err != nil || name != "" {
			t.Fatalf("name of a missing key = %q, %v", name, err)
		}
	})
}

// The deterministic sibling of the test above (PostgreSQL: two transactions open at once): the
// second marks while the first holds the row, and is let through only once the database shows
// it waiting on the first's lock.
func TestASecondMarkWaitingOnTheFirstsRowLockDoesNotMarkThePlaceholderOverdueAgain(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite runs one writing transaction at a time")
		}
		f := setUp(t, st, "A81001")
		must(t, insertHold(t, st, hold(f.practice, "apt_1", 1, 0)))
		placeholderSince(t, st, "apt_1")
		mark := func(inside func()) error {
			return st.InTx(ctx, func(tx *store.Tx) error {
				if err := st.MarkPlaceholderOverdue(ctx, tx, "apt_1", c.t); err != nil {
					return err
				}
				if err := st.AddAppointmentEvent(ctx, tx, "apt_1", "appointment.placeholder_overdue", "10m0s"); err != nil {
					return err
				}
				inside()
				return nil
			})
		}
		second := make(chan error, 1)
		err := mark(func() {
			go func() { second <- mark(func() {}) }()
			deadline := time.Now().Add(10 * time.Second)
			for {
				var waiting int
				must(t, st.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting))
				if waiting > 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Error("the second transaction never waited on the first's row lock")
					return
				}
				time.Sleep(5 * time.Millisecond) // polling the server's own view of the lock
			}
		})
		must(t, err)
		if err := <-second; !errors.Is(err, store.ErrStateChanged) {
			t.Fatalf("the second transaction, waiting on the first, answered %v: the placeholder was recorded overdue twice", err)
		}
	})
}
