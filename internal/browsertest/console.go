package browsertest

import (
	"context"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// console keeps what a tab reports as going wrong: uncaught exceptions, console errors, and
// the browser's own errors (a script or style the Content-Security-Policy refused, a resource
// that failed to load). The pages run under a CSP with no inline script; a page that breaks it
// works on the server and fails only here.
type console struct {
	mu     sync.Mutex
	errors []string
	seen   int // errors already reported by Audit
}

// follow collects the tab's messages until ctx ends; the channel closes then.
func (c *console) follow(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	msgs := chromedp.Console(ctx) // subscribes now, before anything loads
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			if expected(m) {
				continue
			}
			line := string(m.Type) + ": " + m.Text
			if m.URL != "" {
				line += " (" + m.URL + ")"
			}
			c.mu.Lock()
			c.errors = append(c.errors, line)
			c.mu.Unlock()
		}
	}()
	return done
}

// fresh returns the errors not returned before.
func (c *console) fresh() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.errors[c.seen:]
	c.seen = len(c.errors)
	return out
}

// ConsoleErrors returns what the tab reported as errors since the last call (or since Audit
// last looked).
func (p *Page) ConsoleErrors() []string { return p.console.fresh() }

// expected is what every page reports by design, so that it does not hide the rest:
//   - the request browsers make for /favicon.ico, which herolink does not serve;
//   - the NHS.UK stylesheet's Frutiger fonts on assets.nhs.uk, which the pages' CSP (font-src
//     'self') refuses on purpose: text falls back to Arial (internal/web/assets/README.md).
func expected(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.URL, "/favicon.ico") || strings.Contains(m.Text, "/favicon.ico") ||
		(strings.Contains(m.Text, "Loading the font 'https://assets.nhs.uk/fonts/") && strings.Contains(m.Text, "font-src 'self'"))
}
