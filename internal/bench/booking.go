package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/app"
	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// BookingOptions configure `herolink bench booking`.
type BookingOptions struct {
	Progress    io.Writer // progress lines; nil: none
	DatabaseURL string    // "": SQLite in a temporary data directory; postgres://: a fresh database on that server

	HoldAttempts int // concurrent reservation attempts (1,000)
	HoldSlots    int // on this many free slots (100)

	Bookings         int           // confirmations written through the faulty sandbox (1,000)
	ErrorRate        float64       // share of EMIS calls answering 503 (0.10)
	TimeoutRate      float64       // share of EMIS calls timing out, half of them after a write applied (0.05)
	CallTimeout      time.Duration // herolink's per-call EMIS timeout (2 s); a stall lasts 25 % longer
	WritebackWorkers int           // write-back jobs in flight (64)
	DrainTimeout     time.Duration // give up waiting for the queue to drain after this (10 minutes)

	SearchClients  int           // concurrent slot-search clients (64)
	SearchDuration time.Duration // of the search and of the ceiling measurement each (10 s)
	SearchProfile  io.Writer     // herolink's CPU profile during the slot search; nil: none
	HoldProfile    io.Writer     // herolink's CPU profile during the burst of holds on open connections; nil: none
}

func (o *BookingOptions) defaults() {
	if o.HoldAttempts <= 0 {
		o.HoldAttempts = 1000
	}
	if o.HoldSlots <= 0 {
		o.HoldSlots = 100
	}
	if o.Bookings <= 0 {
		o.Bookings = 1000
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 2 * time.Second
	}
	if o.WritebackWorkers <= 0 {
		o.WritebackWorkers = 64
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Minute
	}
	if o.SearchClients <= 0 {
		o.SearchClients = 64
	}
	if o.SearchDuration <= 0 {
		o.SearchDuration = 10 * time.Second
	}
}

// BookingResult is what `herolink bench booking` measured. The JSON names are the contract
// of `--json`.
type BookingResult struct {
	HoldAttempts int     `json:"hold_attempts"`
	HoldsGranted int     `json:"holds_granted"`
	HoldRefused  int     `json:"holds_refused"`
	HoldOther    int     `json:"holds_other_answers"` // neither 201 nor 409: must be 0
	HoldP50MS    float64 `json:"hold_p50_ms"`
	HoldP99MS    float64 `json:"hold_p99_ms"`
	HoldsPerSec  float64 `json:"holds_per_s"`
	// The same burst on another HoldSlots slots over the connections the first one opened, as
	// a partner's HTTP client keeps them: the holds' own latency, without 1,000 TCP handshakes
	// on the same two cores.
	OpenHoldsGranted int     `json:"open_holds_granted"`
	OpenHoldOther    int     `json:"open_holds_other_answers"`
	OpenHoldP50MS    float64 `json:"open_hold_p50_ms"`
	OpenHoldP99MS    float64 `json:"open_hold_p99_ms"`
	// The same burst on open connections again, on another HoldSlots slots, right after the
	// API key cache was emptied, as a key revoked or rotated anywhere empties every instance's,
	// and with the key's last use over a minute old, as a partner's first burst after a quiet
	// minute finds it: every request of the burst needs its key read and its use recorded.
	ColdKeyHoldsGranted int     `json:"cold_key_holds_granted"`
	ColdKeyHoldOther    int     `json:"cold_key_holds_other_answers"`
	ColdKeyHoldP50MS    float64 `json:"cold_key_hold_p50_ms"`
	ColdKeyHoldP99MS    float64 `json:"cold_key_hold_p99_ms"`
	// The floor of the first burst on this machine in this run: as many POSTs at once, each on a
	// new connection, to a handler that does nothing.
	BurstFloorP50MS float64 `json:"burst_floor_p50_ms"`
	BurstFloorP99MS float64 `json:"burst_floor_p99_ms"`

	Bookings              int     `json:"bookings"`
	Booked                int     `json:"booked"`
	Placeholders          int     `json:"placeholders"`
	Failed                int     `json:"failed"`
	PerBookingMin         int     `json:"emis_appointments_per_booking_min"`
	PerBookingMax         int     `json:"emis_appointments_per_booking_max"`
	LostBookings          int     `json:"lost_bookings"`
	DrainS                float64 `json:"drain_s"`
	WrittenP50S           float64 `json:"confirm_to_emis_p50_s"`
	WrittenP99S           float64 `json:"confirm_to_emis_p99_s"`
	EMISCallsPerBooking   float64 `json:"emis_calls_per_booking"`
	EMISWriteCalls        int64   `json:"emis_write_calls"`
	FaultsInjected        int64   `json:"faults_injected"`
	SearchRPS             float64 `json:"search_rps"`
	SearchP50MS           float64 `json:"search_p50_ms"`
	SearchP99MS           float64 `json:"search_p99_ms"`
	SearchErrors          int     `json:"search_errors"`
	CeilingRPS            float64 `json:"ceiling_rps"`
	CeilingP99MS          float64 `json:"ceiling_p99_ms"`
	SlotsPerSearchRequest int     `json:"slots_per_search_request"`
}

