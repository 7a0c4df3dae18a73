package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/store"
)

// DeliverArgs is the River job that delivers one message to one endpoint.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	// Resend distinguishes a staff resend from the delivery's own job, which may still be
	// finishing (River's uniqueness would otherwise drop the resend).
	Resend int64 `json:"resend,omitempty"`
}

// Kind names the job in River.
func (DeliverArgs) Kind() string { return "webhook_deliver" }

// AddWorkers registers the delivery worker.
func AddWorkers(w *river.Workers, s *Service) { river.AddWorker(w, &deliverWorker{s: s}) }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// errAttemptFailed makes River retry the job at NextRetry.
var errAttemptFailed = errors.New("webhook: the receiver did not accept the delivery")

// Timeout leaves room for the attempt and the writes around it.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.s.cfg.AttemptTimeout + 20*time.Second
}

// NextRetry is when the delivery said it is next tried (its backoff, kept in the database).
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	soon := time.Now().Add(time.Millisecond)
	d, err := w.s.Store.WebhookDeliveryByID(context.Background(), job.Args.DeliveryID)
	if err == nil && !d.NextAttemptAt.IsZero() {
		return later(d.NextAttemptAt, soon) // River takes a time already past for a mistake
	}
	return time.Now().Add(w.s.cfg.Backoff(job.Attempt))
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.deliver(ctx, job.Args.DeliveryID)
}

// deliver makes one attempt at a delivery, if it is still pending and the earlier messages of
// its stream have been settled; a failure returns errAttemptFailed so River retries it.
func (s *Service) deliver(ctx context.Context, id int64) error {
	d, err := s.Store.WebhookDeliveryByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.State != store.DeliveryPending {
		return nil
	}
	ep, err := s.Store.WebhookEndpoint(ctx, d.EndpointID)
	if err != nil {
		return err
	}
	if ep.State != store.WebhookActive {
		return s.Store.SettleWebhookDelivery(ctx, d.ID, store.DeliverySkipped)
	}
	// In order per appointment: an earlier message still pending (or not yet fanned out) goes
	// first; this one waits until that one's next try, and longer the more are ahead of it (a
	// deep queue would otherwise wake every waiting job at every step), then looks again.
	wait, ahead, until, err := s.Store.WebhookDeliveryWaits(ctx, d)
	if err != nil {
		return err
	}
	if wait {
		return river.JobSnooze(orderWait(time.Until(until), ahead))
	}
	now := s.Now()
	secrets, err := s.secrets(ep, now)
	if err != nil {
		return err
	}
	body := []byte(d.Payload)
	res := s.sender.post(ctx, ep.URL, Sign(d.MsgID, now, body, secrets...), body)
	next := now.Add(s.cfg.Backoff(d.Attempts + 1))
	failingSince, err := s.Store.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: d.ID, EndpointID: ep.ID,
		At: now, Status: res.Status, Latency: res.Latency, Error: res.Err, Excerpt: res.Excerpt}, res.ok(), next)
	if err != nil {
		return err
	}
	if res.ok() {
		return nil
	}
	s.Log.Info("webhook delivery failed", "endpoint", ep.ID, "delivery", d.ID, "type", d.EventType,
		"attempt", d.Attempts+1, "status", res.Status, "error", res.Err)
	if !failingSince.IsZero() && now.Sub(failingSince) >= s.cfg.RetryFor {
		return s.disable(ctx, ep, failingSince, res)
	}
	first := d.FirstAttemptAt
	if first.IsZero() {
		first = now
	}
	if now.Sub(first) >= s.cfg.RetryFor {
		s.Log.Warn("webhook delivery given up", "endpoint", ep.ID, "delivery", d.ID, "attempts", d.Attempts+1)
		return s.Store.SettleWebhookDelivery(ctx, d.ID, store.DeliveryFailed)
	}
	return errAttemptFailed
}

// disable stops deliveries to an endpoint that has failed for the whole retry period: the
// partner sees disabled_reason on GET /v1/webhooks, staff of the group's practices see the
// audit line and the webhooks page.
func (s *Service) disable(ctx context.Context, ep store.WebhookEndpoint, since time.Time, last result) error {
	reason := fmt.Sprintf("Every delivery failed from %s to %s (last: %s). Fix the receiver, then register it again.",
		since.UTC().Format(time.RFC3339), s.Now().UTC().Format(time.RFC3339), last.Err)
	done, err := s.Store.DisableWebhookEndpoint(ctx, ep.ID, reason, store.AuditEntry{Actor: "herolink",
		Action: "webhook.endpoint_disabled", Detail: fmt.Sprintf("endpoint %s of partner %s disabled: %s", ep.ID, ep.OwnerID, reason)})
	if err != nil {
		return err
	}
	if done {
		s.Log.Warn("webhook endpoint disabled", "endpoint", ep.ID, "owner", ep.OwnerID, "failing_since", since)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// orderWait is how long a delivery waits for the ahead messages before it: until the first's
// next try (untilFirst), at least 40 ms per message ahead, between 50 ms and 5 minutes.
func orderWait(untilFirst time.Duration, ahead int) time.Duration {
	return min(max(untilFirst+100*time.Millisecond, time.Duration(ahead)*40*time.Millisecond, 50*time.Millisecond), 5*time.Minute)
}
