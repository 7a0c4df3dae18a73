package browsertest

import (
	_ "embed"
	"fmt"
	"strings"
)

// axeSource is axe-core 4.14.1 (testdata/axe-core, MPL-2.0), vendored so audits need no network.
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// Blocking is whether the violation fails an audit: serious and critical ones do.
func (v Violation) Blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n    %s", v.ID, v.Impact, v.Help, v.HelpURL)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n    ... and %d more", len(v.Nodes)-5)
			break
		}
		fmt.Fprintf(&b, "\n    at %v: %s", n.Target, normalise(n.Summary))
	}
	return b.String()
}

// Axe runs axe-core (every rule of its default set: WCAG 2.0-2.2 A and AA plus best
// practices) over the page as it is now, at its current width, and returns the violations.
// (Runtime.evaluate is not subject to the page's Content-Security-Policy, so the pages' CSP
// stays on while they are audited.)
func (p *Page) Axe() []Violation {
	p.t.Helper()
	if !eval[bool](p, "look for axe-core", "typeof window.axe === 'object'") {
		eval[bool](p, "load axe-core", axeSource+";true")
	}
	return eval[[]Violation](p, "run axe-core",
		`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)`)
}

// Audit checks the page with axe-core at desktop width and at 390 px, saving a screenshot at
// each, and fails the test on any serious or critical violation, listing each rule with its
// impact, the elements it found and the rule's help page, and on a page that scrolls sideways
// at 390 px (naming what sticks out), and on any error the browser reported since the last
// audit (ConsoleErrors: a script or style the CSP refused, a failed load, an exception).
// Lesser axe findings are logged.
// The page is left at the width it had.
func (p *Page) Audit(name string) {
	p.t.Helper()
	was := p.width
	var failures []string
	for _, w := range []int{DesktopWidth, PhoneWidth} {
		if p.width != w {
			p.SetWidth(w)
		}
		for _, v := range p.Axe() {
			if v.Blocking() {
				failures = append(failures, fmt.Sprintf("at %d px: %s", w, v))
			} else {
				p.t.Logf("axe, not blocking: %s at %d px: %s (%s) on %d element(s)", name, w, v.ID, v.Impact, len(v.Nodes))
			}
		}
		if w == PhoneWidth {
			if over := call[[]string](p, "look for sideways scrolling", "overflow"); len(over) > 0 {
				failures = append(failures, fmt.Sprintf("at %d px: the page scrolls sideways (WCAG 1.4.10 Reflow: put wide tables in a focusable scrolling region, let the rest wrap):\n    %s",
					w, strings.Join(over, "\n    ")))
			}
		}
		p.Screenshot(name)
	}
	if p.width != was {
		p.SetWidth(was)
	}
	if errs := p.withoutOwnStatus(p.ConsoleErrors()); len(errs) > 0 {
		failures = append(failures, "the browser reported errors (a CSP refusal, a failed load, an exception):\n    "+strings.Join(errs, "\n    "))
	}
	if len(failures) > 0 {
		p.t.Errorf("audit of %s (%s) found %d problem(s):\n  %s",
			name, p.safeURL(), len(failures), strings.Join(failures, "\n  "))
	}
}

// withoutOwnStatus drops the browser's report that the page itself was answered with a 4xx: a
// form shown again with its errors is answered 422 (or 410 for a link used up, 423 for one
// locked), which the browser logs as a failed load. What the page loads must still not fail.
func (p *Page) withoutOwnStatus(errs []string) []string {
	own := " (" + p.safeURL() + ")"
	out := errs[:0:0]
	for _, e := range errs {
		if strings.HasPrefix(e, "error: Failed to load resource: the server responded with a status of 4") && strings.HasSuffix(e, own) {
			continue
		}
		out = append(out, e)
	}
	return out
}
