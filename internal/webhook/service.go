package webhook

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/jobs"
	"herolink/internal/store"
	"herolink/internal/vault"
)

// SecretPurpose binds a sealed signing secret to its column.
const SecretPurpose = "webhook_endpoints.secret_sealed"

// Config tunes delivery. Zero values take the documented defaults.
type Config struct {
	Network
	// Overlap is how long a rotated-out secret still signs deliveries: 24 hours if zero.
	Overlap time.Duration
	// RetryFor is how long a delivery is retried, and how long an endpoint may fail before it
	// is disabled: 3 days if zero.
	RetryFor time.Duration
	// AttemptTimeout bounds one attempt: 10 s if zero.
	AttemptTimeout time.Duration
	// Backoff is the wait after the n-th failed attempt (n from 1): backoff (5 s, 30 s, 2 min,
	// 10 min, 30 min, 1 h, 2 h, 4 h, then 8 h) if nil.
	Backoff func(n int) time.Duration
	// FanOutEvery is how often the outbox is read: 500 ms if zero.
	FanOutEvery time.Duration
	// TLS is the client's TLS configuration (tests trust their own receiver); the system's if nil.
	TLS *tls.Config
}

// Service manages endpoints and delivers events.
type Service struct {
	Store *store.Store
	Vault *vault.Keyring
	// Queue runs the delivery jobs; set once River is built (it needs the service's worker).
	Queue jobs.Queue
	Log   *slog.Logger
	Now   func() time.Time

	cfg    Config
	sender *sender
}

// New builds the service.
func New(st *store.Store, keys *vault.Keyring, log *slog.Logger, cfg Config) *Service {
	if cfg.Overlap <= 0 {
		cfg.Overlap = 24 * time.Hour
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 72 * time.Hour
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 10 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = backoff
	}
	if cfg.FanOutEvery <= 0 {
		cfg.FanOutEvery = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: st, Vault: keys, Log: log, Now: time.Now, cfg: cfg,
		sender: newSender(cfg.Network, cfg.AttemptTimeout, cfg.TLS)}
}

var schedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}

// backoff is the default wait after the n-th failed attempt: the first retry within a minute,
// then growing to 8 hours, so a receiver down for 3 days is tried about 15 times.
func backoff(n int) time.Duration {
	if n >= 1 && n <= len(schedule) {
		return schedule[n-1]
	}
	return 8 * time.Hour
}

// Endpoint is an endpoint as its partner sees it.
type Endpoint struct {
	ID             string
	URL            string
	EventTypes     []string
	Description    string
	State          string // active or disabled
	DisabledReason string
	DisabledAt     time.Time
	CreatedAt      time.Time
	// Secret is set only in the answer that made it (creation or rotation).
	Secret string
	// PreviousSecretUntil is when the rotated-out secret stops signing (zero: none).
	PreviousSecretUntil time.Time
}

// Input is what a partner asks for.
type Input struct {
	URL         string
	EventTypes  []string
	Description string
}

// InputError is a refused input, naming the field.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return "webhook: " + e.Field + ": " + e.Reason }

// ErrNotFound is an endpoint the partner does not have.
var ErrNotFound = errors.New("webhook: no such endpoint")

const maxDescription = 500

func (s *Service) check(in Input) error {
	if err := s.cfg.Network.CheckURL(in.URL); err != nil {
		var ue *URLError
		if errors.As(err, &ue) {
			return &InputError{"url", ue.Reason}
		}
		return err
	}
	if len(in.EventTypes) == 0 {
		return &InputError{"event_types", "name at least one event type"}
	}
	seen := map[string]bool{}
	for _, t := range in.EventTypes {
		if !slices.Contains(EventTypes, t) {
			return &InputError{"event_types", fmt.Sprintf("%q is not an event type (one of %s)", t, strings.Join(EventTypes, ", "))}
		}
		if seen[t] {
			return &InputError{"event_types", fmt.Sprintf("%q is named twice", t)}
		}
		seen[t] = true
	}
	if utf8.RuneCountInString(in.Description) > maxDescription {
		return &InputError{"description", fmt.Sprintf("at most %d characters", maxDescription)}
	}
	return nil
}

// Create registers a partner's endpoint; the answer carries the secret, the only time it is
// shown.
func (s *Service) Create(ctx context.Context, group, owner, actor string, in Input) (Endpoint, error) {
	if err := s.check(in); err != nil {
		return Endpoint{}, err
	}
	secret := NewSecret()
	keyID, sealed, err := s.Vault.Seal(secret, SecretPurpose)
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook: seal secret: %w", err)
	}
	e := store.WebhookEndpoint{ID: "whk_" + randomHex(12), PracticeGroupID: group, OwnerID: owner, URL: in.URL,
		EventTypes: in.EventTypes, Description: in.Description, SecretKeyID: keyID, SecretSealed: sealed, CreatedBy: actor}
	if err := s.Store.CreateWebhookEndpoint(ctx, e); err != nil {
		return Endpoint{}, err
	}
	got, err := s.Store.WebhookEndpoint(ctx, e.ID)
	if err != nil {
		return Endpoint{}, err
	}
	out := toEndpoint(got)
	out.Secret = secret.Encode()
	s.Log.Info("webhook endpoint created", "endpoint", e.ID, "group", group, "owner", owner)
	return out, nil
}

