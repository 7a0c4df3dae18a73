package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// fakeClock is the sandbox's clock in tests: it moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testBundle is one sandbox behind a real HTTP server, with a client pointed at it.
type testBundle struct {
	world  *sandbox.World
	srv    *httptest.Server
	clock  *fakeClock
	caller *emis.Caller
}

// A Tuesday morning in November, before surgeries start.
var tuesdayMorning = time.Date(2026, 11, 24, 7, 0, 0, 0, emis.London)

func setup(t *testing.T, opts sandbox.Options) *testBundle {
	t.Helper()
	clock := &fakeClock{now: tuesdayMorning}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	w := sandbox.New(opts)
	srv := httptest.NewServer(sandbox.NewServer(w, nil))
	t.Cleanup(srv.Close)
	caller, err := emis.NewCaller(emis.Config{BaseURL: srv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{world: w, srv: srv, clock: clock, caller: caller}
}

// admin calls the sandbox admin JSON API and returns the status and body.
func (b *testBundle) admin(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// mustAdmin is admin that fails the test unless the status is want.
func (b *testBundle) mustAdmin(t *testing.T, want int, method, path string, body any) []byte {
	t.Helper()
	status, data := b.admin(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, data)
	}
	return data
}

func (b *testBundle) connect(t *testing.T, username, password string) *emis.Conn {
	t.Helper()
	conn, err := b.caller.Connect(context.Background(), emis.Credentials{CDB: sandbox.DemoCDB, Username: username, APIPassword: password})
	if err != nil {
		t.Fatalf("connect as %s: %v", username, err)
	}
	return conn
}

const demoOrg = "/sandbox/v1/organisations/29001"

// The guide's Step 1 user form, as a practice manager fills it in.
func herouserForm(username string) map[string]any {
	return map[string]any{
		"title": "Mr", "first_name": "Hero", "last_name": "User", "gender": "Not specified",
		"email": "herouser@herohealth.invalid", "username": username, "password": "EmisUserPw1!",
		"must_change_password": false, "job_category": "Manager", "mnemonic": "HH",
		"authorise_prescriptions": "None", "relationship": "Associated", "contract_start": "2026-11-24",
		"rbac_role": "Practice Manager SJR004",
	}
}

const apiPassword = "HeroApi2026x"

// followGuide performs every step of the setup guide through the admin API.
func (b *testBundle) followGuide(t *testing.T, username string) {
	t.Helper()
	b.mustAdmin(t, 201, "POST", demoOrg+"/users", herouserForm(username))
	b.mustAdmin(t, 200, "POST", demoOrg+"/emas/products/hero-health/activate", nil)
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/users/"+username, map[string]any{"api_password": apiPassword})
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/login-access/"+username, map[string]any{"auto_login": true, "allow_login": true})
}

func mustDecode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// mustDecodeWire decodes an admin answer about the diary (snake_case keys) into the Partner
// API's Go types: without underscores, encoding/json matches "session_dbid" to SessionDBID.
// It also fails the test if the answer has a PascalCase key or an XMLName field.
func mustDecodeWire[T any](t *testing.T, data []byte) T {
	t.Helper()
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				if strings.ToLower(k) != k {
					t.Fatalf("admin answer key %q is not snake_case: %s", k, data)
				}
				out[strings.ReplaceAll(k, "_", "")] = strip(e)
			}
			return out
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	plain, err := json.Marshal(strip(tree))
	if err != nil {
		t.Fatal(err)
	}
	return mustDecode[T](t, plain)
}
