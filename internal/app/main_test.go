package app_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (pools, River clients, workers) is stopped by the time it ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
