package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// fakeHerolink makes the test binary act as `herolink emis-sandbox` (and `herolink bench
// reception`) when run as a child, so that RunSandbox and RunSync can be tested end to end
// without building the real binary.
const fakeHerolink = "HEROLINK_BENCH_TEST_SANDBOX"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeHerolink) {
	case "serve":
		os.Exit(serveFakeSandbox(os.Args[1:]))
	case "fail":
		fmt.Println("starting")
		fmt.Fprintln(os.Stderr, "listen on 127.0.0.1:0: no network today")
		os.Exit(2)
	}
	// The tests themselves: no goroutine they start may outlive them.
	goleak.VerifyTestMain(m)
}

func serveFakeSandbox(args []string) int {
	if len(args) == 2 && args[0] == "bench" && args[1] == "reception" {
		// bench sync's reception child: the real code, as `herolink bench reception` runs it.
		if err := RunReception(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	if len(args) == 0 || args[0] != "emis-sandbox" {
		fmt.Fprintln(os.Stderr, "fake sandbox: want emis-sandbox, got", args)
		return 2
	}
	fs := flag.NewFlagSet("emis-sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	practices := fs.Int("practices", 0, "")
	seed := fs.Uint64("seed", 0, "")
	weeks := fs.Int("diary-weeks", 0, "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	started := time.Now()
	w := sandbox.New(sandbox.Options{Seed: *seed, Practices: *practices, DiaryWeeks: *weeks})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	srv := &http.Server{Handler: sandbox.NewServer(w, nil)}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("EMIS sandbox ready in %s at http://%s\n  more banner\n", time.Since(started), ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

func testExe(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the sandbox benchmark reads /proc, which is Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestRunSandboxMeasuresAChildProcessAndStopsIt(t *testing.T) {
	exe := testExe(t)
	res, err := RunSandbox(t.Context(), SandboxOptions{Exe: exe, Env: append(os.Environ(), fakeHerolink+"=serve"),
		Stderr: os.Stderr, Practices: 5, Seed: 3, Duration: 300 * time.Millisecond, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.StartS <= 0 || res.RSSStartBytes <= 0 || res.RSSAfterBytes <= 0 || res.PeakRSSBytes < res.RSSAfterBytes {
		t.Errorf("start or memory figures missing: %+v", res)
	}
	if res.SessionsCallsPerS <= 0 || res.SlotsCallsPerS <= 0 || res.SessionsP99Ms < res.SessionsP50Ms {
		t.Errorf("load figures missing: %+v", res)
	}
	if res.Errors != 0 {
		t.Errorf("%d errors against a healthy sandbox", res.Errors)
	}
	data, _ := json.Marshal(res)
	var keys map[string]any
	_ = json.Unmarshal(data, &keys)
	for _, k := range []string{"practices", "start_s", "rss_start_bytes", "rss_after_bytes", "peak_rss_bytes",
		"sessions_calls_per_s", "sessions_p50_ms", "sessions_p99_ms", "slots_calls_per_s", "slots_p50_ms",
		"slots_p99_ms", "sessions_answer_bytes", "errors", "concurrency", "duration_s"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
}

func TestStartChildReportsOutputOfASandboxThatExitsBeforeReady(t *testing.T) {
	exe := testExe(t)
	_, err := StartChild(t.Context(), ChildOptions{Exe: exe, Env: append(os.Environ(), fakeHerolink+"=fail"),
		Args: []string{"emis-sandbox"}})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("got %v, want an error that quotes the child's output", err)
	}
}

func TestStopEndsTheChildAndMayBeCalledTwice(t *testing.T) {
	exe := testExe(t)
	c, err := StartChild(t.Context(), ChildOptions{Exe: exe, Env: append(os.Environ(), fakeHerolink+"=serve"),
		Args: []string{"emis-sandbox", "--addr", "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.BaseURL, "http://127.0.0.1:") {
		t.Errorf("base URL %q", c.BaseURL)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(c.PID(), 0); err == nil {
		t.Fatalf("process %d still exists after Stop", c.PID())
	}
}

func TestReadyWatcherFindsTheReadyLineSplitAcrossWrites(t *testing.T) {
	w := &readyWatcher{ready: make(chan string, 1)}
	for _, part := range []string{"EMIS sandbox re", "ady in 1.2s at http://127.0.0.1:4", "1663\n  organisations: 7001\n"} {
		if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	select {
	case got := <-w.ready:
		if got != "http://127.0.0.1:41663" {
			t.Fatalf("got %q", got)
		}
	default:
		t.Fatal("ready line not found")
	}
}

func inProcessSandbox(tb testing.TB, practices int) string {
	tb.Helper()
	srv := httptest.NewServer(sandbox.NewServer(sandbox.New(sandbox.Options{Seed: 1, Practices: practices}), nil))
	tb.Cleanup(srv.Close)
	return srv.URL
}

func TestMeasureLoadCountsCallsAndAnswerSizesWithoutErrors(t *testing.T) {
	base := inProcessSandbox(t, 4)
	res, err := MeasureLoad(t.Context(), base, LoadOptions{Practices: 4, Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions.Calls == 0 || res.Slots.Calls == 0 || res.Errors() != 0 {
		t.Fatalf("sessions %+v slots %+v connect errors %d", res.Sessions, res.Slots, res.ConnectErrors)
	}
	if res.SessionsAnswerBytes < 10_000 || res.SlotsAnswerBytes < 1_000 || res.SessionsPerAnswer < 10 {
		t.Errorf("implausible answers: %d bytes of sessions (%.1f sessions), %d bytes of slots",
			res.SessionsAnswerBytes, res.SessionsPerAnswer, res.SlotsAnswerBytes)
	}
}

func TestMeasureLoadFailsWhenNoConnectionLogsOn(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := MeasureLoad(t.Context(), srv.URL, LoadOptions{Practices: 2, Concurrency: 2, Duration: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no connection logged on") {
		t.Fatalf("got %v, want no connection logged on", err)
	}
}

func TestRunPhaseStopsByItselfAfterTheDuration(t *testing.T) {
	start := time.Now()
	res := RunPhase(context.Background(), 3, 100*time.Millisecond, func(ctx context.Context, w int) error {
		time.Sleep(time.Millisecond)
		if w == 2 {
			return fmt.Errorf("worker %d fails", w)
		}
		return nil
	})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("phase ran %s", el)
	}
	if res.Calls == 0 || res.Errors == 0 || res.FirstErr == nil {
		t.Fatalf("got %+v", res)
	}
}

func connectInProcess(b *testing.B) *emis.Conn {
	base := inProcessSandbox(b, 1)
	c, err := emis.NewCaller(emis.Config{BaseURL: base, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := c.Connect(b.Context(), emis.Credentials{CDB: sandbox.GeneratedCDB(1), Username: "Herouser",
		APIPassword: sandbox.GeneratedAPIPassword(1)})
	if err != nil {
		b.Fatal(err)
	}
	return conn
}

// BenchmarkGetAppointmentSessionsInProcess is one client calling one in-process sandbox over
// loopback HTTP for a 14-day range: sandbox generation and encoding plus client decoding.
func BenchmarkGetAppointmentSessionsInProcess(b *testing.B) {
	conn := connectInProcess(b)
	from := emis.Today(time.Now())
	to := from.AddDays(SessionsRangeDays - 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.GetAppointmentSessions(b.Context(), from, to, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetSlotsForSessionInProcess fetches the slots of one session in a loop.
func BenchmarkGetSlotsForSessionInProcess(b *testing.B) {
	conn := connectInProcess(b)
	from := emis.Today(time.Now())
	ss, err := conn.GetAppointmentSessions(b.Context(), from, from.AddDays(SessionsRangeDays-1), 0)
	if err != nil || len(ss) == 0 {
		b.Fatalf("no sessions: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.GetSlotsForSession(b.Context(), ss[0].DBID); err != nil {
			b.Fatal(err)
		}
	}
}
