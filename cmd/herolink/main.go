// Command herolink connects GP practices' EMIS Web appointment books to online booking.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `herolink: online booking into EMIS Web appointment books.

Usage:
  herolink demo [flags]           start herolink with an embedded database and an EMIS sandbox, ready to use
  herolink serve [flags]          run herolink (configure with flags or HEROLINK_* variables)
  herolink check [flags]          test EMIS credentials as the connection form does, saving nothing
  herolink migrate [flags]        create or upgrade the database
  herolink staff add [flags]      create a staff user for the admin pages
  herolink vault rotate [flags]   re-seal every stored secret under a new key
  herolink emis-sandbox [flags]   run the EMIS Web sandbox (Partner API, admin API, guide pages)
  herolink bench sandbox [flags]  measure the sandbox: Partner API calls per second, start time and RSS
  herolink help                   this text

Run "herolink COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errCheckFailed) {
		fmt.Fprintln(os.Stderr, "herolink:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is 0 for success and for a help request ("-h" asked for the flags: nothing failed),
// 1 when herolink check found a problem, and 2 for any other error.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errCheckFailed):
		return 1
	}
	return 2
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], stdin, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "staff":
		return runStaff(ctx, args[1:], stdin, stdout, stderr)
	case "vault":
		return runVault(ctx, args[1:], stdout, stderr)
	case "emis-sandbox":
		return runSandbox(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
