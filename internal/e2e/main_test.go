package e2e_test

import (
	"testing"

	"go.uber.org/goleak"

	"herolink/internal/browsertest"
)

// One browser for the whole binary, closed after the tests; then every goroutine the tests
// started (herolink, the sandbox, chromedp) must have stopped.
func TestMain(m *testing.M) { browsertest.Main(m, func() error { return goleak.Find() }) }
