package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"herolink/internal/bench"
)

// parseBenchChaos reads the flags of `herolink bench chaos` and checks them, before anything
// starts.
func parseBenchChaos(args []string, stderr io.Writer) (bench.ChaosOptions, bool, bool, error) {
	fs := flag.NewFlagSet("bench chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.ChaosOptions
	fs.StringVar(&o.DatabaseURL, "database-url", os.Getenv("HEROLINK_DATABASE_URL"), "empty: SQLite in a temporary data directory; postgres://...: a server on which the bench makes (and drops) a fresh database (HEROLINK_DATABASE_URL)")
	fs.IntVar(&o.Instances, "instances", 1, "herolink serve instances on the one database (SQLite allows 1)")
	fs.IntVar(&o.Kills, "kills", 20, "SIGKILLs of a random instance at random moments, each restarted")
	fs.DurationVar(&o.Duration, "duration", 5*time.Minute, "partner traffic and kills")
	fs.DurationVar(&o.Settle, "settle", 3*time.Minute, "after the traffic, bound on waiting for every booking to be final")
	fs.Float64Var(&o.Rate, "rate", 4, "partner bookings per second (some followed by a cancellation or a reschedule)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the kill moments and of the traffic")
	fs.DurationVar(&o.LatencyP50, "latency-p50", 150*time.Millisecond, "median latency injected into every EMIS call")
	fs.DurationVar(&o.LatencyP99, "latency-p99", 600*time.Millisecond, "99th percentile of the injected latency")
	fs.Float64Var(&o.ErrorRate, "error-rate", 0.03, "share of EMIS calls answering 503")
	fs.Float64Var(&o.TimeoutRate, "timeout-rate", 0.02, "share of EMIS calls stalling until herolink gives up, nothing applied")
	fs.Float64Var(&o.TimeoutAfterWriteRate, "timeout-after-write-rate", 0.02, "share of EMIS writes applied, then stalling")
	verbose := fs.Bool("v", false, "pass the children's logs (warnings and errors) through to stderr")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		return o, false, false, err
	}
	if fs.NArg() > 0 {
		return o, false, false, fmt.Errorf("bench chaos: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.Duration <= 0 || o.Settle <= 0 || o.Rate <= 0:
		return o, false, false, fmt.Errorf("bench chaos: --duration, --settle and --rate must be positive")
	case o.LatencyP50 < 0 || o.LatencyP99 < o.LatencyP50:
		return o, false, false, fmt.Errorf("bench chaos: --latency-p99 must be at least --latency-p50")
	case o.ErrorRate < 0 || o.TimeoutRate < 0 || o.TimeoutAfterWriteRate < 0 || o.ErrorRate+o.TimeoutRate+o.TimeoutAfterWriteRate > 1:
		return o, false, false, fmt.Errorf("bench chaos: the fault rates must be shares between 0 and 1 adding up to at most 1")
	}
	if err := o.Validate(); err != nil {
		return o, false, false, fmt.Errorf("bench chaos: %w", err)
	}
	return o, *verbose, *asJSON, nil
}

func runBenchChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, verbose, asJSON, err := parseBenchChaos(args, stderr)
	if err != nil {
		return err
	}
	if o.Exe, err = os.Executable(); err != nil {
		return fmt.Errorf("bench chaos: find this binary to run serve and the sandbox from: %w", err)
	}
	o.Progress = stderr
	if verbose {
		o.Stderr = stderr
	}
	res, err := bench.RunChaos(ctx, o)
	if err != nil {
		return fmt.Errorf("bench chaos: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.Table().Format(stdout)
}
