// Package bench measures herolink and its EMIS sandbox: the figures behind `herolink bench ...`
// and docs/benchmarks.md. Benchmarks report numbers; they never pass or fail on them.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// SessionsRangeDays is the span of each GetAppointmentSessions call: today and the 13 days after.
const SessionsRangeDays = 14

// SandboxOptions configure the sandbox benchmark.
type SandboxOptions struct {
	Exe         string        // the herolink binary to run `emis-sandbox` from
	Env         []string      // the child's environment; nil: this process's
	Stderr      io.Writer     // the child's stderr; nil: discarded
	Practices   int           // generated practices (>= 1)
	Seed        uint64        // seed of the generated practices
	Duration    time.Duration // of each load phase
	Concurrency int           // workers, each logged on to its own practice
}

// SandboxResult holds the figures of `herolink bench sandbox`; the JSON names are the --json keys.
type SandboxResult struct {
	Practices     int     `json:"practices"`
	StartS        float64 `json:"start_s"`
	RSSStartBytes int64   `json:"rss_start_bytes"`
	RSSAfterBytes int64   `json:"rss_after_bytes"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes"`

	SessionsCallsPerS float64 `json:"sessions_calls_per_s"`
	SessionsP50Ms     float64 `json:"sessions_p50_ms"`
	SessionsP99Ms     float64 `json:"sessions_p99_ms"`
	SlotsCallsPerS    float64 `json:"slots_calls_per_s"`
	SlotsP50Ms        float64 `json:"slots_p50_ms"`
	SlotsP99Ms        float64 `json:"slots_p99_ms"`

	SessionsAnswerBytes int64   `json:"sessions_answer_bytes"`
	SlotsAnswerBytes    int64   `json:"slots_answer_bytes"`
	SessionsPerAnswer   float64 `json:"sessions_per_answer"`

	// CPU time per successful call, of the sandbox process and of the benchmark process (the
	// client: HTTP, XML decoding, and the load loop itself).
	SessionsServerCPUMsPerCall float64 `json:"sessions_server_cpu_ms_per_call"`
	SessionsClientCPUMsPerCall float64 `json:"sessions_client_cpu_ms_per_call"`
	SlotsServerCPUMsPerCall    float64 `json:"slots_server_cpu_ms_per_call"`
	SlotsClientCPUMsPerCall    float64 `json:"slots_client_cpu_ms_per_call"`

	// CPU the rest of the machine used during the load phases, in cores (0 to nproc): anything
	// well above 0 means other work competed with the benchmark and its figures are low.
	OtherCPUCores float64 `json:"other_cpu_cores"`

	Errors      int     `json:"errors"`
	Concurrency int     `json:"concurrency"`
	DurationS   float64 `json:"duration_s"`
}