// Table is the result as printed.
func (r BookingResult) Table() Table {
	var t Table
	t.Add("hold attempts", r.HoldAttempts, "", "")
	t.Add("holds granted", r.HoldsGranted, "", "")
	t.Add("holds refused (409)", r.HoldRefused, "", "")
	t.Add("other answers", r.HoldOther, "", "")
	t.Add("hold latency p50", r.HoldP50MS, "%.1f", "ms")
	t.Add("hold latency p99", r.HoldP99MS, "%.1f", "ms")
	t.Add("hold attempts per second", r.HoldsPerSec, "%.0f", "/s")
	t.Add("floor: same burst to a trivial handler p50", r.BurstFloorP50MS, "%.1f", "ms")
	t.Add("floor: same burst to a trivial handler p99", r.BurstFloorP99MS, "%.1f", "ms")
	t.Add("burst on open connections: granted", r.OpenHoldsGranted, "", "")
	t.Add("burst on open connections: other answers", r.OpenHoldOther, "", "")
	t.Add("burst on open connections p50", r.OpenHoldP50MS, "%.1f", "ms")
	t.Add("burst on open connections p99", r.OpenHoldP99MS, "%.1f", "ms")
	t.Add("burst after the key cache emptied: granted", r.ColdKeyHoldsGranted, "", "")
	t.Add("burst after the key cache emptied: other answers", r.ColdKeyHoldOther, "", "")
	t.Add("burst after the key cache emptied p50", r.ColdKeyHoldP50MS, "%.1f", "ms")
	t.Add("burst after the key cache emptied p99", r.ColdKeyHoldP99MS, "%.1f", "ms")
	t.Add("bookings confirmed", r.Bookings, "", "")
	t.Add("booked / placeholder / failed", fmt.Sprintf("%d / %d / %d", r.Booked, r.Placeholders, r.Failed), "", "")
	t.Add("EMIS artefacts per booking (min-max)", fmt.Sprintf("%d-%d", r.PerBookingMin, r.PerBookingMax), "", "")
	t.Add("lost bookings", r.LostBookings, "", "")
	t.Add("faults injected", r.FaultsInjected, "", "")
	t.Add("time to drain", r.DrainS, "%.1f", "s")
	t.Add("confirmation to EMIS p50", r.WrittenP50S, "%.2f", "s")
	t.Add("confirmation to EMIS p99", r.WrittenP99S, "%.2f", "s")
	t.Add("EMIS calls per booking", r.EMISCallsPerBooking, "%.2f", "")
	t.Add("slot search", r.SearchRPS, "%.0f", "req/s")
	t.Add("slot search p50", r.SearchP50MS, "%.1f", "ms")
	t.Add("slot search p99", r.SearchP99MS, "%.1f", "ms")
	t.Add("slots per search answer", r.SlotsPerSearchRequest, "", "")
	t.Add("ceiling: trivial handler", r.CeilingRPS, "%.0f", "req/s")
	t.Add("ceiling p99", r.CeilingP99MS, "%.1f", "ms")
	return t
}

