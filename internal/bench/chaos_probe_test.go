package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeInstance serves a /metrics page whose sync pass counter the test sets.
type fakeInstance struct {
	passes atomic.Int64
	srv    *httptest.Server
}

func newFakeInstance(t *testing.T) (*fakeInstance, *chaosProc) {
	f := &fakeInstance{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# HELP herolink_sync_passes_total Sync passes.\n# TYPE herolink_sync_passes_total counter\n")
		fmt.Fprintf(w, "herolink_sync_passes_total{kind=\"full\",result=\"ok\"} %d\n", f.passes.Load())
		fmt.Fprintf(w, "herolink_sync_passes_total{kind=\"near\",result=\"error\"} 0\ngo_goroutines 12\n")
	}))
	t.Cleanup(f.srv.Close)
	return f, &chaosProc{name: "fake", addr: strings.TrimPrefix(f.srv.URL, "http://"), child: &Child{}}
}

func TestTwoInstancesCompletingSyncPassesInOneWindowCountAsDoubleSynced(t *testing.T) {
	a, pa := newFakeInstance(t)
	b, pb := newFakeInstance(t)
	w := newDoubleSyncWatch([]*chaosProc{pa, pb})
	ctx := context.Background()

	w.step(ctx) // both at 0: nobody synced
	a.passes.Add(2)
	w.step(ctx) // only a
	a.passes.Add(1)
	b.passes.Add(1)
	w.step(ctx) // both: the one practice synced by two instances at once
	b.passes.Add(3)
	w.step(ctx) // only b
	pa.child = nil
	a.passes.Add(5)
	w.step(ctx) // a is down: not asked
	if w.windows != 5 || w.doubled != 1 {
		t.Errorf("windows %d, doubled %d; want 5 and 1", w.windows, w.doubled)
	}
	if len(w.advanced) != 3 {
		t.Errorf("%d windows with a pass, want 3", len(w.advanced))
	}
}

func TestARestartedInstanceCountingFromZeroAgainHasSynced(t *testing.T) {
	a, pa := newFakeInstance(t)
	w := newDoubleSyncWatch([]*chaosProc{pa})
	a.passes.Store(10)
	w.step(context.Background())
	a.passes.Store(1) // restarted, one pass since
	w.step(context.Background())
	if len(w.advanced) != 2 {
		t.Errorf("%d windows with a pass, want 2", len(w.advanced))
	}
}