// RunSandbox starts `herolink emis-sandbox` as a child process with opts.Practices generated
// practices, times its start, reads its memory, drives the Partner API from opts.Concurrency
// logged-on connections for two phases of opts.Duration, reads its memory again and stops it.
func RunSandbox(ctx context.Context, opts SandboxOptions) (SandboxResult, error) {
	if opts.Practices < 1 {
		return SandboxResult{}, errors.New("practices must be at least 1")
	}
	if opts.Concurrency < 1 {
		return SandboxResult{}, errors.New("concurrency must be at least 1")
	}
	if opts.Duration <= 0 {
		return SandboxResult{}, errors.New("duration must be positive")
	}
	child, err := StartChild(ctx, ChildOptions{Exe: opts.Exe, Env: opts.Env, Stderr: opts.Stderr,
		Args: []string{"emis-sandbox", "--addr", "127.0.0.1:0",
			"--practices", strconv.Itoa(opts.Practices), "--seed", strconv.FormatUint(opts.Seed, 10)}})
	if err != nil {
		return SandboxResult{}, err
	}
	defer child.Stop()

	res := SandboxResult{Practices: opts.Practices, StartS: round(child.Started.Seconds(), 3),
		Concurrency: opts.Concurrency, DurationS: opts.Duration.Seconds()}
	mem, err := ReadMemStatus(child.PID())
	if err != nil {
		return res, fmt.Errorf("sandbox memory after start: %w", err)
	}
	res.RSSStartBytes = mem.RSS

	load, err := MeasureLoad(ctx, child.BaseURL, LoadOptions{Practices: opts.Practices,
		Concurrency: opts.Concurrency, Duration: opts.Duration,
		ServerCPU: func() (time.Duration, error) { return ReadCPUTime(child.PID()) }})
	if err != nil {
		return res, err
	}
	mem, err = ReadMemStatus(child.PID())
	if err != nil {
		return res, fmt.Errorf("sandbox memory after load: %w", err)
	}
	res.RSSAfterBytes, res.PeakRSSBytes = mem.RSS, mem.Peak
	if err := child.Stop(); err != nil {
		return res, err
	}

	res.SessionsCallsPerS = round(load.Sessions.PerSecond(), 1)
	res.SessionsP50Ms, res.SessionsP99Ms = ms(load.Sessions.P50), ms(load.Sessions.P99)
	res.SlotsCallsPerS = round(load.Slots.PerSecond(), 1)
	res.SlotsP50Ms, res.SlotsP99Ms = ms(load.Slots.P50), ms(load.Slots.P99)
	res.SessionsAnswerBytes, res.SlotsAnswerBytes = load.SessionsAnswerBytes, load.SlotsAnswerBytes
	res.SessionsPerAnswer = round(load.SessionsPerAnswer, 1)
	res.SessionsServerCPUMsPerCall = perCall(load.SessionsServerCPU, load.Sessions.Calls)
	res.SessionsClientCPUMsPerCall = perCall(load.SessionsClientCPU, load.Sessions.Calls)
	res.SlotsServerCPUMsPerCall = perCall(load.SlotsServerCPU, load.Slots.Calls)
	res.SlotsClientCPUMsPerCall = perCall(load.SlotsClientCPU, load.Slots.Calls)
	if el := load.Sessions.Elapsed + load.Slots.Elapsed; el > 0 {
		res.OtherCPUCores = round(float64(load.OtherCPU)/float64(el), 2)
	}
	res.Errors = load.Errors()
	return res, nil
}

// Table is the result as `herolink bench sandbox` prints it.
func (r SandboxResult) Table() Table {
	const mib = 1 << 20
	var t Table
	t.Add("practices", r.Practices, "", "")
	t.Add("sandbox start (exec to ready)", r.StartS, "%.3f", "s")
	t.Add("sandbox RSS after start", float64(r.RSSStartBytes)/mib, "%.1f", "MiB")
	t.Add("sandbox RSS after load", float64(r.RSSAfterBytes)/mib, "%.1f", "MiB")
	t.Add("sandbox peak RSS (VmHWM)", float64(r.PeakRSSBytes)/mib, "%.1f", "MiB")
	t.Add("GetAppointmentSessions (14 days)", r.SessionsCallsPerS, "%.1f", "calls/s")
	t.Add("  latency p50", r.SessionsP50Ms, "%.2f", "ms")
	t.Add("  latency p99", r.SessionsP99Ms, "%.2f", "ms")
	t.Add("  answer size", r.SessionsAnswerBytes, "", "bytes")
	t.Add("  sessions per answer", r.SessionsPerAnswer, "%.1f", "")
	t.Add("  sandbox CPU per call", r.SessionsServerCPUMsPerCall, "%.2f", "ms")
	t.Add("  client CPU per call", r.SessionsClientCPUMsPerCall, "%.2f", "ms")
	t.Add("GetSlotsForSession", r.SlotsCallsPerS, "%.1f", "calls/s")
	t.Add("  latency p50", r.SlotsP50Ms, "%.2f", "ms")
	t.Add("  latency p99", r.SlotsP99Ms, "%.2f", "ms")
	t.Add("  answer size", r.SlotsAnswerBytes, "", "bytes")
	t.Add("  sandbox CPU per call", r.SlotsServerCPUMsPerCall, "%.2f", "ms")
	t.Add("  client CPU per call", r.SlotsClientCPUMsPerCall, "%.2f", "ms")
	t.Add("other processes' CPU during load", r.OtherCPUCores, "%.2f", "cores")
	t.Add("errors", r.Errors, "", "")
	t.Add("concurrency", r.Concurrency, "", "connections")
	t.Add("duration per load phase", r.DurationS, "%g", "s")
	return t
}

