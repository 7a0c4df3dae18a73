package web

import (
	"regexp"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

var navLink = regexp.MustCompile(`<a class="nhsuk-header__navigation-link" href="([^"]+)"( aria-current="page")?>([^<]+)</a>`)

// navOf reads the navigation of a page: every entry's address and which one is current.
func navOf(t *testing.T, r response) (hrefs []string, current []string) {
	t.Helper()
	for _, m := range navLink.FindAllStringSubmatch(r.body, -1) {
		hrefs = append(hrefs, m[1])
		if m[2] != "" {
			current = append(current, m[1])
		}
	}
	return hrefs, current
}

func TestOneNavigationReachesEveryPageOfThePracticeAndMarksTheCurrentOne(t *testing.T) {
	b := setup(t)
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	p := practicePath(pid)
	pm := b.signedIn(t, "pm", store.RolePractice, pid)
	want := []string{p, p + "/diary", p + "/mapping", p + "/bookings", p + "/booking-links", p + "/api-keys", p + "/webhooks", p + "/why", "/admin/connect"}
	for _, page := range []struct{ path, current string }{
		{p, p},
		{p + "/mapping", p + "/mapping"},
		{p + "/bookings", p + "/bookings"},
		{p + "/api-keys", p + "/api-keys"},
		{p + "/webhooks", p + "/webhooks"},
		{p + "/why", p + "/why"},
		{p + "/diary", p + "/diary"},
		{"/admin/connect", "/admin/connect"},
	} {
		r := pm.get(page.path)
		hrefs, current := navOf(t, r)
		if strings.Join(hrefs, " ") != strings.Join(want, " ") {
			t.Errorf("%s: navigation %v, want %v", page.path, hrefs, want)
		}
		if len(current) != 1 || current[0] != page.current {
			t.Errorf("%s: aria-current on %v, want only on %s", page.path, current, page.current)
		}
	}

	support := b.signedIn(t, "ada", store.RoleSupport, 0)
	hrefs, current := navOf(t, support.get("/admin/"))
	if strings.Join(hrefs, " ") != "/admin/ /admin/connect" || strings.Join(current, " ") != "/admin/" {
		t.Errorf("support overview: navigation %v, current %v", hrefs, current)
	}
	hrefs, current = navOf(t, support.get(p+"/bookings"))
	if len(hrefs) != len(want)+1 || hrefs[0] != "/admin/" || strings.Join(current, " ") != p+"/bookings" {
		t.Errorf("support on a practice's bookings: navigation %v, current %v", hrefs, current)
	}
	if hrefs, _ := navOf(t, b.client(t).get("/admin/login")); len(hrefs) != 0 {
		t.Errorf("the sign-in page shows the staff navigation: %v", hrefs)
	}
}
