package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"herolink/internal/store"
)

func TestAdminPagesRedirectToSignInWithoutASession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/admin/"}, {http.MethodGet, "/admin/connect"}, {http.MethodGet, "/admin/practices/1"},
		{http.MethodGet, "/admin/no-such-page"}, {http.MethodPost, "/admin/connect"}, {http.MethodPost, "/admin/practices/1/check"},
	} {
		r := c.send(req.method, req.path, url.Values{}, nil)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
			t.Errorf("%s %s without a session: %d, Location %q; want 303 to /admin/login", req.method, req.path, r.status, r.header.Get("Location"))
		}
	}
	if r := c.send(http.MethodGet, "/admin", nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Errorf("/admin: %d %q", r.status, r.header.Get("Location"))
	}
	r := c.send(http.MethodPost, "/admin/practices/1/check", url.Values{}, http.Header{"Hx-Request": {"true"}})
	if r.status != http.StatusUnauthorized || r.header.Get("HX-Redirect") != "/admin/login" {
		t.Errorf("htmx request without a session: %d, HX-Redirect %q", r.status, r.header.Get("HX-Redirect"))
	}
	if r := c.get("/admin/login"); r.status != http.StatusOK {
		t.Errorf("sign-in page: %d", r.status)
	}
}

func TestSignInReturnsToThePageAskedFor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addStaff(t, "ada", "Staff-pw-1", store.RoleSupport, 0)
	c := b.client(t)
	r := c.send(http.MethodGet, "/admin/connect?ods=A81001", nil, nil)
	next, _ := url.Parse(r.header.Get("Location"))
	if got := next.Query().Get("next"); got != "/admin/connect?ods=A81001" {
		t.Fatalf("next = %q", got)
	}
	r = c.send(http.MethodPost, "/admin/login", url.Values{"username": {"ada"}, "password": {"Staff-pw-1"}, "next": {"/admin/connect?ods=A81001"}}, nil)
	if r.header.Get("Location") != "/admin/connect?ods=A81001" {
		t.Fatalf("after sign-in: %q", r.header.Get("Location"))
	}
	for _, evil := range []string{"https://evil.example/", "//evil.example/admin/", "/admin/\\evil", "/elsewhere"} {
		c := b.client(t)
		r := c.send(http.MethodPost, "/admin/login", url.Values{"username": {"ada"}, "password": {"Staff-pw-1"}, "next": {evil}}, nil)
		if r.header.Get("Location") != "/admin/" {
			t.Errorf("next %q sent the person to %q", evil, r.header.Get("Location"))
		}
	}
}

func TestWrongPasswordIsRefusedWithTheGenericMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addStaff(t, "ada", "Staff-pw-1", store.RoleSupport, 0)
	c := b.client(t)
	for _, creds := range [][2]string{{"ada", "staff-pw-1"}, {"nobody", "Staff-pw-1"}} {
		r := c.send(http.MethodPost, "/admin/login", url.Values{"username": {creds[0]}, "password": {creds[1]}}, nil)
		if r.status != http.StatusUnprocessableEntity || r.header.Get("Set-Cookie") != "" {
			t.Fatalf("%s/%s: %d, Set-Cookie %q", creds[0], creds[1], r.status, r.header.Get("Set-Cookie"))
		}
		mustSay(t, r, "The username or password is not right")
		mustNotSay(t, r, creds[1], "no such user", "unknown user", "wrong password")
	}
	r := c.send(http.MethodPost, "/admin/login", url.Values{"username": {""}, "password": {""}}, nil)
	mustSay(t, r, "Enter your username", "Enter your password")
	if r := c.send(http.MethodGet, "/admin/", nil, nil); r.status != http.StatusSeeOther {
		t.Fatalf("a refused sign-in opened /admin/: %d", r.status)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	if r := c.get("/admin/"); r.status != http.StatusOK {
		t.Fatalf("signed in: %d", r.status)
	}
	u, _ := url.Parse(b.web.URL + "/admin/")
	stolen := c.hc.Jar.Cookies(u)
	r := c.send(http.MethodPost, "/admin/logout", url.Values{}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("sign out: %d %q", r.status, r.header.Get("Location"))
	}
	if r := c.send(http.MethodGet, "/admin/", nil, nil); r.status != http.StatusSeeOther {
		t.Fatalf("after sign-out /admin/ answered %d", r.status)
	}
	// The old cookie, replayed, no longer works: the session is gone from the database.
	replay := b.client(t)
	replay.hc.Jar.SetCookies(u, stolen)
	if r := replay.send(http.MethodGet, "/admin/", nil, nil); r.status != http.StatusSeeOther {
		t.Fatalf("a replayed session cookie answered %d", r.status)
	}
}

func TestSessionCookieIsHttpOnlyLaxSecureAndScopedToAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{secureCookies: true})
	b.addStaff(t, "ada", "Staff-pw-1", store.RoleSupport, 0)
	r := b.client(t).send(http.MethodPost, "/admin/login", url.Values{"username": {"ada"}, "password": {"Staff-pw-1"}}, nil)
	cookies := (&http.Response{Header: r.header}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", r.header["Set-Cookie"])
	}
	k := cookies[0]
	if k.Name != "herolink_session" || !k.HttpOnly || !k.Secure || k.SameSite != http.SameSiteLaxMode || k.Path != "/admin" || len(k.Value) != 43 {
		t.Fatalf("session cookie %+v", k)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	form := url.Values{"ods": {"A81001"}, "username": {"Herouser"}, "password": {"Riverside2026api"}}
	for name, h := range map[string]http.Header{
		"Sec-Fetch-Site": {"Sec-Fetch-Site": {"cross-site"}},
		"Origin":         {"Origin": {"https://evil.example"}},
	} {
		r := c.send(http.MethodPost, "/admin/connect", form, h)
		if r.status != http.StatusForbidden {
			t.Fatalf("cross-origin POST (%s) answered %d", name, r.status)
		}
		mustSay(t, r, "sent from another website")
		r = c.send(http.MethodPost, "/admin/login", url.Values{"username": {"ada"}, "password": {"Staff-pw-1"}}, h)
		if r.status != http.StatusForbidden {
			t.Fatalf("cross-origin sign-in (%s) answered %d", name, r.status)
		}
	}
	if ps, _ := b.store.ListPractices(t.Context()); len(ps) != 0 {
		t.Fatalf("a refused request stored practices: %+v", ps)
	}
	if r := c.send(http.MethodPost, "/admin/connect", form, http.Header{"Sec-Fetch-Site": {"same-origin"}}); r.status != http.StatusOK {
		t.Fatalf("same-origin POST answered %d", r.status)
	}
}
