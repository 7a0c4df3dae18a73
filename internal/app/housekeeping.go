package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/store"
)

// purgeArgs is the periodic job that deletes Idempotency-Key answers past their day.
type purgeArgs struct{}

func (purgeArgs) Kind() string { return "api_idempotency_purge" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	store *store.Store
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	_, err := w.store.PurgeIdempotency(ctx)
	if err == nil {
		// Failed sign-ins older than the throttle's longest window (15 minutes by default).
		_, err = w.store.PurgeSignInFailures(ctx, time.Now(), time.Hour)
	}
	if err == nil {
		// Webhook deliveries and their attempts, 30 days after they settled.
		_, err = w.store.PurgeWebhookHistory(ctx, time.Now().Add(-webhookHistory))
	}
	if err == nil {
		// Booking link visits once expired: they hold what patients typed.
		_, err = w.store.PurgeBookingLinkVisits(ctx, time.Now())
	}
	return err
}

// webhookHistory is how long settled webhook deliveries and their attempts are kept.
const webhookHistory = 30 * 24 * time.Hour

// purgeJob runs the purge every 10 minutes and at start.
func purgeJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(10*time.Minute), func() (river.JobArgs, *river.InsertOpts) {
		return purgeArgs{}, &river.InsertOpts{MaxAttempts: 1}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