// List is a partner's endpoints in a practice group.
func (s *Service) List(ctx context.Context, group, owner string) ([]Endpoint, error) {
	es, err := s.Store.WebhookEndpointsOf(ctx, group, owner)
	if err != nil {
		return nil, err
	}
	out := make([]Endpoint, 0, len(es))
	for _, e := range es {
		out = append(out, toEndpoint(e))
	}
	return out, nil
}

// Get is one of a partner's endpoints.
func (s *Service) Get(ctx context.Context, group, owner, id string) (Endpoint, error) {
	e, err := s.Store.WebhookEndpoint(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (e.PracticeGroupID != group || e.OwnerID != owner || e.State == store.WebhookDeleted)) {
		return Endpoint{}, ErrNotFound
	}
	if err != nil {
		return Endpoint{}, err
	}
	return toEndpoint(e), nil
}

// Delete removes a partner's endpoint; nothing more is sent to it.
func (s *Service) Delete(ctx context.Context, group, owner, id string) error {
	err := s.Store.DeleteWebhookEndpoint(ctx, group, owner, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// Rotate gives an endpoint a new secret, shown in the answer once. Until the overlap ends,
// deliveries carry a signature with each secret, so the partner can switch without losing any.
func (s *Service) Rotate(ctx context.Context, group, owner, id string) (Endpoint, error) {
	if _, err := s.Get(ctx, group, owner, id); err != nil {
		return Endpoint{}, err
	}
	secret := NewSecret()
	keyID, sealed, err := s.Vault.Seal(secret, SecretPurpose)
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhook: seal secret: %w", err)
	}
	err = s.Store.RotateWebhookSecret(ctx, group, owner, id, keyID, sealed, s.Now().Add(s.cfg.Overlap))
	if errors.Is(err, store.ErrNotFound) {
		return Endpoint{}, ErrNotFound
	}
	if err != nil {
		return Endpoint{}, err
	}
	e, err := s.Store.WebhookEndpoint(ctx, id)
	if err != nil {
		return Endpoint{}, err
	}
	out := toEndpoint(e)
	out.Secret = secret.Encode()
	s.Log.Info("webhook secret rotated", "endpoint", id, "previous_until", e.OldSecretUntil)
	return out, nil
}

func toEndpoint(e store.WebhookEndpoint) Endpoint {
	return Endpoint{ID: e.ID, URL: e.URL, EventTypes: e.EventTypes, Description: e.Description, State: e.State,
		DisabledReason: e.DisabledReason, DisabledAt: e.DisabledAt, CreatedAt: e.CreatedAt, PreviousSecretUntil: e.OldSecretUntil}
}

// secrets opens the secrets that sign for e now: the current one, and the previous one while
// the rotation's overlap lasts.
func (s *Service) secrets(e store.WebhookEndpoint, now time.Time) ([]Secret, error) {
	cur, err := s.Vault.Open(e.SecretKeyID, e.SecretSealed, SecretPurpose)
	if err != nil {
		return nil, fmt.Errorf("webhook: open the secret of %s: %w", e.ID, err)
	}
	out := []Secret{cur}
	if e.OldSecretKeyID != "" && now.Before(e.OldSecretUntil) {
		old, err := s.Vault.Open(e.OldSecretKeyID, e.OldSecretSealed, SecretPurpose)
		if err != nil {
			return nil, fmt.Errorf("webhook: open the previous secret of %s: %w", e.ID, err)
		}
		out = append(out, old)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const fanOutBatch = 200

// FanOut turns outbox rows not yet fanned out into deliveries, each with its River job, in
// one transaction per batch that also marks the rows: a crash before the commit leaves the
// rows to the next fan-out, after it leaves deliveries and jobs that River runs. Two instances
// take different rows (SKIP LOCKED), and a row taken twice still makes one delivery per
// endpoint (a unique key). It returns how many deliveries it made.
func (s *Service) FanOut(ctx context.Context) (int, error) {
	if waiting, err := s.Store.OutboxWaiting(ctx); err != nil || !waiting {
		return 0, err
	}
	total := 0
	for {
		n, more, err := s.fanOutAppointments(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if !more {
			break
		}
	}
	for {
		n, more, err := s.fanOutHealth(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *Service) fanOutAppointments(ctx context.Context) (made int, more bool, err error) {
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		made = 0
		evs, err := s.Store.ClaimAppointmentEvents(ctx, tx, fanOutBatch)
		if err != nil {
			return err
		}
		more = len(evs) == fanOutBatch
		type key struct{ group, owner string }
		endpoints := map[key][]store.WebhookEndpoint{}
		ids := make([]int64, 0, len(evs))
		var jobs []river.InsertManyParams
		for _, e := range evs {
			ids = append(ids, e.ID)
			if e.OwnerID == "" {
				continue // booked by staff or a patient's link: no partner to tell
			}
			typ, body, ok := appointmentPayload(e)
			if !ok {
				continue
			}
			k := key{e.PracticeGroupID, e.OwnerID}
			eps, seen := endpoints[k]
			if !seen {
				if eps, err = s.Store.ActiveWebhookEndpoints(ctx, tx, e.PracticeGroupID, e.OwnerID); err != nil {
					return err
				}
				endpoints[k] = eps
			}
			n, err := s.deliverTo(ctx, tx, eps, store.WebhookDelivery{MsgID: "msg_ae" + strconv.FormatInt(e.ID, 10),
				EventType: typ, Stream: e.AppointmentID, Source: store.SourceAppointmentEvents, SourceID: e.ID, Payload: string(body)}, &jobs)
			if err != nil {
				return err
			}
			made += n
		}
		if err := s.enqueue(ctx, tx, jobs); err != nil {
			return err
		}
		return s.Store.MarkAppointmentEventsFannedOut(ctx, tx, ids)
	})
	return made, more, err
}

func (s *Service) fanOutHealth(ctx context.Context) (made int, more bool, err error) {
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		made = 0
		evs, err := s.Store.ClaimHealthEvents(ctx, tx, fanOutBatch)
		if err != nil {
			return err
		}
		more = len(evs) == fanOutBatch
		ids := make([]int64, 0, len(evs))
		var jobs []river.InsertManyParams
		for _, e := range evs {
			ids = append(ids, e.ID)
			body, ok := connectionPayload(e)
			if !ok {
				continue
			}
			// Every partner with an endpoint in the practice's group may subscribe.
			eps, err := s.Store.ActiveWebhookEndpoints(ctx, tx, e.PracticeGroupID, "")
			if err != nil {
				return err
			}
			n, err := s.deliverTo(ctx, tx, eps, store.WebhookDelivery{MsgID: "msg_he" + strconv.FormatInt(e.ID, 10),
				EventType: TypeConnectionStatus, Stream: "practice:" + strconv.FormatInt(e.PracticeID, 10),
				Source: store.SourceHealthEvents, SourceID: e.ID, Payload: string(body)}, &jobs)
			if err != nil {
				return err
			}
			made += n
		}
		if err := s.enqueue(ctx, tx, jobs); err != nil {
			return err
		}
		return s.Store.MarkHealthEventsFannedOut(ctx, tx, ids)
	})
	return made, more, err
}

// deliverTo inserts d for every endpoint subscribed to its type and adds its job to jobs (the
// caller inserts them in the same transaction).
func (s *Service) deliverTo(ctx context.Context, tx *store.Tx, eps []store.WebhookEndpoint, d store.WebhookDelivery, jobs *[]river.InsertManyParams) (int, error) {
	made := 0
	for _, ep := range eps {
		if !slices.Contains(ep.EventTypes, d.EventType) {
			continue
		}
		d.EndpointID = ep.ID
		id, inserted, err := s.Store.InsertWebhookDelivery(ctx, tx, d)
		if err != nil {
			return made, err
		}
		if !inserted {
			continue
		}
		*jobs = append(*jobs, river.InsertManyParams{Args: DeliverArgs{DeliveryID: id}, InsertOpts: deliverOpts()})
		made++
	}
	return made, nil
}

func (s *Service) enqueue(ctx context.Context, tx *store.Tx, jobs []river.InsertManyParams) error {
	if len(jobs) == 0 {
		return nil
	}
	if _, err := s.Queue.InsertManyTx(ctx, tx, jobs); err != nil {
		return fmt.Errorf("webhook: enqueue %d deliveries: %w", len(jobs), err)
	}
	return nil
}

// Resend sends a delivery again (staff's "resend"), as a new series of attempts.
func (s *Service) Resend(ctx context.Context, deliveryID int64) error {
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.ResendWebhookDelivery(ctx, tx, deliveryID); err != nil {
			return err
		}
		_, err := s.Queue.InsertTx(ctx, tx, DeliverArgs{DeliveryID: deliveryID, Resend: s.Now().UnixNano()}, deliverOpts())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// RunFanOut fans out every FanOutEvery until ctx ends. Every instance runs it; they never
// make a delivery twice.
func (s *Service) RunFanOut(ctx context.Context) {
	t := time.NewTicker(s.cfg.FanOutEvery)
	defer t.Stop()
	for {
		if _, err := s.FanOut(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("webhook fan-out", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliveryQueue is the River queue of webhook deliveries.
const DeliveryQueue = "webhooks"

func deliverOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: DeliveryQueue, MaxAttempts: 100, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}
