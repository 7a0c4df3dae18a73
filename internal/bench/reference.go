package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// serveTrivial serves, on a loopback port, a handler that reads the request and answers status
// with body, doing nothing else: what a benchmark's figures are set against (a burst's floor,
// the search's ceiling, the machine reference). stop closes it and waits for it.
func serveTrivial(status int, body string) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		<-done
	}, nil
}

// trivialCeiling runs clients against a trivial handler for d: the most requests a second this
// machine answers over loopback HTTP, client and server in this process, and this process's
// CPU per request (0 where getrusage is not available).
func trivialCeiling(ctx context.Context, clients int, d time.Duration) (phase PhaseResult, cpuPerRequestUS float64, err error) {
	base, stop, err := serveTrivial(http.StatusOK, `{"data":[],"count":0}`)
	if err != nil {
		return phase, 0, err
	}
	defer stop()
	c := newAPIClient(base, "trivial", "trivial", clients)
	defer c.hc.CloseIdleConnections()
	cpu0, cpuErr := selfCPU()
	phase = RunPhase(ctx, clients, d, func(ctx context.Context, _ int) error {
		return c.expect(ctx, "/", http.StatusOK)
	})
	cpu1, err := selfCPU()
	if cpuErr == nil && err == nil && phase.Calls > 0 {
		cpuPerRequestUS = float64((cpu1 - cpu0).Microseconds()) / float64(phase.Calls+phase.Errors)
	}
	return phase, cpuPerRequestUS, nil
}

// MachineReference is how fast this machine is at the work that dominates the sync's CPU,
// measured the same way in every run: 64 clients sending HTTP requests over loopback to a
// handler that does nothing (trivialCeiling). The VM the benchmarks run on changes speed by a
// fifth over a morning; a run's figures are compared with another's only next to this.
type MachineReference struct {
	RequestsPerSecond float64
	CPUPerRequestUS   float64 // this process's CPU (client and server) per request, in µs
}

// measureMachineReference runs the reference for d.
func measureMachineReference(ctx context.Context, d time.Duration) (MachineReference, error) {
	phase, cpu, err := trivialCeiling(ctx, 64, d)
	if err != nil {
		return MachineReference{}, err
	}
	if phase.Calls == 0 {
		return MachineReference{}, fmt.Errorf("machine reference: no request answered: %v", phase.FirstErr)
	}
	return MachineReference{RequestsPerSecond: round(phase.PerSecond(), 0), CPUPerRequestUS: round(cpu, 1)}, nil
}
