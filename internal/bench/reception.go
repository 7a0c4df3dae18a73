package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The reception is the sync benchmark's change stream run as a child process (`herolink bench
// reception`), so that what it spends, a hundred reception bookings a second at 7,000 practices
// and each a few calls to the sandbox, is not counted as herolink's CPU. Its protocol, a line
// at a time:
//
//	parent → child: the receptionConfig as JSON; later "go"; at the end, stdin closed
//	child → parent: "ready"; per booking, before it is made, "expect PRACTICE SLOT NEAR UNIXNANO";
//	                per booking refused or failed, "forget PRACTICE SLOT"; at the end,
//	                "done COUNTS-JSON"
//
// The child waits for its stdin to close before exiting, so that the parent can read its CPU
// time after the stream.

// receptionConfig is what the reception child is told.
type receptionConfig struct {
	AdminURL  string        `json:"admin_url"`
	Practices []int64       `json:"practices"`
	CDB       map[int64]int `json:"cdb"`
	Rate      float64       `json:"rate"` // changes per second, all practices together
	Duration  time.Duration `json:"duration"`
	Horizon   time.Duration `json:"horizon"`
	Lead      time.Duration `json:"lead"`
	Workers   int           `json:"workers"`
	PatientID int64         `json:"patient_id"`
	Seed      uint64        `json:"seed"`
}

// RunReception is the child's side: it reads its configuration from in, says it is ready, makes
// changes for the configured duration (less if ctx ends) once told to go, reports them on out,
// and returns when in is closed.
func RunReception(ctx context.Context, in io.Reader, out io.Writer) error {
	lines := bufio.NewReader(in)
	line, err := lines.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reception: read configuration: %w", err)
	}
	var cfg receptionConfig
	if err := json.Unmarshal(line, &cfg); err != nil {
		return fmt.Errorf("reception: configuration: %w", err)
	}
	switch {
	case cfg.AdminURL == "":
		return errors.New("reception: the configuration names no sandbox")
	case len(cfg.Practices) == 0:
		return errors.New("reception: the configuration names no practice")
	case cfg.Duration <= 0:
		return errors.New("reception: the configuration gives no duration")
	}
	admin := newSandboxAdmin(cfg.AdminURL, max(cfg.Workers, 1))
	defer admin.close()
	w := bufio.NewWriter(out)
	log := &pipeLog{w: w, pending: map[slotKey]bool{}}
	if err := log.line("ready"); err != nil {
		return err
	}
	if line, err = lines.ReadBytes('\n'); err != nil || strings.TrimSpace(string(line)) != "go" {
		return fmt.Errorf("reception: waiting for go, read %q (%v)", line, err)
	}
	stream := &changeStream{Admin: admin, Tracker: log, Practices: cfg.Practices, CDB: cfg.CDB, Rate: cfg.Rate,
		Horizon: cfg.Horizon, Lead: cfg.Lead, Workers: cfg.Workers, PatientID: cfg.PatientID, Rand: randSource(cfg.Seed)}
	cpu0, cpuErr := selfCPU()
	stream.run(ctx, cfg.Duration)
	counts := stream.counts()
	if cpu1, err := selfCPU(); err == nil && cpuErr == nil {
		counts.CPU = cpu1 - cpu0
	}
	done, _ := json.Marshal(counts)
	if err := log.line("done " + string(done)); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, lines) // until the parent closes this process's input (stop)
	return nil
}

// pipeLog is the reception child's changeLog: each registration is a line to the parent,
// written out before the booking is made. It keeps the slots it registered, so that two
// workers never book the same one.
type pipeLog struct {
	mu      sync.Mutex
	w       *bufio.Writer
	err     error // the first failed write: the parent is gone
	pending map[slotKey]bool
}

func (l *pipeLog) line(s string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.write(s)
}

// write writes one line and flushes it. The caller holds l.mu.
func (l *pipeLog) write(s string) error {
	if l.err != nil {
		return l.err
	}
	_, _ = l.w.WriteString(s)
	_ = l.w.WriteByte('\n')
	if err := l.w.Flush(); err != nil {
		l.err = fmt.Errorf("reception: write to the benchmark: %w", err)
	}
	return l.err
}

func (l *pipeLog) expect(k slotKey, t0 time.Time, near bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[k] {
		return false
	}
	n := 0
	if near {
		n = 1
	}
	// Not registered with the parent: not booked either, so that no change goes unmeasured.
	if l.write(fmt.Sprintf("expect %d %d %d %d", k.practiceID, k.slotID, n, t0.UnixNano())) != nil {
		return false
	}
	l.pending[k] = true
	return true
}

