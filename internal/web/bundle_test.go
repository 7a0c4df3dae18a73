package web

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/bookinglink"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
)

// testBundle is herolink's pages wired to a practice service, a database in a temporary
// directory and an in-process EMIS sandbox whose demo practice has followed the setup guide.
type testBundle struct {
	world   *sandbox.World
	demo    *sandbox.Org
	store   *store.Store
	service *practice.Service
	booking *booking.Service // River unset: tests that confirm bookings give it one
	links   *bookinglink.Service
	web     *httptest.Server
	seen    *recorder   // every response any client of this bundle received
	logs    *syncBuffer // everything herolink logged
}

type bundleOpts struct {
	secureCookies bool
	signins       *staff.Throttle
}

func setup(t *testing.T, opts ...bundleOpts) *testBundle {
	t.Helper()
	var o bundleOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, Practices: 1})
	emisSrv := httptest.NewServer(sandbox.NewServer(w, nil))
	t.Cleanup(emisSrv.Close)

	dir := t.TempDir()
	st := storetest.Open(t)
	keys, err := vault.LoadFile(filepath.Join(dir, "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	caller, err := emis.NewCaller(emis.Config{BaseURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 3 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc := &practice.Service{Store: st, Vault: keys, Log: log, Tester: &practice.Tester{
		Directory: &practice.HTTPDirectory{BaseURL: emisSrv.URL + "/sandbox/v1/directory"}, Caller: caller}}
	bk := &booking.Service{Store: st, Conns: svc, Log: log}
	links := &bookinglink.Service{Store: st, Booking: bk, Log: log}
	h := New(Config{Store: st, Practices: svc, Sessions: &staff.Sessions{Store: st}, Log: log, Booking: bk, BookingLinks: links,
		Explain:       &slotsync.Explainer{Store: st, Conns: svc},
		SecureCookies: o.secureCookies, SandboxURL: emisSrv.URL, SignIns: o.signins})
	web := httptest.NewServer(h)
	t.Cleanup(web.Close)
	links.BaseURL = web.URL
	demo, err := w.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{world: w, demo: demo, store: st, service: svc, booking: bk, links: links, web: web, seen: &recorder{}, logs: logs}
}

// addStaff creates a staff user who signs in with password.
func (b *testBundle) addStaff(t *testing.T, username, password, role string, practiceID int64) store.StaffUser {
	t.Helper()
	hash, err := staff.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.store.CreateStaffUser(context.Background(), store.StaffUser{Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:],
		PasswordHash: hash, Role: role, PracticeID: practiceID})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// connectDirectly connects a practice through the service, as support, without the pages.
func (b *testBundle) connectDirectly(t *testing.T, ods, username, password string) int64 {
	t.Helper()
	res, err := b.service.Connect(context.Background(), practice.Actor{Name: "setup"}, practice.ConnectRequest{
		Form: practice.Form{ODS: ods, Username: username, Password: password}, Spaces: practice.SpacesKeep})
	if err != nil || !res.Saved {
		t.Fatalf("connect %s: %+v, %v", ods, res, err)
	}
	return res.PracticeID
}

// signedIn is a browser with a support user signed in.
func (b *testBundle) signedIn(t *testing.T, username, role string, practiceID int64) *client {
	t.Helper()
	b.addStaff(t, username, "Staff-pw-1", role, practiceID)
	c := b.client(t)
	c.login(username, "Staff-pw-1")
	return c
}

// client is a browser: a cookie jar, no JavaScript, redirects followed when asked.
type client struct {
	t  *testing.T
	b  *testBundle
	hc *http.Client
}

type response struct {
	status int
	header http.Header
	body   string
	url    string // where the response came from, after any redirects
}

func (b *testBundle) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, b: b, hc: &http.Client{Jar: jar, Transport: recordingTransport{b.seen, http.DefaultTransport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// send makes one request and does not follow a redirect.
func (c *client) send(method, path string, form url.Values, header http.Header) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.b.web.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(data), url: req.URL.Path}
}

// browse makes a request and follows redirects as a browser does (303: GET the location).
func (c *client) browse(method, path string, form url.Values) response {
	c.t.Helper()
	r := c.send(method, path, form, nil)
	for i := 0; i < 5 && (r.status == http.StatusSeeOther || r.status == http.StatusFound || r.status == http.StatusMovedPermanently); i++ {
		r = c.send(http.MethodGet, r.header.Get("Location"), nil, nil)
	}
	return r
}

func (c *client) get(path string) response { c.t.Helper(); return c.browse(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.browse(http.MethodPost, path, form)
}

func (c *client) login(username, password string) {
	c.t.Helper()
	r := c.send(http.MethodPost, "/admin/login", url.Values{"username": {username}, "password": {password}}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		c.t.Fatalf("sign in as %s: %d %s\n%s", username, r.status, r.header.Get("Location"), r.body)
	}
}

// connect submits the connection form.
func (c *client) connect(ods, username, password string) response {
	c.t.Helper()
	return c.post("/admin/connect", url.Values{"ods": {ods}, "username": {username}, "password": {password}})
}

var pendingToken = regexp.MustCompile(`name="pending" value="([^"]+)"`)

// followUp answers a stopped form (spaces, replace) the way its buttons do.
func (c *client) followUp(page response, fields ...string) response {
	c.t.Helper()
	m := pendingToken.FindStringSubmatch(page.body)
	if m == nil {
		c.t.Fatalf("no pending token on the page:\n%s", page.body)
	}
	form := url.Values{"pending": {m[1]}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return c.post("/admin/connect", form)
}

// mustSay fails unless the page shows every text (compared as HTML-escaped text).
func mustSay(t *testing.T, r response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(r.body, template.HTMLEscapeString(s)) {
			t.Fatalf("the page (%d %s) does not say %q:\n%s", r.status, r.url, s, r.body)
		}
	}
}

// mustHave fails unless the page's HTML contains every snippet as it is.
func mustHave(t *testing.T, r response, snippets ...string) {
	t.Helper()
	for _, s := range snippets {
		if !strings.Contains(r.body, s) {
			t.Fatalf("the page (%d %s) has no %q:\n%s", r.status, r.url, s, r.body)
		}
	}
}

func mustNotSay(t *testing.T, r response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(r.body, template.HTMLEscapeString(s)) {
			t.Fatalf("the page (%d %s) says %q and must not:\n%s", r.status, r.url, s, r.body)
		}
	}
}

func practicePath(id int64) string { return "/admin/practices/" + strconv.FormatInt(id, 10) }

// recorder keeps every response's status line, headers and body.
type recorder struct {
	mu  sync.Mutex
	all []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, s)
}

func (r *recorder) responses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.all...)
}

type recordingTransport struct {
	rec  *recorder
	next http.RoundTripper
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString(resp.Status + "\n")
	_ = resp.Header.Write(&b)
	b.WriteString("\n")
	b.Write(body)
	t.rec.add(b.String())
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
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
