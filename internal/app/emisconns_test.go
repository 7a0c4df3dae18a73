package app

import "testing"

// herolink keeps a connection to EMIS for every call it can have in flight: the sync's slot
// reads at its concurrency, every write-back worker, and a few for everything else.
func TestEMISConnectionsKeptCoverEveryCallInFlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"defaults", Config{WritebackWorkers: 64}, 32*4 + 64 + 16},
		{"busier sync", Config{SyncConcurrency: 100, WritebackWorkers: 64}, 100*4 + 64 + 16},
		{"more write-back workers", Config{SyncConcurrency: 8, WritebackWorkers: 200}, 8*4 + 200 + 16},
	} {
		if got := emisIdleConns(tc.cfg); got != tc.want {
			t.Errorf("%s: %d connections kept, want %d", tc.name, got, tc.want)
		}
	}
}