// RunBooking starts the EMIS sandbox and herolink in this process on the demo practice,
// then measures holds, confirmations under faults, and slot search over the partner API.
func RunBooking(ctx context.Context, o BookingOptions) (BookingResult, error) {
	o.defaults()
	var res BookingResult
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	d, err := startDemoApp(ctx, demoAppOptions{DatabaseURL: o.DatabaseURL, DBPrefix: "herolink_bench_booking", DiaryWeeks: 6,
		Conns: o.HoldAttempts, Progress: progress, Configure: func(cfg *app.Config) {
			cfg.EMISCallTimeout, cfg.WritebackWorkers, cfg.BookingSweepInterval = o.CallTimeout, o.WritebackWorkers, 2*time.Second
		}})
	if err != nil {
		return res, err
	}
	defer d.close()
	a, world, c := d.app, d.world, d.client
	free, err := d.freeSlots(ctx, 3*o.HoldSlots+o.Bookings, 6)
	if err != nil {
		return res, err
	}
	h := o.HoldSlots // each burst has slots of its own, the confirmations the rest
	firstSlots, openSlots, coldKeySlots, confirmSlots := free[:h], free[h:2*h], free[2*h:3*h], free[3*h:]

	progress("phase 1: %d concurrent reservations on %d slots, on new connections, then on open ones, then with the API key cache emptied", o.HoldAttempts, o.HoldSlots)
	floor, err := burstFloor(ctx, o.HoldAttempts)
	if err != nil {
		return res, err
	}
	res.BurstFloorP50MS, res.BurstFloorP99MS = ms(floor.p50), ms(floor.p99)
	b := runHolds(ctx, c, firstSlots, o.HoldAttempts)
	res.HoldAttempts, res.HoldsGranted, res.HoldRefused, res.HoldOther = o.HoldAttempts, b.granted, b.refused, b.other
	res.HoldP50MS, res.HoldP99MS, res.HoldsPerSec = ms(b.p50), ms(b.p99), b.perSecond
	if o.HoldProfile != nil {
		if err := pprof.StartCPUProfile(o.HoldProfile); err != nil {
			return res, err
		}
	}
	open := runHolds(ctx, c, openSlots, o.HoldAttempts)
	if o.HoldProfile != nil {
		pprof.StopCPUProfile()
	}
	res.OpenHoldsGranted, res.OpenHoldOther, res.OpenHoldP50MS, res.OpenHoldP99MS = open.granted, open.other, ms(open.p50), ms(open.p99)
	if err := keyUnusedForAMinute(ctx, a.Keys, c.key); err != nil {
		return res, err
	}
	a.Keys.ForgetAll()
	cold := runHolds(ctx, c, coldKeySlots, o.HoldAttempts)
	res.ColdKeyHoldsGranted, res.ColdKeyHoldOther, res.ColdKeyHoldP50MS, res.ColdKeyHoldP99MS = cold.granted, cold.other, ms(cold.p50), ms(cold.p99)

	progress("phase 2: %d confirmations with %.0f%% errors and %.0f%% timeouts", o.Bookings, o.ErrorRate*100, o.TimeoutRate*100)
	if err := runConfirmations(ctx, a, world, c, confirmSlots, o, &res, progress); err != nil {
		return res, err
	}

	progress("phase 3: slot search with %d clients for %s, then the trivial-handler ceiling", o.SearchClients, o.SearchDuration)
	if err := runSearch(ctx, c, o, &res); err != nil {
		return res, err
	}
	return res, nil
}

// burst is what one burst of concurrent requests got.
type burst struct {
	granted, refused, other int
	p50, p99                time.Duration
	perSecond               float64
}

// runHolds sends attempts reservations at once, spread over the slots.
func runHolds(ctx context.Context, c *apiClient, slots []string, attempts int) burst {
	return sendBurst(attempts, func(i int) int { return postHold(ctx, c, slots[i%len(slots)]) })
}

