package bench

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PhaseResult is what one load phase measured.
type PhaseResult struct {
	Calls    int           // successful calls
	Errors   int           // failed calls
	Elapsed  time.Duration // from the first call's start to the last call's end
	P50, P99 time.Duration // latency of successful calls
	FirstErr error         // the first failure, for the message when every call failed
}

// PerSecond is successful calls per second of the phase.
func (p PhaseResult) PerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Calls) / p.Elapsed.Seconds()
}

// failure is why a phase without successful calls had none.
func (p PhaseResult) failure() error {
	if p.FirstErr != nil {
		return p.FirstErr
	}
	return errors.New("no call completed within the phase")
}

// RunPhase runs call in workers goroutines, each calling in a loop until d has passed since
// the phase began or ctx ends; a call already under way when the time is up runs to its end.
// call receives the worker's number (0-based). RunPhase returns when every worker has stopped.
func RunPhase(ctx context.Context, workers int, d time.Duration, call func(ctx context.Context, worker int) error) PhaseResult {
	type tally struct {
		lat    []time.Duration
		errors int
		first  error
	}
	tallies := make([]tally, workers)
	begin := time.Now()
	deadline := begin.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			for ctx.Err() == nil && time.Now().Before(deadline) {
				start := time.Now()
				err := call(ctx, w)
				if err != nil {
					t.errors++
					if t.first == nil {
						t.first = err
					}
					continue
				}
				t.lat = append(t.lat, time.Since(start))
			}
		}()
	}
	wg.Wait()
	res := PhaseResult{Elapsed: time.Since(begin)}
	var lat []time.Duration
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		res.Errors += t.errors
		if res.FirstErr == nil {
			res.FirstErr = t.first
		}
	}
	res.Calls = len(lat)
	slices.Sort(lat)
	res.P50, res.P99 = Percentile(lat, 0.50), Percentile(lat, 0.99)
	return res
}

// Percentile is the nearest-rank percentile p (0 < p <= 1) of sorted durations; 0 if none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// answerCounter is an http.RoundTripper that counts Partner API answers and their body bytes
// per method, so that the benchmark knows the size of what it decoded without a second request.
type answerCounter struct {
	next    http.RoundTripper
	methods map[string]*answerBytes // fixed before use; only the counters change
}

type answerBytes struct{ answers, bytes atomic.Int64 }

func newAnswerCounter(next http.RoundTripper, methods ...string) *answerCounter {
	c := &answerCounter{next: next, methods: map[string]*answerBytes{}}
	for _, m := range methods {
		c.methods[m] = &answerBytes{}
	}
	return c
}

func (c *answerCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	path := req.URL.Path
	if ab := c.methods[path[strings.LastIndexByte(path, '/')+1:]]; ab != nil && resp.StatusCode == http.StatusOK {
		ab.answers.Add(1)
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &ab.bytes}
	}
	return resp, nil
}

// mean is the average answer size of a method in bytes; 0 if it never answered.
func (c *answerCounter) mean(method string) int64 {
	ab := c.methods[method]
	if ab == nil || ab.answers.Load() == 0 {
		return 0
	}
	return ab.bytes.Load() / ab.answers.Load()
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
