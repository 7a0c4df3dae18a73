package web

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

var titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)

func pageTitle(t *testing.T, r response) string {
	t.Helper()
	m := titleRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no <title> in the page from %s:\n%s", r.url, r.body)
	}
	return m[1]
}

func TestEveryPageWithAValidationErrorSaysSoInItsTitle(t *testing.T) {
	b := setup(t)
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "pm", store.RolePractice, pid)
	p := practicePath(pid)
	anon := b.client(t)

	cases := []struct {
		name      string
		ok, wrong func() response
	}{
		{"sign in", func() response { return anon.get("/admin/login") },
			func() response {
				return anon.send(http.MethodPost, "/admin/login", url.Values{"username": {""}, "password": {""}}, nil)
			}},
		{"connection form", func() response { return c.get("/admin/connect") },
			func() response { return c.post("/admin/connect", url.Values{"ods": {"nonsense!"}}) }},
		{"why can't I see a slot", func() response { return c.get(p + "/why") },
			func() response { return c.get(p + "/why?date=31-02&time=25:99&holder=") }},
		{"booking policy", func() response { return c.get(p + "/bookings") },
			func() response {
				return c.post(p+"/bookings/policy", url.Values{"hold_minutes": {"0"}, "cutoff_hours": {"24"}})
			}},
		{"placeholder alert time", func() response { return c.get(p + "/bookings") },
			func() response { return c.post(p+"/bookings/threshold", url.Values{"overdue_minutes": {"never"}}) }},
		{"API keys", func() response { return c.get(p + "/api-keys") },
			func() response { return c.post(p+"/api-keys", url.Values{"name": {""}, "partner": {""}}) }},
		{"mapping", func() response { return c.get(p + "/mapping") },
			func() response { return c.post(p+"/mapping/practitioners", url.Values{"name": {""}}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if title := pageTitle(t, tc.ok()); strings.HasPrefix(title, "Error") {
				t.Errorf("the page without an error is titled %q", title)
			}
			r := tc.wrong()
			if r.status < 400 {
				t.Fatalf("bad input answered %d:\n%s", r.status, r.body)
			}
			if title := pageTitle(t, r); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("the page showing a validation error is titled %q, want it to start with \"Error: \"", title)
			}
			if !strings.Contains(r.body, `class="nhsuk-error-summary"`) {
				t.Errorf("the page showing a validation error has no error summary at the top:\n%s", r.body)
			}
		})
	}
}

var (
	tableTag     = regexp.MustCompile(`<table\b`)
	scrollRegion = regexp.MustCompile(`<div class="nhsuk-table-container" tabindex="0" role="region" aria-label="[^"]+">\s*$`)
)

// At 390 px a wide table scrolls sideways; only a focusable region lets a keyboard user
// scroll it (WCAG 2.1.1), and its label says what a screen reader user has landed on.
func TestEveryTableSitsInAFocusableLabelledScrollingRegion(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	tables := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(data)
		for _, loc := range tableTag.FindAllStringIndex(src, -1) {
			tables++
			before := strings.TrimRight(src[:loc[0]], " \t\n")
			if !scrollRegion.MatchString(before) {
				line := strings.Count(src[:loc[0]], "\n") + 1
				t.Errorf("%s:%d: a table outside a <div class=\"nhsuk-table-container\" tabindex=\"0\" role=\"region\" aria-label=\"...\">", f, line)
			}
		}
	}
	if tables < 10 {
		t.Fatalf("found only %d tables: the check is not reading the templates", tables)
	}
}
