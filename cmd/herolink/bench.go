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

Run "herolink bench NAME -h" for a benchmark's flags.
`

// runBench dispatches on the benchmark's name. Benchmarks print figures; they never fail on them.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return errors.New("bench: no benchmark named")
	}
	switch args[0] {
	case "sandbox":
		return runBenchSandbox(ctx, args[1:], stdout, stderr)
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
