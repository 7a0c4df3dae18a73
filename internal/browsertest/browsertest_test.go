package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { Main(m, func() error { return goleak.Find() }) }

// recorder stands in for a test to see whether missing skips or fails it.
type recorder struct {
	testing.TB
	skipped, failed string
}

// missing calls only these; a real test's Skipf and Fatalf would end the goroutine.
func (r *recorder) Helper()                      {}
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }
func (r *recorder) Errorf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }

func TestWithoutABrowserTheSuiteSkipsLocallyButFailsUnderCI(t *testing.T) {
	t.Setenv(ChromiumEnv, "/nonexistent/chromium")
	if got := FindChromium(); got != "" {
		t.Fatalf("FindChromium with %s pointing nowhere = %q, want none", ChromiumEnv, got)
	}
	t.Setenv("CI", "")
	local := &recorder{TB: t}
	missing(local, "no Chromium found")
	if local.skipped == "" || local.failed != "" {
		t.Fatalf("locally: skipped %q, failed %q; want a skip", local.skipped, local.failed)
	}
	t.Setenv("CI", "true")
	ci := &recorder{TB: t}
	missing(ci, "no Chromium found")
	if ci.failed == "" || ci.skipped != "" || !strings.Contains(ci.failed, "CI=true") {
		t.Fatalf("under CI=true: skipped %q, failed %q; want a failure naming CI=true", ci.skipped, ci.failed)
	}
}