func (l *pipeLog) forget(k slotKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, k)
	_ = l.write(fmt.Sprintf("forget %d %d", k.practiceID, k.slotID))
}

func (l *pipeLog) isPending(k slotKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending[k]
}

// receptionLine is one line from the reception child, parsed.
type receptionLine struct {
	kind   string // "ready", "expect", "forget" or "done"
	key    slotKey
	near   bool
	at     time.Time
	counts streamCounts
}

// parseReceptionLine reads one line of the reception's protocol.
func parseReceptionLine(s string) (receptionLine, error) {
	kind, rest, _ := strings.Cut(s, " ")
	l := receptionLine{kind: kind}
	bad := func(err error) (receptionLine, error) {
		return receptionLine{}, fmt.Errorf("reception: unreadable line %q: %w", s, err)
	}
	switch kind {
	case "ready":
		if rest != "" {
			return bad(errors.New("ready takes nothing"))
		}
	case "expect", "forget":
		f := strings.Fields(rest)
		want := 2
		if kind == "expect" {
			want = 4
		}
		if len(f) != want {
			return bad(fmt.Errorf("%s takes %d numbers, got %d", kind, want, len(f)))
		}
		n := make([]int64, len(f))
		for i, x := range f {
			v, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return bad(err)
			}
			n[i] = v
		}
		l.key = slotKey{n[0], n[1]}
		if kind == "expect" {
			if n[2] != 0 && n[2] != 1 {
				return bad(errors.New("near is 0 or 1"))
			}
			l.near, l.at = n[2] == 1, time.Unix(0, n[3])
		}
	case "done":
		if err := json.Unmarshal([]byte(rest), &l.counts); err != nil {
			return bad(err)
		}
	default:
		return bad(errors.New("unknown kind"))
	}
	return l, nil
}

// receptionChild is a running reception process, on the parent's side.
type receptionChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
	once  sync.Once
}

// startReception runs `exe bench reception`, sends it cfg and waits until it is ready. Every
// child it returns must be stopped.
func startReception(ctx context.Context, exe string, env []string, stderr io.Writer, cfg receptionConfig) (*receptionChild, error) {
	cmd := exec.CommandContext(ctx, exe, "bench", "reception")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env, cmd.Stderr = env, stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start reception: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start reception: %w", err)
	}
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start reception: %w", err)
	}
	r := &receptionChild{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	conf, _ := json.Marshal(cfg)
	if _, err := stdin.Write(append(conf, '\n')); err != nil {
		_ = r.stop()
		return nil, fmt.Errorf("start reception: send its configuration: %w", err)
	}
	l, err := r.next()
	if err == nil && l.kind != "ready" {
		err = fmt.Errorf("it said %q before it was ready", l.kind)
	}
	if err != nil {
		_ = r.stop()
		return nil, fmt.Errorf("start reception: %w", err)
	}
	return r, nil
}

func (r *receptionChild) next() (receptionLine, error) {
	if !r.lines.Scan() {
		err := r.lines.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return receptionLine{}, fmt.Errorf("reception: %w", err)
	}
	return parseReceptionLine(r.lines.Text())
}

// run tells the child to go and feeds its registrations to t until it reports the stream done.
func (r *receptionChild) run(t *changeTracker) (streamCounts, error) {
	if _, err := io.WriteString(r.stdin, "go\n"); err != nil {
		return streamCounts{}, fmt.Errorf("reception: tell it to go: %w", err)
	}
	for {
		l, err := r.next()
		if err != nil {
			return streamCounts{}, err
		}
		switch l.kind {
		case "expect":
			t.expect(l.key, l.at, l.near)
		case "forget":
			t.forget(l.key)
		case "done":
			return l.counts, nil
		default:
			return streamCounts{}, fmt.Errorf("reception: %q in the middle of the stream", l.kind)
		}
	}
}

// stop closes the child's stdin, which ends it, and waits for it, killing it if it has not
// ended 5 seconds later. Safe to call more than once.
func (r *receptionChild) stop() error {
	var err error
	r.once.Do(func() {
		_ = r.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- r.cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			_ = r.cmd.Process.Kill()
			err = <-done
		}
		if err != nil {
			err = fmt.Errorf("reception process: %w", err)
		}
	})
	return err
}
