package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The two widths every visited page is audited at.
const (
	DesktopWidth  = 1280
	DesktopHeight = 900
	PhoneWidth    = 390
	PhoneHeight   = 844
)

// actionTimeout bounds every browser action: a page that never answers fails the test with
// what was being done rather than hanging it.
const actionTimeout = 30 * time.Second

// Page is one browser tab in a browser context of its own (its own cookies), closed when the
// test ends. Its methods fail the test (t.Fatal) when what they are asked for cannot be done,
// saying what was on the page, so a walk reads as a list of steps; Audit reports its findings
// with t.Error and lets the walk go on, so one run shows every page's problems.
type Page struct {
	t       testing.TB
	ctx     context.Context
	width   int
	scope   string // a CSS selector the lookups are limited to; "" for the whole page
	console *console
	Status  int64 // HTTP status of the last page loaded by Go, Click or Press
}

// NewPage opens a blank tab at the given width (DesktopWidth or PhoneWidth, or any other).
// Without a browser it skips the test (fails it under CI=true).
func NewPage(t testing.TB, width int) *Page {
	t.Helper()
	root := browser(t)
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: ctx, console: &console{}}
	// The first action opens the tab and ties it to the context it gets: the page's own.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browser: open a tab: %v", err)
	}
	done := p.console.follow(ctx)
	t.Cleanup(func() {
		cancel()
		<-done
	})
	p.SetWidth(width)
	return p
}

// Open is NewPage then Go.
func Open(t testing.TB, url string, width int) *Page {
	t.Helper()
	p := NewPage(t, width)
	p.Go(url)
	return p
}

// do runs one step with a timeout and fails the test with what the step was.
func (p *Page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %s: %v (at %s)", what, err, p.safeURL())
	}
}

// eval runs a JavaScript expression and decodes its value into T.
func eval[T any](p *Page, what, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("browser: %s: %v (at %s)", what, err, p.safeURL())
	}
	return v
}

// call runs one of the page-side helpers (pageJS) with JSON arguments.
func call[T any](p *Page, what, fn string, args ...any) T {
	p.t.Helper()
	if args == nil {
		args = []any{}
	}
	enc, err := json.Marshal(args)
	if err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
	return eval[T](p, what, fmt.Sprintf("(%s).%s(...%s)", pageJS, fn, enc))
}

func (p *Page) safeURL() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "an unknown page"
	}
	return u
}

// Within returns the same tab with every lookup (Fill, Click, Check, Select, Text) limited to
// the first element the CSS selector matches: for pages with one form per row.
func (p *Page) Within(css string) *Page {
	q := *p
	q.scope = css
	return &q
}

// SetWidth changes the viewport's width (CSS pixels); PhoneWidth emulates a phone.
func (p *Page) SetWidth(width int) {
	p.t.Helper()
	h := int64(DesktopHeight)
	var opts []chromedp.EmulateViewportOption
	if width <= 480 {
		h = PhoneHeight
		opts = append(opts, chromedp.EmulateMobile)
	}
	p.do(fmt.Sprintf("set the width to %d px", width), chromedp.EmulateViewport(int64(width), h, opts...))
	p.width = width
}

// Width is the viewport's width in CSS pixels.
func (p *Page) Width() int { return p.width }

// Go loads url and waits for it; a 5xx answer fails the test.
func (p *Page) Go(url string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.t.Fatalf("browser: open %s: %v", url, err)
	}
	p.loaded(resp.Status, "open "+url)
}

// loaded records the status of a page just loaded and fails on a server error.
func (p *Page) loaded(status int64, what string) {
	p.t.Helper()
	p.Status = status
	if status >= 500 {
		p.t.Fatalf("browser: %s: HTTP %d at %s:\n%s", what, status, p.safeURL(), p.Text())
	}
}

// URL is the address of the page shown.
func (p *Page) URL() string { return p.safeURL() }

// Title is the page's <title>.
func (p *Page) Title() string {
	p.t.Helper()
	return eval[string](p, "read the title", "document.title")
}

// Text is what the page (or the Within scope) shows, as the browser renders it to text.
func (p *Page) Text() string {
	p.t.Helper()
	return call[string](p, "read the page", "text", p.scope)
}

// HTML is the markup of every element the CSS selector matches (within the scope), for the
// rare check of what the page does not show as text (an attribute, a title).
func (p *Page) HTML(css string) string {
	p.t.Helper()
	return call[string](p, "read the markup of "+css, "html", css, p.scope)
}

// MustSee fails the test unless the page shows every one of the texts (white space between
// words is not significant).
func (p *Page) MustSee(texts ...string) {
	p.t.Helper()
	got := normalise(p.Text())
	for _, want := range texts {
		if !strings.Contains(got, normalise(want)) {
			p.t.Fatalf("browser: %s does not show %q; it shows:\n%s", p.safeURL(), want, got)
		}
	}
}

// MustNotSee fails the test if the page shows any of the texts.
func (p *Page) MustNotSee(texts ...string) {
	p.t.Helper()
	got := normalise(p.Text())
	for _, bad := range texts {
		if strings.Contains(got, normalise(bad)) {
			p.t.Fatalf("browser: %s shows %q; it shows:\n%s", p.safeURL(), bad, got)
		}
	}
}

var spaces = regexp.MustCompile(`\s+`)