// serve answers each path with its page, under a CSP like herolink's.
func serve(t *testing.T, pages map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'")
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main><h1>%s</h1>`

func TestTheAuditFindsLowContrastTextAndALinkTellableOnlyByColour(t *testing.T) {
	url := serve(t, map[string]string{
		"/bad": fmt.Sprintf(head, "Bad", "Bad") +
			`<p style="color:#8a97a6;background:#e9edf2">Grey on grey, like the sandbox's muted text was.</p>
<p style="color:#4a5868">Go back to the <a href="/" style="color:#0b5cab;text-decoration:none">EMIS ball</a> menu.</p></main></body></html>`,
		"/good": fmt.Sprintf(head, "Good", "Good") +
			`<p style="color:#4a5868;background:#e9edf2">Readable grey.</p>
<p style="color:#4a5868">Go back to the <a href="/" style="color:#0b5cab;text-decoration:underline">EMIS ball</a> menu.</p></main></body></html>`,
	})
	p := Open(t, url+"/bad", DesktopWidth)
	found := map[string]bool{}
	for _, v := range p.Axe() {
		if v.Blocking() {
			found[v.ID] = true
			if v.HelpURL == "" || len(v.Nodes) == 0 {
				t.Errorf("violation without help or target: %+v", v)
			}
		}
	}
	if !found["color-contrast"] || !found["link-in-text-block"] {
		t.Fatalf("axe found %v; want color-contrast and link-in-text-block", found)
	}
	p.Go(url + "/good")
	for _, v := range p.Axe() {
		if v.Blocking() {
			t.Errorf("the fixed page still fails: %s", v)
		}
	}
}

func TestFieldsAreFoundByLabelButtonsByTextAndTheKeyboardReachesThem(t *testing.T) {
	form := fmt.Sprintf(head, "Form", "Form") + `<form method="get" action="/done">
<label for="name">Your name</label><input id="name" name="name">
<label>Colour <select name="colour"><option>Red</option><option>Green</option></select></label>
<label><input type="checkbox" name="agree" value="yes"> I agree</label>
<label for="when">When</label><input type="date" id="when" name="when">
<button type="submit">Send it</button></form></main></body></html>`
	url := serve(t, map[string]string{"/": form, "/done": fmt.Sprintf(head, "Done", "Done") + `</main></body></html>`})

	p := Open(t, url+"/", DesktopWidth)
	p.Fill("Your name", "Ada")
	p.Fill("Your name", "Ada Lovelace") // typing replaces what was there
	p.Select("Colour", "Green")
	p.Check("I agree")
	p.Fill("When", "2026-12-02")
	p.Click("Send it")
	if got := p.URL(); !strings.Contains(got, "name=Ada+Lovelace") || !strings.Contains(got, "colour=Green") ||
		!strings.Contains(got, "agree=yes") || !strings.Contains(got, "when=2026-12-02") {
		t.Fatalf("submitted %s", got)
	}
	p.MustSee("Done")

	k := Open(t, url+"/", PhoneWidth)
	k.TabTo(`textbox "Your name"`)
	k.Press("Grace")
	k.TabTo(`button "Send it"`)
	k.PressAndLoad(kb.Enter)
	if got := k.URL(); !strings.Contains(got, "name=Grace") {
		t.Fatalf("submitted by keyboard %s", got)
	}
	if k.Width() != PhoneWidth {
		t.Fatalf("width = %d", k.Width())
	}
}

func TestAnAuditFailureNamesTheRuleImpactTargetAndHelpAndWhatScrollsSidewaysOnAPhone(t *testing.T) {
	url := serve(t, map[string]string{"/wide": fmt.Sprintf(head, "Wide", "Wide") +
		`<p style="color:#aaaaaa">Too pale to read.</p><div class="wide" style="width:700px">A fixed-width box.</div>
<div tabindex="0" role="region" aria-label="A wide table" style="overflow-x:auto"><table><tr><td style="min-width:900px">Scrolls in its own region: fine.</td></tr></table></div>
</main></body></html>`})
	p := Open(t, url+"/wide", DesktopWidth)
	rec := &recorder{TB: t}
	q := *p
	q.t = rec
	q.Audit("wide")
	for _, want := range []string{"color-contrast (serious)", "https://dequeuniversity.com/rules/axe/", "at [p]",
		"at 390 px: the page scrolls sideways", "div.wide reaches 7"} {
		if !strings.Contains(rec.failed, want) {
			t.Errorf("the audit's failure does not say %q:\n%s", want, rec.failed)
		}
	}
	if strings.Contains(rec.failed, "td reaches") || strings.Contains(rec.failed, "table reaches") {
		t.Errorf("a table scrolling in its own region was blamed:\n%s", rec.failed)
	}
	if p.Width() != DesktopWidth {
		t.Errorf("the audit left the page at %d px", p.Width())
	}
}

func TestAnAuditFailsAPageWhoseInlineScriptTheCSPRefuses(t *testing.T) {
	url := serve(t, map[string]string{"/inline": fmt.Sprintf(head, "Inline", "Inline") +
		`<p>A page with an inline script.</p><script>document.title = "ran";</script></main></body></html>`})
	p := Open(t, url+"/inline", DesktopWidth)
	rec := &recorder{TB: t}
	q := *p
	q.t = rec
	q.Audit("inline")
	if !strings.Contains(rec.failed, "the browser reported errors") || !strings.Contains(rec.failed, "Content Security Policy") {
		t.Fatalf("the audit did not report the refused inline script:\n%s", rec.failed)
	}
	if got := p.Title(); got != "Inline" {
		t.Fatalf("the inline script ran (title %q)", got)
	}
}

func TestTabbingToAControlWhoseFocusNothingMarksFails(t *testing.T) {
	page := func(style string) string {
		return fmt.Sprintf(head, "Focus", "Focus") + `<style>` + style + `</style>
<form action="/"><label for="q">Search</label><input id="q" name="q"><button type="submit">Go</button></form></main></body></html>`
	}
	url := serve(t, map[string]string{
		"/hidden": page(`*:focus, *:focus-visible { outline: none !important; box-shadow: none !important; }`),
		"/shown":  page(`button:focus-visible { outline: 3px solid #ffeb3b; }`),
	})
	for _, c := range []struct {
		path  string
		fails bool
	}{{"/hidden", true}, {"/shown", false}} {
		p := Open(t, url+c.path, DesktopWidth)
		rec := &recorder{TB: t}
		q := *p
		q.t = rec
		q.TabTo(`button "Go"`)
		if got := strings.Contains(rec.failed, "is not visible"); got != c.fails {
			t.Errorf("%s: focus reported invisible = %v, want %v (%s)", c.path, got, c.fails, rec.failed)
		}
	}
}