// postHold asks c for a hold on the slot and returns the answer's status, -1 for none.
func postHold(ctx context.Context, c *apiClient, slot string) int {
	status, _, err := c.do(ctx, http.MethodPost, "/v1/appointments", map[string]any{"slot_id": slot}, nil)
	if err != nil {
		return -1
	}
	return status
}

// burstFloor sends the same burst, each request on a new connection, to a handler that does
// nothing: the part of the burst's latency that is this machine opening connections.
func burstFloor(ctx context.Context, attempts int) (burst, error) {
	base, stop, err := serveTrivial(http.StatusCreated, `{"id":"apt_0"}`)
	if err != nil {
		return burst{}, err
	}
	defer stop()
	trivial := newAPIClient(base, "key", "group", attempts)
	defer trivial.hc.CloseIdleConnections()
	return sendBurst(attempts, func(int) int { return postHold(ctx, trivial, "slt_0") }), nil
}

// sendBurst runs send(0..n-1) at once and counts the answers: 201 granted, 409 refused.
func sendBurst(n int, send func(int) int) burst {
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			codes[i] = send(i)
			lat[i] = time.Since(t0)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	var b burst
	for _, s := range codes {
		switch s {
		case http.StatusCreated:
			b.granted++
		case http.StatusConflict:
			b.refused++
		default:
			b.other++
		}
	}
	b.p50, b.p99 = sortedPercentile(lat, 0.50), sortedPercentile(lat, 0.99)
	b.perSecond = float64(n) / elapsed.Seconds()
	return b
}

