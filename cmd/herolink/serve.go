package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"

	"herolink/internal/app"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serverFlags
	f.register(fs, "127.0.0.1:8080", "data", true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkEnv(); err != nil {
		return err
	}
	if f.emisURL == "" {
		return errors.New("--emis-url (HEROLINK_EMIS_URL) is required")
	}
	if f.directoryURL == "" {
		// The sandbox serves a directory under its own URL; a real EMIS does not, and guessing
		// would tell every practice its ODS code is unknown.
		return errors.New("--directory-url (HEROLINK_DIRECTORY_URL) is required: the ODS code to CDB directory, e.g. http://127.0.0.1:8089/sandbox/v1/directory for the sandbox")
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, f.config(log))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		a.Store.Close()
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	fmt.Fprintf(stdout, "herolink serving at http://%s/admin/\n", ln.Addr())
	return a.Run(ctx, ln)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serverFlags
	f.register(fs, "", "data", true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.emisURL == "" {
		f.emisURL = "http://127.0.0.1:0" // migrate does not talk to EMIS
	}
	a, err := app.New(ctx, f.config(nil))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database migrated")
	return a.Store.Close()
}
