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
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errCheckFailed) {
			os.Exit(1)
		}
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "herolink:", err)
		}
		os.Exit(2)
	}
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
		return runBench(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
