package bench

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestTheHoldsLoopSendsOnScheduleWhateverTheAnswers(t *testing.T) {
	// Every answer waits until all ten requests have been sent: a loop that waited for
	// answers before sending would never get there, and the deadline would end it.
	const n = 10
	var started atomic.Int32
	all := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lat, codes, _ := openLoop(ctx, 1000, n, func(ctx context.Context, i int) int {
		if started.Add(1) == n {
			close(all)
		}
		select {
		case <-all:
			return 201 + i%2
		case <-ctx.Done():
			return -1
		}
	})
	if ctx.Err() != nil {
		t.Fatal("the loop waited for answers before sending the next request")
	}
	if len(codes) != n || len(lat) != n {
		t.Fatalf("sent %d, timed %d, want %d", len(codes), len(lat), n)
	}
	if got := slices.Index(codes, -1); got >= 0 {
		t.Errorf("request %d never answered: %v", got, codes)
	}
	for i, c := range codes {
		if c != 201+i%2 {
			t.Errorf("request %d's answer is %d, want %d: answers are kept by request", i, c, 201+i%2)
		}
	}
}

func TestTheHoldsLoopCountsLatencyFromWhenARequestWasDue(t *testing.T) {
	// The first request answers only once the fifth has been sent: it holds none of the others
	// back, and its latency includes its whole wait (four intervals of 10 ms at least).
	fifth := make(chan struct{})
	lat, codes, _ := openLoop(context.Background(), 100, 5, func(ctx context.Context, i int) int {
		switch i {
		case 0:
			select {
			case <-fifth:
			case <-time.After(5 * time.Second): // bounded: a loop that waits would hang here
				return -1
			}
		case 4:
			close(fifth)
		}
		return 201
	})
	if codes[0] != 201 {
		t.Fatal("the fifth request was not sent while the first waited for its answer")
	}
	if lat[0] < 40*time.Millisecond {
		t.Errorf("the first request's latency is %s, want at least the 40ms it waited", lat[0])
	}
}

func TestTheHoldsBenchmarkGrantsEveryHoldOnAQuietDemoPractice(t *testing.T) {
	if testing.Short() {
		t.Skip("starts herolink and syncs eight weeks of diary")
	}
	res, err := RunHolds(context.Background(), HoldsOptions{Rate: 20, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 20 || res.Granted != 20 || res.OtherAnswers != 0 || res.Practices != 1 || res.P99MS <= 0 {
		t.Errorf("%+v, want 20 sent and granted on the demo practice alone", res)
	}
}

func TestTheHoldsBenchmarkJSONHasTheNamesTheIssueGives(t *testing.T) {
	data, err := json.Marshal(HoldsResult{Rate: 200, Sent: 12000, Granted: 12000})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rate", "sent", "granted", "other_answers", "p50_ms", "p99_ms"} {
		if _, ok := m[k]; !ok {
			t.Errorf("--json has no %q: %s", k, data)
		}
	}
}

func TestHoldsNeedEnoughPracticesForDistinctSlots(t *testing.T) {
	for _, c := range []struct{ n, want int }{{100, 1}, {3200, 1}, {4000, 2}, {12000, 4}} {
		if got := practicesFor(c.n); got != c.want {
			t.Errorf("practicesFor(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
