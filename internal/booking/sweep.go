package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// Sweep expires holds, re-enqueues write-backs whose job was lost or gave up, and follows
// the diary feed. It runs periodically on River's leader; every part is safe to repeat. A
// write-back whose worker died is resumed by WatchOrphans, on every instance.
func (s *Service) Sweep(ctx context.Context) error {
	if n, err := s.Store.ExpireHolds(ctx); err != nil {
		return err
	} else if n > 0 {
		s.log().Info("holds expired", "count", n)
	}
	if err := s.alertPlaceholders(ctx); err != nil {
		return err
	}
	ids, err := s.Store.AppointmentsNeedingEMIS(ctx, s.now().Add(-s.rematchEvery()), 1000)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.River.Insert(ctx, WritebackArgs{AppointmentID: id}, nil); err != nil {
			return fmt.Errorf("booking: re-enqueue %s: %w", id, err)
		}
	}
	// Read the feed until it is caught up (or for at most 5 s: the next sweep goes on).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, err := s.FollowDiary(ctx)
		if err != nil || n < feedBatch {
			return err
		}
	}
	return nil
}

// SweepArgs is the periodic job running Sweep.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "booking_sweep" }

// SweepWorker runs SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Service *Service
}

// Work sweeps.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.Service.Sweep(ctx)
}

// SweepJob runs the sweep every interval.
func SweepJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, &river.InsertOpts{MaxAttempts: 1}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// AddWorkers registers the booking workers.
func AddWorkers(w *river.Workers, s *Service) {
	river.AddWorker(w, &WritebackWorker{Service: s})
	river.AddWorker(w, &SweepWorker{Service: s})
	river.AddWorker(w, &ReflectWorker{Service: s})
}
