package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"herolink/internal/app"
	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// RestartOptions configure `herolink bench restart`.
type RestartOptions struct {
	Exe      string    // the herolink binary, run as `serve`
	Stderr   io.Writer // the serve child's stderr; nil: discarded
	Progress io.Writer // progress lines; nil: none

	Kills      int           // SIGKILLs of serve (6)
	Rate       float64       // steady confirmations per second (4)
	Burst      int           // confirmations sent at once just before each kill (40)
	LoadFor    time.Duration // steady load before each burst (5 s)
	LatencyP50 time.Duration // median latency the sandbox adds to each EMIS call (150 ms)
	LatencyP99 time.Duration // its 99th percentile (600 ms)
	ResumeWait time.Duration // after a restart, how long to wait for the bookings in flight (3 minutes)
	Seed       uint64
}

func (o *RestartOptions) defaults() {
	if o.Kills <= 0 {
		o.Kills = 6
	}
	if o.Rate <= 0 {
		o.Rate = 4
	}
	if o.Burst < 0 {
		o.Burst = 0
	} else if o.Burst == 0 {
		o.Burst = 40
	}
	if o.LoadFor <= 0 {
		o.LoadFor = 5 * time.Second
	}
	if o.LatencyP50 <= 0 {
		o.LatencyP50 = 150 * time.Millisecond
	}
	if o.LatencyP99 < o.LatencyP50 {
		o.LatencyP99 = 4 * o.LatencyP50
	}
	if o.ResumeWait <= 0 {
		o.ResumeWait = 3 * time.Minute
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// RestartResult is what `herolink bench restart` measured. The JSON names are the contract of
// `--json`.
type RestartResult struct {
	Kills        int     `json:"kills"`
	Confirmed    int     `json:"bookings_confirmed"` // in herolink's database at the end, acknowledged or not
	InFlight     int     `json:"in_flight_at_kills"` // confirming at the moment of a kill, summed over kills
	Resumed      int     `json:"in_flight_resumed"`  // of those, reached EMIS after the restart
	NotResumed   int     `json:"in_flight_not_resumed_in_time"`
	ResumeP50S   float64 `json:"resume_p50_s"` // restart (exec of serve) to the booking recorded in EMIS
	ResumeP99S   float64 `json:"resume_p99_s"`
	ResumeMaxS   float64 `json:"resume_max_s"`
	RestartReady float64 `json:"restart_ready_p50_s"` // exec of serve to its ready line
	Booked       int     `json:"booked"`
	Placeholders int     `json:"placeholders"`
	Failed       int     `json:"failed"`
	Lost         int     `json:"lost"`       // booked or placeholder in herolink, nothing in EMIS
	Duplicated   int     `json:"duplicated"` // more than one appointment or placeholder in EMIS
	StillWaiting int     `json:"still_confirming_at_end"`
	RefusedInGap int     `json:"requests_refused_while_down"`
	WallS        float64 `json:"wall_s"`
}

// Table is the result as printed.
func (r RestartResult) Table() Table {
	var t Table
	t.Add("SIGKILLs of serve", r.Kills, "", "")
	t.Add("bookings confirmed", r.Confirmed, "", "")
	t.Add("in flight at a kill (summed)", r.InFlight, "", "")
	t.Add("of those, resumed / not within the wait", fmt.Sprintf("%d / %d", r.Resumed, r.NotResumed), "", "")
	t.Add("restart to EMIS p50", r.ResumeP50S, "%.1f", "s")
	t.Add("restart to EMIS p99", r.ResumeP99S, "%.1f", "s")
	t.Add("restart to EMIS max", r.ResumeMaxS, "%.1f", "s")
	t.Add("serve start to ready p50", r.RestartReady, "%.2f", "s")
	t.Add("booked / placeholder / failed", fmt.Sprintf("%d / %d / %d", r.Booked, r.Placeholders, r.Failed), "", "")
	t.Add("lost", r.Lost, "", "")
	t.Add("duplicated", r.Duplicated, "", "")
	t.Add("still confirming at the end", r.StillWaiting, "", "")
	t.Add("partner requests refused while down", r.RefusedInGap, "", "")
	t.Add("wall time", r.WallS, "%.0f", "s")
	return t
}

// serveReady is the line `herolink serve` prints once it listens.
var serveReady = regexp.MustCompile(`^herolink serving at (http://\S+)/admin/$`)

// kill is one SIGKILL: when, what was in flight, and when serve was started again.
type kill struct {
	at, restart time.Time
	inFlight    []string
}

// RunRestart runs `herolink serve` as a child process on the demo practice against an
// in-process EMIS sandbox, confirms bookings through the partner API, SIGKILLs serve while
// bookings are being written, starts it again at once, and measures how long the bookings in
// flight at each kill take to reach EMIS after the restart, and whether any was lost or
// written twice.
func RunRestart(ctx context.Context, o RestartOptions) (RestartResult, error) {
	o.defaults()
	var res RestartResult
	begin := time.Now()
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5851f42d4c957f2d))
	dir, err := os.MkdirTemp("", "herolink-bench-restart-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, DiaryWeeks: 6})
	emisURL, stopEMIS, err := serveSandbox(world)
	if err != nil {
		return res, err
	}
	defer stopEMIS()

	// Seed the data directory in this process (connect, map, first sync), then hand it to serve.
	progress("preparing the demo practice (connect, map, first sync of 6 weeks)")
	seeded, err := app.New(ctx, app.Config{DataDir: dir, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		SyncHorizonDays: 42, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return res, err
	}
	info, err := seeded.SeedDemo(ctx, "", emisURL)
	seeded.Store.Close()
	if err != nil {
		return res, err
	}
	lat := sandbox.FaultConfig{LatencyP50MS: float64(o.LatencyP50.Milliseconds()), LatencyP99MS: float64(o.LatencyP99.Milliseconds())}
	if err := world.SetFaults(sandbox.Faults{Global: lat}); err != nil {
		return res, err
	}

	// One address for every run of serve, so the partner keeps calling the same URL.
	pick, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	addr := pick.Addr().String()
	pick.Close()
	args := []string{"serve", "--addr", addr, "--data-dir", dir, "--emis-url", emisURL,
		"--directory-url", emisURL + "/sandbox/v1/directory", "--sync-horizon-days", "42",
		"--api-rate-limit", "1000000", "--api-burst", "1000000", "--emis-timeout", "5s", "--log-level", "warn"}
	var readies []time.Duration
	start := func() (*Child, error) {
		c, err := StartChild(ctx, ChildOptions{Exe: o.Exe, Args: args, Stderr: o.Stderr, Ready: serveReady, ReadyTimeout: time.Minute})
		if err == nil {
			readies = append(readies, c.Started)
		}
		return c, err
	}
	child, err := start()
	if err != nil {
		return res, err
	}
	defer func() { _ = child.Stop() }()

	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "herolink.db"))
	if err != nil {
		return res, err
	}
	defer st.Close()
	demo, err := st.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		return res, err
	}

	c := newAPIClient("http://"+addr, info.APIKey, info.PracticeGroupID, 64)
	want := o.Kills*(o.Burst+int(o.Rate*(o.LoadFor.Seconds()+60))) + 100
	free, err := c.freeSlots(ctx, want, 41)
	if err != nil {
		return res, err
	}
	org, err := world.Org(sandbox.DemoCDB)
	if err != nil {
		return res, err
	}
	patients := org.SearchPatients("", 1000)
	if len(patients) == 0 {
		return res, errors.New("bench: the demo register is empty")
	}
	d := &driver{c: c, slots: free, patients: patients}

	// The steady load runs throughout, through kills and restarts.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var loadWG sync.WaitGroup
	loadWG.Add(1)
	go func() {
		defer loadWG.Done()
		d.steady(loadCtx, o.Rate)
	}()
	defer func() { stopLoad(); loadWG.Wait() }()

	var kills []kill
	for k := range o.Kills {
		if err := sleepCtx(ctx, o.LoadFor); err != nil {
			return res, err
		}
		// The worst moment: a burst of confirmations, killed while their writes are under way.
		var burstWG sync.WaitGroup
		burstWG.Add(1)
		go func() {
			defer burstWG.Done()
			_ = parallel(loadCtx, 32, o.Burst, func(int) error { d.book(loadCtx); return nil })
		}()
		if err := sleepCtx(ctx, time.Duration(300+rng.IntN(1200))*time.Millisecond); err != nil {
			return res, err
		}
		kl := kill{at: time.Now()}
		if err := child.Kill(); err != nil {
			return res, fmt.Errorf("bench: kill serve: %w", err)
		}
		rows, err := st.AppointmentsWhere(ctx, demo.ID, string(booking.StateConfirming))
		if err != nil {
			return res, err
		}
		for _, r := range rows {
			kl.inFlight = append(kl.inFlight, r.ID)
		}
		kl.restart = time.Now()
		if child, err = start(); err != nil {
			return res, fmt.Errorf("bench: restart serve after kill %d: %w", k+1, err)
		}
		burstWG.Wait()
		progress("kill %d: %d bookings in flight; serve ready again in %.2f s", k+1, len(kl.inFlight), child.Started.Seconds())
		kills = append(kills, kl)
		// Wait until every booking in flight at this kill has left confirming.
		deadline := kl.restart.Add(o.ResumeWait)
		for {
			waiting, err := stillConfirming(ctx, st, kl.inFlight)
			if err != nil {
				return res, err
			}
			if waiting == 0 {
				break
			}
			if time.Now().After(deadline) {
				progress("kill %d: %d bookings still confirming after %s", k+1, waiting, o.ResumeWait)
				break
			}
			if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
				return res, err
			}
		}
	}
	stopLoad()
	loadWG.Wait()
	// Let everything settle, then count what EMIS holds.
	progress("draining")
	for deadline := time.Now().Add(o.ResumeWait); ; {
		rows, err := st.AppointmentsWhere(ctx, demo.ID, string(booking.StateConfirming))
		if err != nil {
			return res, err
		}
		if len(rows) == 0 || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return res, err
		}
	}
	if err := child.Stop(); err != nil {
		return res, err
	}
	if err := world.SetFaults(sandbox.Faults{}); err != nil {
		return res, err
	}
	res.RefusedInGap = int(d.refused.Load())
	res.Kills = len(kills)
	return res, measureRestarts(ctx, st, demo.ID, org, world, kills, readies, begin, &res)
}

