package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"sync"
	"time"
)

// HoldsOptions configure `herolink bench holds`: an open loop of reservations, each on a slot
// of its own, sent at a fixed rate whatever the answers, so a slow answer delays no later send.
type HoldsOptions struct {
	Progress    io.Writer
	DatabaseURL string
	Rate        float64       // holds sent per second (200)
	Duration    time.Duration // how long they are sent for (60 s)
	// Practices holding the slots: the demo practice and generated ones (0: enough for
	// Rate*Duration distinct slots in eight weeks of their diaries).
	Practices int
	// CPUProfile, when set, receives herolink's CPU profile while the holds are sent (the
	// client's work is in it too: they share the process).
	CPUProfile io.Writer
}

// HoldsResult is what `herolink bench holds` measured. The JSON names are the contract of --json.
type HoldsResult struct {
	Database     string  `json:"database"`
	Rate         float64 `json:"rate"`
	DurationS    float64 `json:"duration_s"`
	Practices    int     `json:"practices"`
	Sent         int     `json:"sent"`
	Granted      int     `json:"granted"`
	OtherAnswers int     `json:"other_answers"` // anything but 201, transport errors included
	P50MS        float64 `json:"p50_ms"`
	P99MS        float64 `json:"p99_ms"`
	MaxMS        float64 `json:"max_ms"`
	// SendLagMaxMS is how late the loop sent its latest request: above a few ms, the rate was
	// not held and the latencies understate the wait.
	SendLagMaxMS float64        `json:"send_lag_max_ms"`
	Answers      map[string]int `json:"answers"` // by status ("201", "409", "error")
}

// Table is the result as `herolink bench holds` prints it.
func (r HoldsResult) Table() Table {
	var t Table
	t.Add("database", r.Database, "", "")
	t.Add("rate", r.Rate, "%.0f", "holds/s, open loop, each on a slot of its own")
	t.Add("practices", r.Practices, "", "")
	t.Add("sent", r.Sent, "", "")
	t.Add("granted (201)", r.Granted, "", "")
	t.Add("other answers", r.OtherAnswers, "", "")
	t.Add("hold latency p50", r.P50MS, "%.1f", "ms")
	t.Add("hold latency p99", r.P99MS, "%.1f", "ms")
	t.Add("hold latency max", r.MaxMS, "%.1f", "ms")
	t.Add("latest send behind schedule", r.SendLagMaxMS, "%.1f", "ms")
	return t
}

// RunHolds measures holds at a fixed rate on the demo practice.
func RunHolds(ctx context.Context, o HoldsOptions) (HoldsResult, error) {
	if o.Rate <= 0 || o.Duration <= 0 || o.Practices < 0 {
		return HoldsResult{}, errors.New("bench holds: rate and duration must be positive")
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	n := int(o.Rate * o.Duration.Seconds())
	if o.Practices == 0 {
		o.Practices = practicesFor(n)
	}
	res := HoldsResult{Database: "sqlite", Rate: o.Rate, DurationS: o.Duration.Seconds(), Answers: map[string]int{}}
	// Enough connections that the client never queues: a second of sends in flight at once.
	d, err := startDemoApp(ctx, demoAppOptions{DatabaseURL: o.DatabaseURL, DBPrefix: "herolink_bench_holds", DiaryWeeks: holdsDiaryWeeks,
		ExtraPractices: o.Practices - 1, Conns: max(64, int(o.Rate)), Progress: progress})
	if err != nil {
		return res, err
	}
	defer d.close()
	slots, err := d.freeSlotsEverywhere(ctx, n, holdsDiaryWeeks)
	if err != nil {
		return res, err
	}
	res.Practices = o.Practices
	progress("sending %d holds at %.0f/s across %d practices", n, o.Rate, o.Practices)
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	lat, codes, lag := openLoop(ctx, o.Rate, n, func(ctx context.Context, i int) int {
		status, _, err := slots[i].client.do(ctx, http.MethodPost, "/v1/appointments", map[string]any{"slot_id": slots[i].id}, nil)
		if err != nil {
			return -1
		}
		return status
	})
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	res.Sent = len(codes)
	for _, c := range codes {
		key := fmt.Sprint(c)
		if c < 0 {
			key = "error"
		}
		res.Answers[key]++
		if c == http.StatusCreated {
			res.Granted++
		} else {
			res.OtherAnswers++
		}
	}
	if o.DatabaseURL != "" {
		res.Database = "postgres"
	}
	res.P50MS, res.P99MS, res.MaxMS = ms(sortedPercentile(lat, 0.50)), ms(sortedPercentile(lat, 0.99)), ms(sortedPercentile(lat, 1))
	res.SendLagMaxMS = ms(lag)
	return res, ctx.Err()
}

// openLoop sends n requests, the i-th at start + i/rate, each on its own goroutine. A request's
// latency counts from when it was due, not when it went, so a loop that fell behind shows.
// It returns each request's latency and status and how late the latest send was.
func openLoop(ctx context.Context, rate float64, n int, send func(ctx context.Context, i int) int) ([]time.Duration, []int, time.Duration) {
	lat, codes := make([]time.Duration, n), make([]int, n)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	var lag time.Duration
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent := 0
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		lag = max(lag, time.Since(due))
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = send(ctx, i)
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	return lat[:sent], codes[:sent], lag
}

// holdsDiaryWeeks is the longest horizon herolink syncs (56 days).
const holdsDiaryWeeks = 8

// A practice's diary has about this many free slots in holdsDiaryWeeks from tomorrow on
// (the demo practice's had 3,659 in six weeks).
const freeSlotsPerPractice = 4000

// practicesFor is how many practices' diaries hold n free slots, with room to spare.
func practicesFor(n int) int {
	return max(1, (n*5/4+freeSlotsPerPractice-1)/freeSlotsPerPractice)
}