// LoadOptions configure MeasureLoad.
type LoadOptions struct {
	Practices   int                           // generated practices the sandbox holds
	Concurrency int                           // workers, each with its own connection
	Duration    time.Duration                 // of each phase
	ServerCPU   func() (time.Duration, error) // the sandbox's CPU time so far; nil: not measured
	Today       func() emis.Date              // first day of the session range; nil: today in London
}

// LoadResult is what MeasureLoad measured.
type LoadResult struct {
	ConnectErrors       int
	Sessions, Slots     PhaseResult
	SessionsAnswerBytes int64   // mean body size of a GetAppointmentSessions answer
	SlotsAnswerBytes    int64   // mean body size of a GetSlotsForSession answer
	SessionsPerAnswer   float64 // mean sessions in a GetAppointmentSessions answer

	SessionsServerCPU, SessionsClientCPU time.Duration
	SlotsServerCPU, SlotsClientCPU       time.Duration
	OtherCPU                             time.Duration // machine CPU besides sandbox and client, both phases
}

// Errors counts every failure: connections that did not log on and failed calls.
func (l LoadResult) Errors() int { return l.ConnectErrors + l.Sessions.Errors + l.Slots.Errors }

// MeasureLoad logs on to opts.Concurrency generated practices spread over the sandbox at base,
// then runs two phases of opts.Duration: GetAppointmentSessions for a 14-day range, then
// GetSlotsForSession for the sessions the first phase returned. Failed calls are counted; it
// fails only when no connection logs on or a phase has no successful call.
func MeasureLoad(ctx context.Context, base string, opts LoadOptions) (LoadResult, error) {
	var res LoadResult
	// herolink's own transport, so the load reads answers as herolink does. Every worker keeps
	// an idle connection, or most calls would open a new TCP connection and measure that instead.
	transport := emis.NewTransport(opts.Concurrency)
	defer transport.CloseIdleConnections()
	counter := newAnswerCounter(transport, emis.MethodGetAppointmentSessions, emis.MethodGetSlotsForSession)
	caller, err := emis.NewCaller(emis.Config{BaseURL: base, SupplierID: sandbox.DefaultSupplierID,
		HTTPClient: &http.Client{Transport: counter}})
	if err != nil {
		return res, err
	}

	var conns []*emis.Conn
	var firstConnErr error
	for w := range opts.Concurrency {
		i := 1 + w*opts.Practices/opts.Concurrency
		conn, err := caller.Connect(ctx, emis.Credentials{CDB: sandbox.GeneratedCDB(i), Username: "Herouser",
			APIPassword: sandbox.GeneratedAPIPassword(i)})
		if err != nil {
			res.ConnectErrors++
			if firstConnErr == nil {
				firstConnErr = fmt.Errorf("log on to generated practice %d: %w", i, err)
			}
			continue
		}
		conns = append(conns, conn)
	}
	if len(conns) == 0 {
		return res, fmt.Errorf("no connection logged on: %w", firstConnErr)
	}
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		for _, c := range conns {
			_ = c.Logout(lctx)
		}
	}()

	today := emis.Today(time.Now())
	if opts.Today != nil {
		today = opts.Today()
	}
	from, to := today, today.AddDays(SessionsRangeDays-1)
	ids := make([][]int64, len(conns)) // worker w writes only ids[w]
	var sessionsSeen atomic.Int64
	cpu := newCPUMeter(opts.ServerCPU)
	res.Sessions = RunPhase(ctx, len(conns), opts.Duration, func(ctx context.Context, w int) error {
		ss, err := conns[w].GetAppointmentSessions(ctx, from, to, 0)
		if err != nil {
			return err
		}
		sessionsSeen.Add(int64(len(ss)))
		if ids[w] == nil {
			ids[w] = make([]int64, 0, len(ss))
			for _, s := range ss {
				ids[w] = append(ids[w], s.DBID)
			}
		}
		return nil
	})
	res.SessionsServerCPU, res.SessionsClientCPU, res.OtherCPU = cpu.since()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.Sessions.Calls == 0 {
		return res, fmt.Errorf("no GetAppointmentSessions call succeeded: %w", res.Sessions.failure())
	}
	res.SessionsPerAnswer = float64(sessionsSeen.Load()) / float64(res.Sessions.Calls)

	// Only connections whose practice has sessions in the range take part in the second phase.
	type worker struct {
		conn *emis.Conn
		ids  []int64
		next int
	}
	var workers []*worker
	for w, c := range conns {
		if len(ids[w]) > 0 {
			workers = append(workers, &worker{conn: c, ids: ids[w]})
		}
	}
	if len(workers) == 0 {
		return res, errors.New("no practice returned any session to fetch slots for")
	}
	cpu = newCPUMeter(opts.ServerCPU)
	res.Slots = RunPhase(ctx, len(workers), opts.Duration, func(ctx context.Context, w int) error {
		wk := workers[w]
		id := wk.ids[wk.next%len(wk.ids)]
		wk.next++
		_, err := wk.conn.GetSlotsForSession(ctx, id)
		return err
	})
	var other time.Duration
	res.SlotsServerCPU, res.SlotsClientCPU, other = cpu.since()
	res.OtherCPU += other
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.Slots.Calls == 0 {
		return res, fmt.Errorf("no GetSlotsForSession call succeeded: %w", res.Slots.failure())
	}
	res.SessionsAnswerBytes = counter.mean(emis.MethodGetAppointmentSessions)
	res.SlotsAnswerBytes = counter.mean(emis.MethodGetSlotsForSession)
	return res, nil
}