// measureRestarts reads herolink's database and EMIS's diary once serve has stopped.
func measureRestarts(ctx context.Context, st *store.Store, practiceID int64, org *sandbox.Org, world *sandbox.World,
	kills []kill, readies []time.Duration, begin time.Time, res *RestartResult) error {
	rows, err := st.AppointmentsWhere(ctx, practiceID, string(booking.StateConfirming), string(booking.StateBooked),
		string(booking.StatePlaceholder), string(booking.StateFailed), string(booking.StateCancelled))
	if err != nil {
		return err
	}
	byID := map[string]store.AppointmentRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	var resume []time.Duration
	for _, k := range kills {
		for _, id := range k.inFlight {
			res.InFlight++
			r := byID[id]
			if r.WrittenAt.IsZero() || r.WrittenAt.Sub(k.restart) > 3*time.Minute {
				res.NotResumed++
				continue
			}
			res.Resumed++
			resume = append(resume, r.WrittenAt.Sub(k.restart))
		}
	}
	res.ResumeP50S = sortedPercentile(resume, 0.50).Seconds()
	res.ResumeP99S = sortedPercentile(resume, 0.99).Seconds()
	res.ResumeMaxS = sortedPercentile(resume, 1).Seconds()
	res.RestartReady = sortedPercentile(readies, 0.50).Seconds()

	today := world.Today()
	sessions, err := org.ListSessions(today, today.AddDays(43), true)
	if err != nil {
		return err
	}
	perRef := map[string]int{}
	for _, s := range sessions {
		for _, sl := range s.Slots {
			if i := strings.Index(sl.Notes, "HL-"); i >= 0 && len(sl.Notes) >= i+11 {
				perRef[sl.Notes[i:i+11]]++
			}
		}
	}
	for _, r := range rows {
		n := perRef[r.Reference]
		switch booking.State(r.State) {
		case booking.StateBooked:
			res.Booked++
		case booking.StatePlaceholder:
			res.Placeholders++
		case booking.StateFailed:
			res.Failed++
		case booking.StateConfirming:
			res.StillWaiting++
		default:
			continue
		}
		res.Confirmed++
		if n == 0 && (r.State == string(booking.StateBooked) || r.State == string(booking.StatePlaceholder)) {
			res.Lost++
		}
		if n > 1 || (n > 0 && r.State == string(booking.StateFailed)) {
			res.Duplicated++
		}
	}
	res.WallS = time.Since(begin).Seconds()
	return nil
}

