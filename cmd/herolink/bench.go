package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"herolink/internal/bench"
)

const benchUsage = `Usage:
  herolink bench sandbox [flags]  start the EMIS sandbox as a child process and measure its start
                                  time, memory and Partner API calls per second on loopback
  herolink bench sync [flags]     run herolink's slot sync against the sandbox with injected
                                  latency and a stream of reception changes; measure staleness,
                                  EMIS calls, CPU and memory at several numbers of practices
  herolink bench booking [flags]  concurrent holds on few slots, confirmations written into a
                                  faulty EMIS (exactly once?), and slot search over the partner
                                  API next to a trivial handler's ceiling
  herolink bench holds [flags]    an open loop of holds at a fixed rate, each on a slot of its
                                  own, whatever the answers: latency and every answer a 201?
  herolink bench restart [flags]  run serve as a child process, confirm bookings, SIGKILL serve
                                  while they are being written and start it again: how long the
                                  bookings in flight take to reach EMIS, and none lost or doubled
  herolink bench chaos [flags]    the sandbox and N serve instances on one database as child
                                  processes; partner traffic while instances (and the sandbox
                                  once) are SIGKILLed: nothing lost, doubled or stuck

Run "herolink bench NAME -h" for a benchmark's flags.
`

// runBench dispatches on the benchmark's name. Benchmarks print figures; they never fail on them.
func runBench(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return errors.New("bench: no benchmark named")
	}
	switch args[0] {
	case "sandbox":
		return runBenchSandbox(ctx, args[1:], stdout, stderr)
	case "sync":
		return runBenchSync(ctx, args[1:], stdout, stderr)
	case "booking":
		return runBenchBooking(ctx, args[1:], stdout, stderr)
	case "holds":
		return runBenchHolds(ctx, args[1:], stdout, stderr)
	case "restart":
		return runBenchRestart(ctx, args[1:], stdout, stderr)
	case "chaos":
		return runBenchChaos(ctx, args[1:], stdout, stderr)
	case "reception":
		// Not for people: bench sync runs it as a child and speaks to it over stdin and stdout.
		return bench.RunReception(ctx, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	fmt.Fprint(stderr, benchUsage)
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

func runBenchSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	practices := fs.Int("practices", 7000, "generated practices in the sandbox")
	duration := fs.Duration("duration", 10*time.Second, "length of each load phase")
	concurrency := fs.Int("concurrency", 16, "concurrent connections, each logged on to its own practice")
	seed := fs.Uint64("seed", 1, "seed of the generated practices")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench sandbox: unexpected argument %q", fs.Arg(0))
	}
	if *practices < 1 || *practices > 99999 {
		return errors.New("bench sandbox: --practices must be between 1 and 99999")
	}
	if *concurrency < 1 {
		return errors.New("bench sandbox: --concurrency must be at least 1")
	}
	if *duration <= 0 {
		return errors.New("bench sandbox: --duration must be positive")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench sandbox: find this binary to run the sandbox from: %w", err)
	}
	res, err := bench.RunSandbox(ctx, bench.SandboxOptions{Exe: exe, Stderr: stderr, Practices: *practices,
		Seed: *seed, Duration: *duration, Concurrency: *concurrency})
	if err != nil {
		return fmt.Errorf("bench sandbox: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	return res.Table().Format(stdout)
}

// sizedPath is a profile flag's file for the run of n practices: the file itself, or FILE.N
// when there are several sizes.
func sizedPath(path string, n int, several bool) string {
	if several {
		return fmt.Sprintf("%s.%d", path, n)
	}
	return path
}

func runBenchSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("practices", "100,1000,7000", "comma-separated numbers of generated practices, one run each")
	duration := fs.Duration("duration", 2*time.Minute, "length of the measured change stream, after the warm-up")
	warmup := fs.Duration("warmup-timeout", 20*time.Minute, "bound on the first sync of every practice")
	drain := fs.Duration("drain", 90*time.Second, "after the change stream, how long to wait for changes not yet seen")
	p50 := fs.Duration("latency-p50", 150*time.Millisecond, "median latency injected into every Partner API call")
	p99 := fs.Duration("latency-p99", 600*time.Millisecond, "99th percentile of the injected latency")
	errRate := fs.Float64("error-rate", 0, "share of Partner API calls answering 503 (the sandbox's global faults, warm-up included)")
	timeoutRate := fs.Float64("timeout-rate", 0, "share of Partner API calls that stall until herolink gives up")
	syncConc := fs.Int("sync-concurrency", 256, "sync passes in flight")
	slotConc := fs.Int("slot-concurrency", 8, "GetSlotsForSession calls in flight per pass")
	full := fs.Duration("full-interval", 45*time.Second, "full-horizon pass interval per practice")
	near := fs.Duration("near-interval", 0, "near-term pass interval per practice (0: half the full interval, as herolink)")
	horizon := fs.Int("horizon-days", 14, "days synced")
	every := fs.Duration("change-every", time.Minute, "each practice changes a slot this often on average")
	seed := fs.Uint64("seed", 1, "seed of the generated practices and of the change stream")
	refreshes := fs.String("refreshes", bench.RefreshesSteady, "how rolling refreshes fall due in the measurement: steady (after the first sync, date each session's last slot read at random over its refresh age and restart the scheduler: about the steady rate), backdated (--refresh-backdate: an upper bound on near-term refreshes, none later), none (a lower bound); see docs/benchmarks.md")
	backdate := fs.Duration("refresh-backdate", 15*time.Minute, "with --refreshes backdated, date the warm-up's writes a random time up to this long ago")
	cpuprofile := fs.String("cpuprofile", "", "write herolink's CPU profile during the change stream to this file (FILE.N for each size N when there are several)")
	warmupProfile := fs.String("warmup-cpuprofile", "", "write herolink's CPU profile during the first sync to this file (FILE.N for each size N when there are several)")
	warmupAlloc := fs.String("warmup-allocprofile", "", "write herolink's allocation profile (bytes allocated since its start, set-up included) when the first sync ends to this file (FILE.N for each size N when there are several)")
	sandboxProfile := fs.String("sandbox-cpuprofile", "", "write the sandbox's CPU profile, from its start to its stop, to this file (FILE.N for each size N when there are several)")
	asJSON := fs.Bool("json", false, "print one JSON object per size instead of tables")
	dbURL := fs.String("database-url", os.Getenv("HEROLINK_DATABASE_URL"), "empty: SQLite in a temporary data directory; postgres://...: a server on which each run makes (and drops) a fresh database (HEROLINK_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench sync: unexpected argument %q", fs.Arg(0))
	}
	list, err := bench.ParseSizes(*sizes)
	if err != nil {
		return fmt.Errorf("bench sync: --practices: %w", err)
	}
	refreshesErr := bench.CheckRefreshes(*refreshes)
	switch {
	case *duration <= 0:
		return errors.New("bench sync: --duration must be positive")
	case *syncConc < 1 || *slotConc < 1:
		return errors.New("bench sync: --sync-concurrency and --slot-concurrency must be at least 1")
	case *full <= 0 || *near < 0 || *every <= 0 || *warmup <= 0 || *drain < 0 || *backdate < 0:
		return errors.New("bench sync: intervals and timeouts must be positive")
	case *horizon < 1 || *horizon > 56:
		return errors.New("bench sync: --horizon-days must be between 1 and 56")
	case refreshesErr != nil:
		return fmt.Errorf("bench sync: --%w", refreshesErr)
	case *p50 < 0 || *p99 < *p50:
		return errors.New("bench sync: --latency-p99 must be at least --latency-p50")
	case !(*errRate >= 0 && *timeoutRate >= 0 && *errRate+*timeoutRate <= 1):
		return errors.New("bench sync: --error-rate and --timeout-rate must be shares between 0 and 1 adding up to at most 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench sync: find this binary to run the sandbox from: %w", err)
	}
	for i, n := range list {
		opts := bench.SyncOptions{Exe: exe, Stderr: stderr, Progress: stderr, Practices: n, Seed: *seed, DatabaseURL: *dbURL,
			LatencyP50: *p50, LatencyP99: *p99, ErrorRate: *errRate, TimeoutRate: *timeoutRate, SyncConcurrency: *syncConc, SlotConcurrency: *slotConc,
			FullInterval: *full, NearInterval: *near, HorizonDays: *horizon, WarmupTimeout: *warmup,
			Duration: *duration, Drain: *drain, ChangeEvery: *every, Refreshes: *refreshes, RefreshBackdate: *backdate}
		several := len(list) > 1
		if *sandboxProfile != "" {
			opts.SandboxCPUProfile = sizedPath(*sandboxProfile, n, several)
		}
		var files []*os.File // the profiles herolink writes for this size
		for _, prof := range []struct {
			path string
			to   *io.Writer
		}{{*warmupProfile, &opts.WarmupCPUProfile}, {*warmupAlloc, &opts.WarmupAllocProfile}, {*cpuprofile, &opts.CPUProfile}} {
			if prof.path == "" {
				continue
			}
			f, err := os.Create(sizedPath(prof.path, n, several))
			if err != nil {
				for _, f := range files {
					f.Close()
				}
				return fmt.Errorf("bench sync: %w", err)
			}
			files = append(files, f)
			*prof.to = f
		}
		res, err := bench.RunSync(ctx, opts)
		for _, f := range files {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		// A size that got past its set-up prints what it measured, even when it then failed
		// (a warm-up that timed out is a figure too).
		if res.Practices > 0 && (err == nil || errors.Is(err, bench.ErrWarmupTimeout)) {
			if *asJSON {
				if perr := json.NewEncoder(stdout).Encode(res); perr != nil {
					return perr
				}
			} else {
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				if perr := res.Table().Format(stdout); perr != nil {
					return perr
				}
			}
		}
		if err != nil {
			return fmt.Errorf("bench sync: %d practices: %w", n, err)
		}
	}
	return nil
}

func runBenchBooking(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench booking", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	dbURL := fs.String("database-url", os.Getenv("HEROLINK_DATABASE_URL"), "empty: SQLite in a temporary data directory; postgres://...: a server on which the run makes (and drops) a fresh database (HEROLINK_DATABASE_URL)")
	holds := fs.Int("hold-attempts", 1000, "concurrent reservation attempts")
	holdSlots := fs.Int("hold-slots", 100, "free slots the attempts compete for")
	bookings := fs.Int("bookings", 1000, "confirmations written into EMIS under faults")
	errRate := fs.Float64("error-rate", 0.10, "share of EMIS calls answering 503")
	timeoutRate := fs.Float64("timeout-rate", 0.05, "share of EMIS calls timing out, half of them after a write applied")
	callTimeout := fs.Duration("call-timeout", 2*time.Second, "herolink's timeout per EMIS call; an injected stall lasts 25% longer")
	workers := fs.Int("writeback-workers", 64, "write-back jobs in flight")
	clients := fs.Int("search-clients", 64, "concurrent slot-search clients")
	searchFor := fs.Duration("search-duration", 10*time.Second, "length of the search measurement and of the ceiling's")
	searchProfile := fs.String("search-cpuprofile", "", "write herolink's CPU profile during the slot search to this file (the client's work is in it too: they share the process)")
	holdProfile := fs.String("hold-cpuprofile", "", "write herolink's CPU profile during the burst of holds on open connections to this file (the clients' work is in it too)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench booking: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *holds < 1 || *holdSlots < 1 || *holdSlots > *holds:
		return errors.New("bench booking: --hold-slots must be between 1 and --hold-attempts")
	case *bookings < 1 || *bookings > 2000:
		return errors.New("bench booking: --bookings must be between 1 and 2000 (the demo diary's free slots)")
	case *errRate < 0 || *timeoutRate < 0 || *errRate+*timeoutRate > 1:
		return errors.New("bench booking: --error-rate and --timeout-rate must be shares between 0 and 1 adding up to at most 1")
	case *clients < 1 || *searchFor <= 0 || *callTimeout <= 0 || *workers < 1:
		return errors.New("bench booking: --search-clients, --search-duration, --call-timeout and --writeback-workers must be positive")
	}
	prof, closeProf, err := openProfile(*searchProfile)
	if err != nil {
		return fmt.Errorf("bench booking: %w", err)
	}
	defer closeProf()
	holdProf, closeHoldProf, err := openProfile(*holdProfile)
	if err != nil {
		return fmt.Errorf("bench booking: %w", err)
	}
	defer closeHoldProf()
	res, err := bench.RunBooking(ctx, bench.BookingOptions{Progress: stderr, SearchProfile: prof, HoldProfile: holdProf, DatabaseURL: *dbURL, HoldAttempts: *holds, HoldSlots: *holdSlots,
		Bookings: *bookings, ErrorRate: *errRate, TimeoutRate: *timeoutRate, CallTimeout: *callTimeout, WritebackWorkers: *workers,
		SearchClients: *clients, SearchDuration: *searchFor})
	if err != nil {
		return fmt.Errorf("bench booking: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.Table().Format(stdout)
}

func runBenchHolds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench holds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	dbURL := fs.String("database-url", os.Getenv("HEROLINK_DATABASE_URL"), "empty: SQLite in a temporary data directory; postgres://...: a server on which the run makes (and drops) a fresh database (HEROLINK_DATABASE_URL)")
	rate := fs.Float64("rate", 200, "holds sent per second, whatever the answers")
	duration := fs.Duration("duration", 60*time.Second, "how long holds are sent for")
	cpuprofile := fs.String("cpuprofile", "", "write herolink's CPU profile while the holds are sent to this file")
	practices := fs.Int("practices", 0, "practices whose diaries hold the slots, the demo practice and generated ones (0: enough for rate x duration distinct slots)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench holds: unexpected argument %q", fs.Arg(0))
	}
	if *rate <= 0 || *rate > 5000 || *duration <= 0 || *duration > 30*time.Minute {
		return errors.New("bench holds: --rate must be between 0 and 5000 per second and --duration between 0 and 30m")
	}
	if *practices < 0 || *practices > 100 {
		return errors.New("bench holds: --practices must be between 0 and 100")
	}
	prof, closeProf, err := openProfile(*cpuprofile)
	if err != nil {
		return fmt.Errorf("bench holds: %w", err)
	}
	defer closeProf()
	res, err := bench.RunHolds(ctx, bench.HoldsOptions{Progress: stderr, DatabaseURL: *dbURL, Rate: *rate, Duration: *duration,
		Practices: *practices, CPUProfile: prof})
	if err != nil {
		return fmt.Errorf("bench holds: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.Table().Format(stdout)
}

func runBenchRestart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench restart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kills := fs.Int("kills", 6, "SIGKILLs of serve, each followed at once by a restart")
	rate := fs.Float64("rate", 4, "steady confirmations per second, through kills and restarts")
	burst := fs.Int("burst", 40, "confirmations sent at once just before each kill")
	loadFor := fs.Duration("load-for", 5*time.Second, "steady load before each burst")
	p50 := fs.Duration("latency-p50", 150*time.Millisecond, "median latency injected into every EMIS call")
	p99 := fs.Duration("latency-p99", 600*time.Millisecond, "99th percentile of the injected latency")
	wait := fs.Duration("resume-wait", 3*time.Minute, "after a restart, how long to wait for the bookings in flight")
	seed := fs.Uint64("seed", 1, "seed of the kill moments")
	verbose := fs.Bool("v", false, "pass serve's log (warnings and errors) through to stderr")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench restart: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *kills < 1 || *kills > 20:
		return errors.New("bench restart: --kills must be between 1 and 20")
	case *rate <= 0 || *burst < 0 || *loadFor <= 0 || *wait <= 0:
		return errors.New("bench restart: --rate, --load-for and --resume-wait must be positive, --burst not negative")
	case *p50 < 0 || *p99 < *p50:
		return errors.New("bench restart: --latency-p99 must be at least --latency-p50")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench restart: find this binary to run serve from: %w", err)
	}
	opts := bench.RestartOptions{Exe: exe, Progress: stderr, Kills: *kills, Rate: *rate, Burst: *burst, LoadFor: *loadFor,
		LatencyP50: *p50, LatencyP99: *p99, ResumeWait: *wait, Seed: *seed}
	if *burst == 0 {
		opts.Burst = -1 // none
	}
	if *verbose {
		opts.Stderr = stderr
	}
	res, err := bench.RunRestart(ctx, opts)
	if err != nil {
		return fmt.Errorf("bench restart: %w", err)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.Table().Format(stdout)
}

// openProfile creates the file a --*cpuprofile flag names, with what closes it; for "" a nil
// writer (as the options want for none) and nothing to close.
func openProfile(path string) (io.Writer, func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}