func normalise(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

type found struct {
	Selector string   `json:"selector"`
	Error    string   `json:"error"`
	Offered  []string `json:"offered"`
}

// find marks the one element matching (kind, name) with a data attribute and returns a CSS
// selector for it, or fails the test listing what the page offers instead.
func (p *Page) find(kind, name string) string {
	p.t.Helper()
	res := call[found](p, "find "+kind+" "+name, "find", kind, name, p.scope)
	if res.Error != "" {
		p.t.Fatalf("browser: %s %q: %s at %s; the page offers: %s", kind, name, res.Error, p.safeURL(), strings.Join(res.Offered, " | "))
	}
	return res.Selector
}

// Fill types value into the field labelled label (its <label>, or its aria-label), as a person
// would: focus, clear, type. Date and colour inputs get the value set directly. A label
// matches exactly, or failing that by its beginning ("Password" finds "Password (EMIS user
// password)").
func (p *Page) Fill(label, value string) {
	p.t.Helper()
	sel := p.find("field", label)
	typ := call[string](p, "read the field's type", "typeOf", sel)
	switch typ {
	case "date", "color", "time", "month", "week", "range":
		call[bool](p, "set "+label, "setValue", sel, value)
	default:
		call[bool](p, "clear "+label, "setValue", sel, "")
		p.do("type into "+label, chromedp.SendKeys(chromedp.CSS(sel), value))
	}
}

// Select chooses the option whose text is option in the <select> labelled label.
func (p *Page) Select(label, option string) {
	p.t.Helper()
	sel := p.find("field", label)
	if msg := call[string](p, "choose "+option, "choose", sel, option); msg != "" {
		p.t.Fatalf("browser: select %q: %s", label, msg)
	}
}

// Check ticks the checkbox (or radio) labelled label, with a click, unless it is ticked.
func (p *Page) Check(label string) {
	p.t.Helper()
	p.setChecked(label, true)
}

// Uncheck clears the checkbox labelled label, with a click, if it is ticked.
func (p *Page) Uncheck(label string) {
	p.t.Helper()
	p.setChecked(label, false)
}

func (p *Page) setChecked(label string, want bool) {
	p.t.Helper()
	sel := p.find("field", label)
	if eval[bool](p, "read "+label, fmt.Sprintf("document.querySelector(%q).checked", sel)) != want {
		p.do("click "+label, chromedp.Click(chromedp.CSS(sel)))
	}
}

// Click clicks the button or link whose text (or value, or aria-label) is text, and waits for
// the page it loads. A 5xx answer fails the test.
func (p *Page) Click(text string) {
	p.t.Helper()
	sel := p.find("control", text)
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("browser: click %q: %v (at %s)", text, err, p.safeURL())
	}
	p.loaded(resp.Status, "click "+text)
}

// Toggle clicks a control that changes the page without loading another (a <details>
// summary, a checkbox's label).
func (p *Page) Toggle(text string) {
	p.t.Helper()
	sel := p.find("control", text)
	p.do("click "+text, chromedp.Click(chromedp.CSS(sel)))
}

// Press sends keys to whatever has the focus: text, or kb.Tab, kb.Enter, kb.Escape...
// (github.com/chromedp/chromedp/kb). Use PressAndLoad when the key loads a page.
func (p *Page) Press(keys string) {
	p.t.Helper()
	p.do("press "+describeKeys(keys), chromedp.KeyEvent(keys))
}

// PressAndLoad sends keys (typically kb.Enter) and waits for the page they load.
func (p *Page) PressAndLoad(keys string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(keys))
	if err != nil {
		p.t.Fatalf("browser: press %s: %v (at %s)", describeKeys(keys), err, p.safeURL())
	}
	p.loaded(resp.Status, "press "+describeKeys(keys))
}

// Focused describes the element that has the keyboard focus: its role and accessible name,
// for example `link "Bookings"` or `textbox "EMIS username"`.
func (p *Page) Focused() string {
	p.t.Helper()
	return call[string](p, "read the focus", "focused")
}

// TabTo presses Tab until the focused element's description contains want (see Focused), at
// most 60 times, and fails the test listing the path the focus took if it never gets there,
// or if nothing shows where the focus is once it is there (WCAG 2.4.7 Focus Visible).
// It is how a keyboard-only walk reaches a control: the way a person who cannot use a mouse does.
func (p *Page) TabTo(want string) {
	p.t.Helper()
	var path []string
	for range 60 {
		p.Press(kb.Tab)
		f := p.Focused()
		if strings.Contains(f, want) {
			if !call[bool](p, "see the focus", "focusShown") {
				p.t.Errorf("browser: the focus on %s is not visible at %s (WCAG 2.4.7): nothing marks it", f, p.safeURL())
			}
			return
		}
		path = append(path, f)
	}
	p.t.Fatalf("browser: Tab never reached %q at %s; the focus went through:\n  %s", want, p.safeURL(), strings.Join(path, "\n  "))
}

func describeKeys(keys string) string {
	switch keys {
	case kb.Tab:
		return "Tab"
	case kb.Enter:
		return "Enter"
	case kb.Escape:
		return "Escape"
	case " ":
		return "Space"
	}
	return fmt.Sprintf("%q", keys)
}

// Screenshot saves the whole page as a PNG in the artefacts directory and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	dir, err := artefacts()
	if err != nil {
		p.t.Fatal(err)
	}
	dir = filepath.Join(dir, fileName(p.t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%02d-%s-%d.png", nextShot(p.t.Name()), fileName(name), p.width))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// shotCount numbers each test's screenshots in the order they were taken, across its pages.
var shotCount struct {
	sync.Mutex
	n map[string]int
}

func nextShot(test string) int {
	shotCount.Lock()
	defer shotCount.Unlock()
	if shotCount.n == nil {
		shotCount.n = map[string]int{}
	}
	shotCount.n[test]++
	return shotCount.n[test]
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(s string) string { return strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-") }