// cpuMeter measures the CPU time the sandbox, this process and the rest of the machine use over
// an interval. A reading that fails counts as zero: CPU figures are a diagnosis aid, not the
// benchmark's point.
type cpuMeter struct {
	server                     func() (time.Duration, error)
	server0, client0, machine0 time.Duration
}

func newCPUMeter(server func() (time.Duration, error)) *cpuMeter {
	m := &cpuMeter{server: server}
	m.server0, m.client0, m.machine0 = m.read()
	return m
}

func (m *cpuMeter) read() (server, client, machine time.Duration) {
	if m.server != nil {
		server, _ = m.server()
	}
	client, _ = ReadCPUTime(os.Getpid())
	machine, _ = ReadMachineBusy()
	return server, client, machine
}

// since returns the CPU used since the meter was made; other is the machine's minus the two.
// Without a server reading (an in-process sandbox), other is reported as zero.
func (m *cpuMeter) since() (server, client, other time.Duration) {
	s, c, mc := m.read()
	server, client = max(s-m.server0, 0), max(c-m.client0, 0)
	if m.server != nil && mc > 0 {
		other = max(mc-m.machine0-server-client, 0)
	}
	return server, client, other
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func perCall(d time.Duration, calls int) float64 {
	if calls == 0 {
		return 0
	}
	return round(float64(d)/float64(time.Millisecond)/float64(calls), 3)
}

func round(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(x*p) / p
}
