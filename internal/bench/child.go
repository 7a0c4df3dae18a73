package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyLine is what `herolink emis-sandbox` prints once it is listening.
var readyLine = regexp.MustCompile(`^EMIS sandbox ready in \S+ at (https?://\S+)$`)

// ChildOptions say how to run a sandbox process.
type ChildOptions struct {
	Exe          string        // the herolink binary
	Args         []string      // e.g. emis-sandbox --addr 127.0.0.1:0 --practices 7000
	Env          []string      // nil: this process's environment
	Stderr       io.Writer     // the child's stderr; nil: discarded
	ReadyTimeout time.Duration // how long to wait for the ready line; 0: 5 minutes
	// Ready matches the line that says the child is ready, its first group the base URL; nil:
	// the sandbox's ready line.
	Ready *regexp.Regexp
}

// Child is a running sandbox process. Stop ends it; every Child that StartChild returns must be
// stopped.
type Child struct {
	BaseURL string        // from the ready line
	Started time.Duration // from exec to the ready line

	cmd    *exec.Cmd
	cancel context.CancelFunc
	exited chan error // receives cmd.Wait's result once
	once   sync.Once
	err    error
}

// StartChild runs the sandbox and waits for its ready line. The child is sent SIGTERM when ctx
// ends or Stop is called, and killed if it has not exited 5 seconds later.
func StartChild(ctx context.Context, opts ChildOptions) (*Child, error) {
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 5 * time.Minute
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, opts.Exe, opts.Args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = opts.Env
	watch := &readyWatcher{ready: make(chan string, 1), pattern: opts.Ready}
	cmd.Stdout = watch
	cmd.Stderr = opts.Stderr
	dieWithParent(cmd)

	begin := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	c := &Child{cmd: cmd, cancel: cancel, exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait() }() // owned by c: Stop receives its result

	timer := time.NewTimer(opts.ReadyTimeout)
	defer timer.Stop()
	select {
	case base := <-watch.ready:
		c.BaseURL, c.Started = base, watch.at.Sub(begin)
		return c, nil
	case err := <-c.exited:
		cancel()
		c.once.Do(func() {})
		return nil, fmt.Errorf("sandbox exited before it was ready (%v); its output: %q", err, watch.head())
	case <-timer.C:
		_ = c.Stop()
		return nil, fmt.Errorf("sandbox not ready after %s; its output: %q", opts.ReadyTimeout, watch.head())
	case <-ctx.Done():
		_ = c.Stop()
		return nil, ctx.Err()
	}
}

// PID is the child's process id.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Stop sends SIGTERM, waits for the process to exit (killing it after 5 seconds), and reports
// how it ended. Exiting on the signal is not an error. Safe to call more than once.
func (c *Child) Stop() error {
	c.once.Do(func() {
		c.cancel()
		err := <-c.exited
		var ee *exec.ExitError
		switch {
		case err == nil, errors.Is(err, context.Canceled):
			// exited cleanly after SIGTERM: Wait reports the cancelled context
		case errors.As(err, &ee) && diedOfSIGTERM(ee):
			// died of SIGTERM without handling it
		default:
			c.err = fmt.Errorf("sandbox process: %w", err)
		}
	})
	return c.err
}

// Kill ends the child with SIGKILL, as a crash or the kernel would: no shutdown code runs.
// It waits for the process to be gone. Stop after Kill does nothing more.
func (c *Child) Kill() error {
	var err error
	c.once.Do(func() {
		err = c.cmd.Process.Kill()
		<-c.exited
		c.cancel()
	})
	return err
}

func diedOfSIGTERM(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

// readyWatcher is the child's stdout: it finds the ready line and keeps the first lines for
// error messages. exec's copying goroutine is its only writer.
type readyWatcher struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	found   bool
	at      time.Time
	ready   chan string
	pattern *regexp.Regexp // the ready line; nil: the sandbox's
}

const keptLines = 8

func (w *readyWatcher) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		return len(p), nil // the rest of the banner is of no interest
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.partial[:i]), "\r")
		w.partial = w.partial[i+1:]
		if len(w.lines) < keptLines {
			w.lines = append(w.lines, line)
		}
		if m := cmp.Or(w.pattern, readyLine).FindStringSubmatch(line); m != nil {
			w.found, w.at = true, now
			w.partial = nil
			w.ready <- m[1]
			break
		}
	}
	return len(p), nil
}

func (w *readyWatcher) head() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(append(w.lines, string(w.partial)), "\n")
}
