package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// runDemo starts herolink with an embedded database and an in-process EMIS sandbox holding
// two demo practices: Riverside (guide followed, connected) and Oakfield (untouched).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080", "data", false)
	sandboxAddr := fs.String("sandbox-addr", "127.0.0.1:8089", "address of the in-process EMIS sandbox")
	var sb demoSandbox
	sb.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	faults, err := sb.parse()
	if err != nil {
		return err
	}
	if err := checkEnv(); err != nil {
		return err
	}
	// The demo is herolink and its own in-process EMIS sandbox: an EMIS address given to it would
	// be silently replaced, so it is refused instead.
	if f.emisURL != "" || f.directoryURL != "" {
		return errors.New("the demo runs its own EMIS sandbox (choose its address with --sandbox-addr): --emis-url, --directory-url and HEROLINK_EMIS_URL / HEROLINK_DIRECTORY_URL are for herolink serve")
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}

	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, SecondDemo: true, SupplierID: f.supplierID, SessionIdleTimeout: sb.idle})
	statePath := filepath.Join(f.dataDir, "sandbox-state.json")
	if err := world.LoadState(statePath); err != nil {
		return err
	}
	sln, err := net.Listen("tcp", *sandboxAddr)
	if err != nil {
		return fmt.Errorf("listen on %s for the EMIS sandbox: %w", *sandboxAddr, err)
	}
	sandboxURL := "http://" + sln.Addr().String()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		sln.Close()
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	adminURL := "http://" + ln.Addr().String() + "/admin/"

	cfg := f.config(log.With("system", "herolink"))
	cfg.EMISURL, cfg.SandboxURL = sandboxURL, sandboxURL
	if cfg.DirectoryURL == "" {
		cfg.DirectoryURL = sandboxURL + "/sandbox/v1/directory"
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		sln.Close()
		ln.Close()
		return err
	}

	// The sandbox serves first: seeding the demo connects through it.
	var wg sync.WaitGroup
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ssrv := sandbox.HTTPServer(sandbox.NewServer(world, log.With("system", "emis-sandbox")))
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := ssrv.Serve(sln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("EMIS sandbox stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		world.RunSaver(runCtx, statePath, time.Second, log)
	}()
	defer func() {
		stop()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ssrv.Shutdown(shutdownCtx)
		cancel()
		wg.Wait()
	}()

	info, err := a.SeedDemo(ctx, adminURL, sandboxURL)
	if err != nil {
		a.Store.Close()
		ln.Close()
		return err
	}
	// Faults apply once the demo is seeded: seeding connects Riverside through the sandbox.
	faultLine := ""
	if faults != nil {
		if err := world.SetFaults(*faults); err != nil {
			a.Store.Close()
			ln.Close()
			return err
		}
		faultLine = "\n  The EMIS sandbox misbehaves as --sandbox-faults says (see or change it at " + sandboxURL + "/sandbox/v1/faults)."
	}
	fmt.Fprintf(stdout, `herolink demo is running.

  Admin: %s
    herolink support (every practice, no patients): sign in as %s / %s
    Riverside's own staff (its patients, placeholders to reconcile): sign in as %s / %s
  EMIS sandbox ("EMIS Web"):        %s/
  Partner API (/v1/, described at /openapi.json): x-practice-group-id %s, x-api-key %s

  Riverside Medical Practice (A81001) followed the setup guide and is connected.
  %s

  These details are also in %s. Press Ctrl+C to stop.%s
`, info.AdminURL, info.StaffUsername, info.StaffPassword, info.PracticeUsername, info.PracticePassword, info.SandboxURL, info.PracticeGroupID, info.APIKey,
		oakfieldLine(ctx, a.Store), app.DemoInfoPath(f.dataDir), faultLine)
	return a.Run(runCtx, ln)
}

// oakfieldLine tells the truth about the second demo practice, which the newcomer connects
// themselves: after a restart it may be connected already.
func oakfieldLine(ctx context.Context, st *store.Store) string {
	name := sandbox.SecondDemoName + " (" + sandbox.SecondDemoODS + ")"
	p, err := st.PracticeByODS(ctx, sandbox.SecondDemoODS)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return name + " is not connected yet: follow the setup guide in the EMIS sandbox pages,\n" +
			"  then connect it on the admin connection form with ODS code " + sandbox.SecondDemoODS + "."
	case err != nil:
		return name + ": whether it is connected could not be read (" + err.Error() + ")."
	}
	return fmt.Sprintf("%s was connected earlier (connection health: %s).", name, p.HealthStatus)
}
