// Package browsertest drives herolink's pages (and the EMIS sandbox's) in a real headless
// Chromium through chromedp, the way a person does: open a page at a width, fill a field found
// by its label, click a button found by its text, press Tab and Enter, read what the page says,
// audit it with axe-core and keep a screenshot.
//
// One browser process serves a whole test binary (Chromium takes about a second to start); each
// test gets its own tab in its own browser context, so cookies never leak between tests. Call
// Main from the suite's TestMain so the browser is closed when the tests end.
//
// Finding the browser: HEROLINK_CHROMIUM, else chromium, chromium-browser, google-chrome on
// PATH. Without one, a test that asks for a page SKIPS, except under CI=true, where it FAILS:
// CI installs Chromium, so a missing one there is a broken build, not a reason to pass.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names a browser binary to use instead of searching PATH.
const ChromiumEnv = "HEROLINK_CHROMIUM"

// ArtefactsEnv names the directory screenshots are written to (default: a fresh temporary
// directory, printed once).
const ArtefactsEnv = "HEROLINK_BROWSER_ARTEFACTS"

var shared struct {
	once    sync.Once
	path    string // the browser binary; "" when none was found
	err     error  // why the browser could not be started
	ctx     context.Context
	cancel  context.CancelFunc
	alloc   context.CancelFunc
	artDir  string
	artOnce sync.Once
	artErr  error
}

// FindChromium returns the browser binary to drive, or "" when there is none.
func FindChromium() string {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserFlags are what this machine needs: no sandbox (tests run as root in CI), and nothing
// that phones home, since the network is closed and Chromium otherwise waits on connections.
func browserFlags(path string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(DesktopWidth, DesktopHeight),
	)
}

// browser starts the shared browser on first use and returns its root context (a tab that
// stays blank; pages are new tabs of it).
func browser(t testing.TB) context.Context {
	t.Helper()
	shared.once.Do(func() {
		shared.path = FindChromium()
		if shared.path == "" {
			return
		}
		// The browser outlives every test: it is closed by Main (or Close).
		actx, acancel := chromedp.NewExecAllocator(context.Background(), browserFlags(shared.path)...)
		ctx, cancel := chromedp.NewContext(actx)
		// The first action starts the browser and ties it to the context it is given: that
		// must be the long-lived one, not a context with a timeout.
		if err := chromedp.Do(ctx); err != nil {
			cancel()
			acancel()
			shared.err = fmt.Errorf("start %s: %w", shared.path, err)
			return
		}
		shared.ctx, shared.cancel, shared.alloc = ctx, cancel, acancel
	})
	switch {
	case shared.path == "":
		missing(t, "no Chromium found (set "+ChromiumEnv+" or install the chromium package)")
	case shared.err != nil:
		t.Fatalf("browsertest: %v", shared.err)
	}
	return shared.ctx
}

// Require starts the shared browser if need be; without one it skips the test, or fails it
// under CI=true.
func Require(t testing.TB) {
	t.Helper()
	browser(t)
}

// missing skips the test, or fails it under CI=true.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browsertest: %s; under CI=true the browser suite must run", why)
		return
	}
	t.Skipf("browsertest: %s: skipping the browser test", why)
}

// Close stops the shared browser; Main calls it after the tests.
func Close() {
	if shared.cancel != nil {
		shared.cancel()
		shared.alloc()
		shared.cancel = nil
	}
}

// Main runs the tests of a browser suite and closes the shared browser afterwards, then runs
// after (for example a goroutine leak check) when the tests passed. Use it as
//
//	func TestMain(m *testing.M) { browsertest.Main(m, nil) }
func Main(m *testing.M, after func() error) {
	code := m.Run()
	Close()
	if code == 0 && after != nil {
		if err := after(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if shared.artDir != "" {
		fmt.Fprintf(os.Stderr, "browsertest: screenshots in %s\n", shared.artDir)
	}
	os.Exit(code)
}

// artefacts is where screenshots go: $HEROLINK_BROWSER_ARTEFACTS, or one temporary directory
// per test binary (kept after the tests so the screenshots can be looked at).
func artefacts() (string, error) {
	shared.artOnce.Do(func() {
		if d := os.Getenv(ArtefactsEnv); d != "" {
			shared.artDir, shared.artErr = d, os.MkdirAll(d, 0o755)
			return
		}
		shared.artDir, shared.artErr = os.MkdirTemp("", "herolink-browser-")
	})
	if shared.artErr != nil {
		return "", errors.Join(errors.New("browsertest: artefacts directory"), shared.artErr)
	}
	return shared.artDir, nil
}
