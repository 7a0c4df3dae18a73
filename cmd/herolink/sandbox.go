package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"herolink/internal/emis/sandbox"
)

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("emis-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "address to listen on")
	state := fs.String("state", "", "file that keeps the sandbox's changes across restarts (none: nothing is kept)")
	seed := fs.Uint64("seed", 1, "seed of the generated practices")
	practices := fs.Int("practices", 0, "number of generated practices besides the demo practice")
	preconfigured := fs.Bool("preconfigured", false, "perform the setup guide's steps for the demo practice")
	supplierID := fs.String("supplier-id", sandbox.DefaultSupplierID, "supplier id of the Hero Health partner product")
	idle := fs.Duration("session-idle-timeout", 20*time.Minute, "Partner API sessions end after this long unused")
	weeks := fs.Int("diary-weeks", 4, "weeks of diary released ahead of today")
	verbose := fs.Bool("v", false, "log every request")
	cpuprofile := fs.String("cpuprofile", "", "write the sandbox's CPU profile to this file until it stops (for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *practices < 0 || *practices > 99999 {
		return fmt.Errorf("--practices must be between 0 and 99999")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	started := time.Now()
	world := sandbox.New(sandbox.Options{Seed: *seed, Practices: *practices, Preconfigured: *preconfigured,
		SupplierID: *supplierID, SessionIdleTimeout: *idle, DiaryWeeks: *weeks})
	if *state != "" {
		if err := world.LoadState(*state); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := sandbox.HTTPServer(sandbox.NewServer(world, log))
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "EMIS sandbox ready in %s at %s\n", time.Since(started).Round(time.Millisecond), base)
	fmt.Fprintf(stdout, "  organisations: %d (demo practice %s %s, CDB %d)\n", len(world.Orgs()), sandbox.DemoODS, sandbox.DemoName, sandbox.DemoCDB)
	fmt.Fprintf(stdout, "  EMIS Web pages: %s/\n  Partner API:    %s/partnerapi/v1/{Method}\n  Admin API:      %s/sandbox/v1/\n", base, base, base)
	fmt.Fprintf(stdout, "  Hero Health supplier id: %s\n", world.SupplierID())
	if *preconfigured {
		fmt.Fprintf(stdout, "  demo practice set up for Hero Health: username Herouser, API password %s\n", sandbox.DemoAPIPassword)
	}

	var wg sync.WaitGroup
	saverCtx, stopSaver := context.WithCancel(context.Background())
	if *state != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			world.RunSaver(saverCtx, *state, time.Second, log)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = srv.Shutdown(shutdownCtx)
		cancel()
	}
	stopSaver()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