func stillConfirming(ctx context.Context, st *store.Store, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		r, err := st.Appointment(ctx, st.DBQ(), id)
		if err != nil {
			return 0, err
		}
		if r.State == string(booking.StateConfirming) {
			n++
		}
	}
	return n, nil
}

// driver books slots through the partner API, each slot once.
type driver struct {
	c        *apiClient
	slots    []string
	next     atomic.Int64
	patients []sandbox.Patient
	refused  atomic.Int64
}

// steady books at rate until ctx ends, at most 16 bookings at once.
func (d *driver) steady(ctx context.Context, rate float64) { atRate(ctx, rate, 16, d.book) }

// atRate calls op rate times a second until ctx ends, at most inFlight at once: when everything
// is slow or down a tick is skipped rather than piled up. It returns once every call ended.
func atRate(ctx context.Context, rate float64, inFlight int, op func(context.Context)) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			op(ctx)
		}()
	}
}

// book holds the next slot and confirms it for a patient on the register (one in ten for
// nobody EMIS knows: a placeholder). Requests refused because serve is down are counted.
func (d *driver) book(ctx context.Context) {
	i := int(d.next.Add(1)) - 1
	if i >= len(d.slots) {
		return
	}
	status, body, err := d.c.do(ctx, http.MethodPost, "/v1/appointments", map[string]any{"slot_id": d.slots[i]}, nil)
	if err != nil || status != http.StatusCreated {
		d.refused.Add(1)
		return
	}
	id := str(body, "id")
	p := d.patients[i%len(d.patients)]
	patient := map[string]any{"family_name": p.FamilyName, "given_name": firstWord(p.FirstNames), "date_of_birth": p.DateOfBirth}
	if p.NHSNumber != "" {
		patient["nhs_number"] = p.NHSNumber
	}
	if i%10 == 9 {
		patient = map[string]any{"family_name": "Visitor" + strconv.Itoa(i), "given_name": "Sam", "date_of_birth": "1990-06-15"}
	}
	status, _, err = d.c.do(ctx, http.MethodPost, "/v1/appointments/"+id+"/book", map[string]any{"patient": patient}, nil)
	if err != nil || status != http.StatusAccepted {
		d.refused.Add(1)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
