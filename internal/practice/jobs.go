package practice

import (
	"context"
	"errors"
	"time"

	"herolink/internal/jobs"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// HealthCheckArgs is the durable job that checks one practice's connection.
type HealthCheckArgs struct {
	PracticeID int64 `json:"practice_id"`
}

// Kind names the job in River's table.
func (HealthCheckArgs) Kind() string { return "practice_health_check" }

// InsertOpts keeps at most one waiting or running check per practice. Completed checks are
// left out of the uniqueness on purpose: River's default includes them, which would skip every
// later check of the practice until the completed job is cleaned up a day later.
func (HealthCheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}
}

// HealthCheckWorker runs HealthCheckArgs.
type HealthCheckWorker struct {
	river.WorkerDefaults[HealthCheckArgs]
	Service *Service
}

// Timeout bounds one check: a logon and one read, each bounded by the client's call timeout.
func (w *HealthCheckWorker) Timeout(*river.Job[HealthCheckArgs]) time.Duration {
	return 2 * time.Minute
}

// Work checks the practice.
func (w *HealthCheckWorker) Work(ctx context.Context, job *river.Job[HealthCheckArgs]) error {
	_, err := w.Service.CheckHealth(ctx, job.Args.PracticeID)
	if errors.Is(err, ErrCredentialsRejected) {
		return nil // nothing to do until new credentials arrive
	}
	return err
}

// HealthSweepArgs is the periodic job that enqueues the checks that are due.
type HealthSweepArgs struct{}

// Kind names the job in River's table.
func (HealthSweepArgs) Kind() string { return "practice_health_sweep" }

// HealthSweepWorker enqueues a HealthCheckArgs for every practice whose check is due.
type HealthSweepWorker struct {
	river.WorkerDefaults[HealthSweepArgs]
	Service *Service
}

// Work enqueues due checks.
func (w *HealthSweepWorker) Work(ctx context.Context, job *river.Job[HealthSweepArgs]) error {
	due, err := w.Service.Store.DuePractices(ctx, 1000)
	if err != nil {
		return err
	}
	client, err := jobs.FromContext(ctx)
	if err != nil {
		return err
	}
	for _, p := range due {
		if _, err := client.Insert(ctx, HealthCheckArgs{PracticeID: p.ID}, nil); err != nil {
			return err
		}
	}
	return nil
}

// HealthSweepJob is the periodic job definition: every interval, and once at start.
func HealthSweepJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return HealthSweepArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// AddWorkers registers the practice package's workers.
func AddWorkers(workers *river.Workers, s *Service) {
	river.AddWorker(workers, &HealthCheckWorker{Service: s})
	river.AddWorker(workers, &HealthSweepWorker{Service: s})
}
