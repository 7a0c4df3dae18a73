package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"herolink/internal/api"
	"herolink/internal/api/apikey"
	"herolink/internal/api/apitest"
	"herolink/internal/bookinglink"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
	"herolink/internal/webhook"
)

// TestMain also holds the document to its promises: when every test of the package ran and
// passed, every answer the document declares for an operation must have been given by one of
// them (see apitest.Unanswered). Narrowed runs (-run, -skip, -short, fuzzing) do not check.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && everyTestRan() {
		missing, err := apitest.Unanswered()
		if err != nil || len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: answers the OpenAPI document declares that no test produced (%v):\n\t%s\n", err, strings.Join(missing, "\n\t"))
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines left running: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func everyTestRan() bool {
	for _, name := range []string{"test.run", "test.skip", "test.fuzz", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

var spec = apitest.Spec

// testBundle is the partner API over a real store (keys, idempotency) and a fake booking core,
// with two practice groups: A (the caller's) and B.
type testBundle struct {
	store   *store.Store
	keys    *apikey.Service
	booking *fakeBooking
	handler http.Handler
	hooks   *webhook.Service
	links   *bookinglink.Service
	clock   *clock
	logs    *syncBuffer

	groupA, groupB string
	keyA           string // group A, booking scope
	keyA2          string // group A, booking scope, a second partner
	keyNoScope     string // group A, messaging only
	keyB           string // group B, booking scope
	keyAID         string
}

type bundleOpts struct {
	rate        rate.Limit
	burst       int
	lookupRate  rate.Limit
	lookupBurst int
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T, opts ...bundleOpts) *testBundle {
	t.Helper()
	o := bundleOpts{rate: 1000, burst: 1000}
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	st := storetest.Open(t)
	pa, err := st.EnsurePractice(ctx, "A81001", 29001, "Riverside")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := st.EnsurePractice(ctx, "A81002", 29002, "Oakfield")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := &testBundle{store: st, keys: &apikey.Service{Store: st, Log: log}, logs: logs,
		groupA: pa.PracticeGroupID, groupB: pb.PracticeGroupID, clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	b.booking = newFakeBooking(b.groupA, pa.ID, b.groupB, pb.ID)
	mk := func(group string, scopes ...string) apikey.Created {
		c, err := b.keys.Create(ctx, apikey.Actor{Name: "setup"}, group, apikey.NewKey{Name: "k", Partner: "Acme", Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := mk(b.groupA, apikey.ScopeBooking, apikey.ScopeMessaging, apikey.ScopeBookingLinks)
	b.keyA, b.keyAID = a.Secret, a.Key.ID
	b.keyA2 = mk(b.groupA, apikey.ScopeBooking, apikey.ScopeBookingLinks).Secret
	b.keyNoScope = mk(b.groupA, apikey.ScopeMessaging).Secret
	b.keyB = mk(b.groupB, apikey.ScopeBooking).Secret
	vk, err := vault.LoadFile(filepath.Join(t.TempDir(), "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	b.hooks = webhook.New(st, vk, log, webhook.Config{})
	b.links = &bookinglink.Service{Store: st, Booking: b.booking, BaseURL: "https://book.herolink.example", Log: log, Now: b.clock.Now}
	b.handler = api.New(api.Config{Keys: b.keys, Booking: b.booking, Webhooks: b.hooks, BookingLinks: b.links, Store: st, Log: log,
		RateLimit: o.rate, Burst: o.burst, LookupRateLimit: o.lookupRate, LookupBurst: o.lookupBurst, Now: b.clock.Now})
	return b
}

// response is one answer, already validated against the OpenAPI document.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return m
}

// req is a request to send; by default as group A with keyA.
type req struct {
	method, path, body string
	header             map[string]string // "" deletes a default header
}

// send makes the request through the handler and checks the answer against the OpenAPI
// document: a documented status for the route, a body and headers matching its schema, and
// for every error an application/problem+json whose status is the HTTP status.
func (b *testBundle) send(t *testing.T, rq req) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	r.Header.Set("x-api-key", b.keyA)
	r.Header.Set("x-practice-group-id", b.groupA)
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	reqBody := rq.body
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, r)
	res := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	checkAgainstSpec(t, rq, reqBody, res)
	return res
}

func (b *testBundle) get(t *testing.T, path string) response {
	t.Helper()
	return b.send(t, req{method: http.MethodGet, path: path})
}

func (b *testBundle) post(t *testing.T, path, body string) response {
	t.Helper()
	return b.send(t, req{method: http.MethodPost, path: path, body: body})
}

func checkAgainstSpec(t *testing.T, rq req, reqBody string, res response) {
	t.Helper()
	apitest.Check(t, apitest.Exchange{Method: rq.method, Path: rq.path, RequestBody: reqBody, Status: res.status,
		Header: res.header, Body: res.body})
}

// mustProblem fails unless the answer is the problem with this status and code.
func mustProblem(t *testing.T, res response, status int, code string) map[string]any {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d:\n%s", res.status, status, res.body)
	}
	m := res.json(t)
	if m["code"] != code {
		t.Fatalf("code %v, want %s:\n%s", m["code"], code, res.body)
	}
	if m["type"] != "urn:herolink:problem:"+code || m["title"] == "" || m["detail"] == "" {
		t.Fatalf("problem members: %s", res.body)
	}
	return m
}

// fieldsOf lists the fields named in a problem's errors.
func fieldsOf(m map[string]any) []string {
	var out []string
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var errBoom = errors.New("database on fire")