func runConfirmations(ctx context.Context, a *app.App, world *sandbox.World, c *apiClient, slots []string, o BookingOptions,
	res *BookingResult, progress func(string, ...any)) error {
	org, err := world.Org(sandbox.DemoCDB)
	if err != nil {
		return err
	}
	patients := org.SearchPatients("", 1000)
	if len(patients) == 0 {
		return errors.New("bench: the demo register is empty")
	}
	// Reserve every slot first: holds do not touch EMIS.
	ids := make([]string, len(slots))
	if err := parallel(ctx, 32, len(slots), func(i int) error {
		status, body, err := c.do(ctx, http.MethodPost, "/v1/appointments", map[string]any{"slot_id": slots[i]}, nil)
		if err != nil || status != http.StatusCreated {
			return fmt.Errorf("bench: reserve %s: %d %v %s", slots[i], status, err, body)
		}
		ids[i] = str(body, "id")
		return nil
	}); err != nil {
		return err
	}
	stall := float64(o.CallTimeout.Milliseconds()) * 1.25
	if err := world.SetFaults(sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: o.ErrorRate, TimeoutRate: o.TimeoutRate / 2,
		TimeoutAfterWriteRate: o.TimeoutRate / 2, StallMS: stall}}); err != nil {
		return err
	}
	world.ResetStats()
	t0 := time.Now()
	if err := parallel(ctx, 32, len(ids), func(i int) error {
		p := patients[i%len(patients)]
		patient := map[string]any{"family_name": p.FamilyName, "given_name": firstWord(p.FirstNames), "date_of_birth": p.DateOfBirth}
		if p.NHSNumber != "" {
			patient["nhs_number"] = p.NHSNumber
		}
		if i%10 == 9 { // one in ten is nobody EMIS knows: a placeholder
			patient = map[string]any{"family_name": fmt.Sprintf("Visitor%04d", i), "given_name": "Sam", "date_of_birth": "1990-06-15"}
		}
		status, body, err := c.do(ctx, http.MethodPost, "/v1/appointments/"+ids[i]+"/book", map[string]any{"patient": patient}, nil)
		if err != nil || status != http.StatusAccepted {
			return fmt.Errorf("bench: confirm %s: %d %v %s", ids[i], status, err, body)
		}
		return nil
	}); err != nil {
		return err
	}
	res.Bookings = len(ids)
	demo, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(o.DrainTimeout)
	for {
		waiting, err := a.Store.AppointmentsWhere(ctx, demo.ID, string(booking.StateConfirming))
		if err != nil {
			return err
		}
		if len(waiting) == 0 {
			break
		}
		if time.Now().After(deadline) {
			progress("gave up with %d bookings still confirming", len(waiting))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	res.DrainS = time.Since(t0).Seconds()
	stats, _ := world.Stats(sandbox.DemoCDB)
	global, _ := world.Stats(0) // faults are counted for the whole world
	for _, n := range global.Faults {
		res.FaultsInjected += n
	}
	res.EMISWriteCalls = stats.Calls[emis.MethodBookAppointment] + stats.Calls[emis.MethodSetSlotType]
	if err := world.SetFaults(sandbox.Faults{}); err != nil {
		return err
	}
	// Count what EMIS holds for each booking, by the reference in its notes.
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
	res.PerBookingMin, res.PerBookingMax = 1<<30, 0
	calls := 0
	var toEMIS []time.Duration
	for _, id := range ids {
		row, err := a.Store.Appointment(ctx, a.Store.DBQ(), id)
		if err != nil {
			return err
		}
		calls += row.EMISCalls
		if !row.WrittenAt.IsZero() && !row.ConfirmedAt.IsZero() {
			toEMIS = append(toEMIS, row.WrittenAt.Sub(row.ConfirmedAt))
		}
		n := perRef[row.Reference]
		res.PerBookingMin, res.PerBookingMax = min(res.PerBookingMin, n), max(res.PerBookingMax, n)
		switch booking.State(row.State) {
		case booking.StateBooked:
			res.Booked++
		case booking.StatePlaceholder:
			res.Placeholders++
		case booking.StateFailed:
			res.Failed++
		}
		if n == 0 && row.State != string(booking.StateFailed) {
			res.LostBookings++
		}
	}
	res.EMISCallsPerBooking = float64(calls) / float64(len(ids))
	res.WrittenP50S, res.WrittenP99S = sortedPercentile(toEMIS, 0.5).Seconds(), sortedPercentile(toEMIS, 0.99).Seconds()
	return nil
}

func runSearch(ctx context.Context, c *apiClient, o BookingOptions, res *BookingResult) error {
	today := time.Now().In(emis.London).Format(time.DateOnly)
	end := time.Now().In(emis.London).AddDate(0, 0, 13).Format(time.DateOnly)
	path := "/v1/slots?start_date=" + today + "&end_date=" + end
	status, body, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("bench: search: %d %v %s", status, err, body)
	}
	res.SlotsPerSearchRequest = count(body)
	if o.SearchProfile != nil {
		if err := pprof.StartCPUProfile(o.SearchProfile); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	search := RunPhase(ctx, o.SearchClients, o.SearchDuration, func(ctx context.Context, _ int) error {
		return c.expect(ctx, path, http.StatusOK)
	})
	if o.SearchProfile != nil {
		pprof.StopCPUProfile()
	}
	res.SearchRPS, res.SearchP50MS, res.SearchP99MS, res.SearchErrors = search.PerSecond(), ms(search.P50), ms(search.P99), search.Errors

	// The ceiling: the same clients against a handler that does nothing, on this machine.
	ceiling, _, err := trivialCeiling(ctx, o.SearchClients, o.SearchDuration)
	if err != nil {
		return err
	}
	res.CeilingRPS, res.CeilingP99MS = ceiling.PerSecond(), ms(ceiling.P99)
	return nil
}

// parallel runs fn(0..n-1) on k goroutines and returns the first error.
func parallel(ctx context.Context, k, n int, fn func(int) error) error {
	var wg sync.WaitGroup
	next := make(chan int)
	errc := make(chan error, k)
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// sortedPercentile is Percentile of durations not sorted yet.
func sortedPercentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return Percentile(s, p)
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

// keyUnusedForAMinute dates the partner key's last recorded use two minutes back, so that its
// next use is recorded again.
func keyUnusedForAMinute(ctx context.Context, keys *apikey.Service, secret string) error {
	k, err := keys.Authenticate(ctx, secret)
	if err != nil {
		return err
	}
	return keys.Store.TouchAPIKey(ctx, k.ID, time.Now().Add(-2*time.Minute))
}
