package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/jobs"
	"herolink/internal/store"
	"herolink/internal/vault"
	"herolink/internal/webhook"
)

// testBundle is one herolink instance's webhook side on a fresh database, with a practice
// of group G and two partners of that group.
type testBundle struct {
	st       *store.Store
	keys     *vault.Keyring
	svc      *webhook.Service
	queue    jobs.Queue
	practice store.Practice
	ctx      context.Context
}

const (
	partnerA = "key_partner_a"
	partnerB = "key_partner_b"
)

// fast makes retries quick enough for a test: 20 ms between attempts, 300 ms per attempt.
func fast(cfg webhook.Config) webhook.Config {
	cfg.AllowHTTPLoopback = true
	if cfg.Backoff == nil {
		cfg.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = 300 * time.Millisecond
	}
	return cfg
}

func setup(t testing.TB, st *store.Store, cfg webhook.Config) *testBundle {
	t.Helper()
	ctx := context.Background()
	keys, err := vault.LoadFile(filepath.Join(t.TempDir(), "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.EnsurePractice(ctx, "A81001", 1001, "The Surgery")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{st: st, keys: keys, practice: p, ctx: ctx}
	b.svc, b.queue = b.instance(t, cfg)
	return b
}

// instance builds another herolink instance's webhook service and queue on the same
// database and vault; its queue is not started.
func (b *testBundle) instance(t testing.TB, cfg webhook.Config) (*webhook.Service, jobs.Queue) {
	t.Helper()
	svc := webhook.New(b.st, b.keys, nil, fast(cfg))
	workers := river.NewWorkers()
	webhook.AddWorkers(workers, svc)
	q, err := jobs.New(b.st, &river.Config{Queues: map[string]river.QueueConfig{webhook.DeliveryQueue: {MaxWorkers: 4}},
		Workers: workers, FetchPollInterval: 20 * time.Millisecond, FetchCooldown: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.Queue = q
	return svc, q
}

// start runs q's workers until the test ends.
func start(t testing.TB, q jobs.Queue) {
	t.Helper()
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
}

// appointment inserts an appointment of owner ("" for none) on slot n.
func (b *testBundle) appointment(t testing.TB, id, owner string, n int) {
	t.Helper()
	start := time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * 10 * time.Minute)
	a := store.AppointmentRow{ID: id, Reference: "HL-" + strings.ToUpper(id), PracticeGroupID: b.practice.PracticeGroupID,
		PracticeID: b.practice.ID, APIKeyID: owner, SlotID: int64(5000 + n), SessionID: 900, StartAt: start,
		LengthMin: 10, EMISSlotTypeID: 1, State: "reserved", ReservedUntil: time.Now().Add(time.Hour)}
	if err := b.st.InTx(b.ctx, func(tx *store.Tx) error { return b.st.InsertHold(b.ctx, tx, a) }); err != nil {
		t.Fatal(err)
	}
}

// event records an internal appointment event, as the booking core does in its transaction.
func (b *testBundle) event(t testing.TB, appointmentID, event, detail string) {
	t.Helper()
	if err := b.st.InTx(b.ctx, func(tx *store.Tx) error {
		return b.st.AddAppointmentEvent(b.ctx, tx, appointmentID, event, detail)
	}); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) fanOut(t testing.TB) int {
	t.Helper()
	n, err := b.svc.FanOut(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *testBundle) endpoint(t testing.TB, owner, url string, types ...string) webhook.Endpoint {
	t.Helper()
	if len(types) == 0 {
		types = webhook.EventTypes
	}
	e, err := b.svc.Create(b.ctx, b.practice.PracticeGroupID, owner, "test", webhook.Input{URL: url, EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// message is a delivery as the receiver got it, after verifying it.
type message struct {
	ID       string
	Type     string
	Data     map[string]any
	Body     []byte
	Verified []int // which of the receiver's secrets verified it
}

// receiver is a partner's endpoint. It verifies every delivery with its own reading of
// Standard Webhooks 1.0, independent of herolink's signer: HMAC-SHA256 keyed by the base64
// after "whsec_", over "{webhook-id}.{webhook-timestamp}.{body}", compared with each
// space-separated "v1,<base64>" of webhook-signature; the timestamp within 5 minutes.
type receiver struct {
	t       testing.TB
	srv     *httptest.Server
	mu      sync.Mutex
	secrets []string
	arrived []message // every arrival, verified or not, in order
	got     []message // accepted (answered 2xx)
	// answer decides each arrival's answer (n counts arrivals of that webhook-id from 1);
	// 200 if nil. It may block on r.Context() to play a receiver that does not answer.
	answer func(w http.ResponseWriter, r *http.Request, m message, n int) int
	signal chan struct{}
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{t: t, signal: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) trust(secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secrets = append(rc.secrets, secret)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m := message{ID: r.Header.Get("webhook-id"), Body: body}
	var p struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(body, &p)
	m.Type, m.Data = p.Type, p.Data
	rc.mu.Lock()
	m.Verified = verify(rc.secrets, r.Header, body, time.Now())
	n := 1
	for _, a := range rc.arrived {
		if a.ID == m.ID {
			n++
		}
	}
	rc.arrived = append(rc.arrived, m)
	answer := rc.answer
	rc.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(w, r, m, n)
	}
	if len(m.Verified) == 0 && status < 300 {
		status = http.StatusUnauthorized
	}
	if status < 300 {
		rc.mu.Lock()
		rc.got = append(rc.got, m)
		rc.mu.Unlock()
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
	rc.signal <- struct{}{}
}

// verify is the test's own Standard Webhooks verifier. It answers the indexes of the secrets
// that produced one of the signatures.
func verify(secrets []string, h http.Header, body []byte, now time.Time) []int {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || id == "" || now.Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return nil
	}
	var ok []int
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue
		}
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
		want := mac.Sum(nil)
		for _, sig := range strings.Fields(sigs) {
			v, b64, found := strings.Cut(sig, ",")
			got, err := base64.StdEncoding.DecodeString(b64)
			if found && v == "v1" && err == nil && hmac.Equal(got, want) {
				ok = append(ok, i)
				break
			}
		}
	}
	return ok
}

func (rc *receiver) accepted() []message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]message(nil), rc.got...)
}

func (rc *receiver) arrivals() []message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]message(nil), rc.arrived...)
}

// waitAccepted waits (up to 20 s) until n deliveries were accepted.
func (rc *receiver) waitAccepted(t testing.TB, n int) []message {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := rc.accepted(); len(got) >= n {
			return got
		}
		select {
		case <-rc.signal:
		case <-deadline:
			t.Fatalf("%d deliveries accepted, want %d; arrivals: %+v", len(rc.accepted()), n, rc.arrivals())
		}
	}
}

// eventually polls cond (a database state the workers reach) for up to 20 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("never: %s", what)
		}
	}
}

func types(ms []message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Type
	}
	return out
}
