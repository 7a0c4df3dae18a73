package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func TestSupportOverviewListsFailingPracticesFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	otherID := b.connectDirectly(t, sandbox.GeneratedODS(1), "Herouser", sandbox.GeneratedAPIPassword(1))
	other, err := b.world.Org(sandbox.GeneratedCDB(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Deactivate(sandbox.HeroProductKey); err != nil {
		t.Fatal(err)
	}
	if _, err := b.service.CheckHealth(ctx, otherID); err != nil {
		t.Fatal(err)
	}
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.get("/admin/")
	mustSay(t, r, "Practices", sandbox.DemoName, "nhsuk-tag--red", "Failing", "nhsuk-tag--green", "no access to Hero Health")
	failing, connected := strings.Index(r.body, sandbox.GeneratedODS(1)), strings.Index(r.body, demoODS)
	if failing < 0 || connected < 0 || failing > connected {
		t.Fatalf("the failing practice is not listed first:\n%s", r.body)
	}
}

func TestCheckConnectionNowRecordsTheResultWithAndWithoutJavaScript(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)

	// Without JavaScript: post, redirect, the page again with the new status.
	r := c.send(http.MethodPost, practicePath(id)+"/check", url.Values{}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != practicePath(id)+"?checked=1" {
		t.Fatalf("check now: %d %q", r.status, r.header.Get("Location"))
	}
	page := c.get(r.header.Get("Location"))
	mustSay(t, page, "Checked just now", "logon and appointment configuration read succeeded")
	mustHave(t, page, "<html")

	// With htmx: just the status panel, which replaces itself.
	if err := b.demo.Deactivate(sandbox.HeroProductKey); err != nil {
		t.Fatal(err)
	}
	r = c.send(http.MethodPost, practicePath(id)+"/check", url.Values{}, http.Header{"Hx-Request": {"true"}})
	if r.status != http.StatusOK || strings.Contains(r.body, "<html") || !strings.HasPrefix(strings.TrimSpace(r.body), `<section class="nhsuk-card" id="status-panel"`) {
		t.Fatalf("htmx check: %d\n%s", r.status, r.body)
	}
	mustSay(t, r, "Checked just now", "Failing", "no access to Hero Health", "Check connection now")
	if p, _ := b.store.PracticeByID(context.Background(), id); p.HealthStatus != store.HealthFailing {
		t.Fatalf("status after the check: %s", p.HealthStatus)
	}
}

func TestRejectedCredentialsAreNotRetriedAndThePageAsksForNewOnes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	// The practice sets a fresh API password in EMAS Manager: the stored one stops working.
	if err := b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", "Fresh2026api"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.service.CheckHealth(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	page := c.get(practicePath(id))
	mustSay(t, page, "Failing", "waiting for new credentials", "None: waiting for new credentials")
	mustHave(t, page, `href="/admin/connect?ods=A81001"`)
	mustNotSay(t, page, "Check connection now")

	b.world.ResetStats()
	r := c.send(http.MethodPost, practicePath(id)+"/check", url.Values{}, nil)
	if r.status != http.StatusConflict {
		t.Fatalf("check now with rejected credentials: %d", r.status)
	}
	mustSay(t, r, "will not try it again")
	r = c.send(http.MethodPost, practicePath(id)+"/check", url.Values{}, http.Header{"Hx-Request": {"true"}})
	if r.status != http.StatusOK || strings.Contains(r.body, "<html") {
		t.Fatalf("htmx check now with rejected credentials: %d", r.status)
	}
	mustSay(t, r, "will not try it again")
	mustNotSay(t, r, "Check connection now")
	stats, err := b.world.Stats(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Calls["Logon"] != 0 {
		t.Fatalf("the refused password was tried again: %+v", stats)
	}
}

func TestPagesCarrySecurityHeadersAndAssetsAreCachedForAYear(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	for _, path := range []string{"/admin/", "/admin/login", "/admin/connect", "/admin/nowhere"} {
		r := c.get(path)
		h := r.header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: headers %v", path, h)
		}
	}
	page := c.get("/admin/connect")
	for _, asset := range []struct{ path, ctype string }{{assetPrefix + cssFile, "text/css"}, {assetPrefix + jsFile, "javascript"}} {
		if !strings.Contains(page.body, `"`+asset.path+`"`) {
			t.Fatalf("the layout does not link %s", asset.path)
		}
		anon := b.client(t)
		r := anon.send(http.MethodGet, asset.path, nil, nil)
		if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), asset.ctype) ||
			r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", asset.path, r.status, r.header)
		}
	}
	for _, missing := range []string{assetPrefix, assetPrefix + "README.md", assetPrefix + "nope.css"} {
		if r := b.client(t).send(http.MethodGet, missing, nil, nil); r.status != http.StatusNotFound {
			t.Fatalf("%s: %d", missing, r.status)
		}
	}
}

func TestHealthAndReadinessEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.client(t)
	if r := c.get("/healthz"); r.status != http.StatusOK || strings.TrimSpace(r.body) != "ok" {
		t.Fatalf("healthz: %d %q", r.status, r.body)
	}
	if r := c.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("readyz: %d", r.status)
	}
	b.store.Close()
	if r := c.get("/readyz"); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: %d", r.status)
	}
	if r := c.get("/healthz"); r.status != http.StatusOK {
		t.Fatalf("healthz with the database closed: %d", r.status)
	}
}
