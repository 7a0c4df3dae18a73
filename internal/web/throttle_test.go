package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/staff"
	"herolink/internal/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestTheRightPasswordIsRefusedWhileTheAccountIsLockedAfterTenFailures(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	b := setup(t, bundleOpts{signins: &staff.Throttle{MaxFailures: 10, PerAddress: 1000, LockFor: 15 * time.Minute, Now: clk.now}})
	b.addStaff(t, "ada", "Staff-pw-1", store.RoleSupport, 0)
	c := b.client(t)
	try := func(password string) response {
		return c.send(http.MethodPost, "/admin/login", url.Values{"username": {"ada"}, "password": {password}}, nil)
	}
	for i := range 9 {
		if r := try("Guess-" + string(rune('a'+i))); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: %d", i+1, r.status)
		}
	}
	r := try("Guess-j")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "900" {
		t.Fatalf("the tenth failure: %d, Retry-After %q; want 429 and 900", r.status, r.header.Get("Retry-After"))
	}
	mustSay(t, r, "This account is locked after too many failed sign-ins. Try again after 09:15 UTC")
	r = try("Staff-pw-1")
	if r.status != http.StatusTooManyRequests || r.header.Get("Set-Cookie") != "" {
		t.Fatalf("the right password during the lock: %d, Set-Cookie %q; want 429 and no session", r.status, r.header.Get("Set-Cookie"))
	}
	mustSay(t, r, "This account is locked")
	logs := b.logs.String()
	if !strings.Contains(logs, "username=ada") || !strings.Contains(logs, "client=127.0.0.1") {
		t.Errorf("failed sign-ins are not logged with the username and the client address:\n%s", logs)
	}
	for _, secret := range []string{"Guess-a", "Guess-j", "Staff-pw-1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a typed password %q", secret)
		}
	}
	clk.advance(15 * time.Minute)
	c.login("ada", "Staff-pw-1")
}
