package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// chaosProc is one child process the chaos bench kills and restarts on the same address, so
// that callers keep one URL for it: a `herolink serve` instance or the EMIS sandbox.
type chaosProc struct {
	name  string
	addr  string // host:port, fixed across restarts
	start func(ctx context.Context) (*Child, error)

	mu       sync.Mutex
	child    *Child // nil while down
	restarts []time.Duration
}

// freeAddr picks a free loopback port. Another process could take it before the child binds
// it; the child then fails to start and the bench says so.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func newServeProc(name, exe string, args []string, env []string, stderr io.Writer) (*chaosProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &chaosProc{name: name, addr: addr}
	full := append([]string{"serve", "--addr", addr}, args...)
	p.start = func(ctx context.Context) (*Child, error) {
		return StartChild(ctx, ChildOptions{Exe: exe, Args: full, Env: env, Stderr: stderr, Ready: serveReady, ReadyTimeout: time.Minute})
	}
	return p, nil
}

func newSandboxProc(exe, statePath string, stderr io.Writer) (*chaosProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &chaosProc{name: "EMIS sandbox", addr: addr}
	args := []string{"emis-sandbox", "--addr", addr, "--state", statePath, "--preconfigured", "--diary-weeks", "6"}
	p.start = func(ctx context.Context) (*Child, error) {
		return StartChild(ctx, ChildOptions{Exe: exe, Args: args, Stderr: stderr, ReadyTimeout: time.Minute})
	}
	return p, nil
}

func (p *chaosProc) url() string { return "http://" + p.addr }

// up starts the process (again) and waits for its ready line.
func (p *chaosProc) up(ctx context.Context) error {
	c, err := p.start(ctx)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.mu.Lock()
	p.child = c
	p.restarts = append(p.restarts, c.Started)
	p.mu.Unlock()
	return nil
}

// alive reports whether the process is running (as far as the bench knows: it is the only one
// that kills it).
func (p *chaosProc) alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.child != nil
}

// kill SIGKILLs the process: no shutdown code runs.
func (p *chaosProc) kill() error { return p.end((*Child).Kill) }

// stop ends the process with SIGTERM.
func (p *chaosProc) stop() error { return p.end((*Child).Stop) }

// end detaches the running child, if any, and ends it with how.
func (p *chaosProc) end(how func(*Child) error) error {
	p.mu.Lock()
	c := p.child
	p.child = nil
	p.mu.Unlock()
	if c == nil {
		return nil
	}
	return how(c)
}
