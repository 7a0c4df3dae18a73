package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// MachineReference is how fast this machine is at the work that dominates the sync's CPU,
// measured the same way in every run: HTTP requests over loopback to a handler that does
// nothing, client and server in this process. The VM the benchmarks run on changes speed by a
// fifth over a morning; a run's figures are compared with another's only next to this.
type MachineReference struct {
	RequestsPerSecond float64 // with 64 clients
	CPUPerRequestUS   float64 // this process's CPU (client and server) per request, in µs
}

// measureMachineReference runs the reference for d.
func measureMachineReference(ctx context.Context, d time.Duration) (MachineReference, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return MachineReference{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[],"count":0}`)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	defer func() {
		_ = srv.Close()
		<-done
	}()
	const clients = 64
	c := newAPIClient("http://"+ln.Addr().String(), "reference", "reference", clients)
	defer c.hc.CloseIdleConnections()
	cpu0, err := selfCPU()
	if err != nil {
		return MachineReference{}, err
	}
	phase := RunPhase(ctx, clients, d, func(ctx context.Context, _ int) error {
		return c.expect(ctx, "/", http.StatusOK)
	})
	cpu1, err := selfCPU()
	if err != nil {
		return MachineReference{}, err
	}
	if phase.Calls == 0 {
		return MachineReference{}, fmt.Errorf("machine reference: no request answered: %v", phase.FirstErr)
	}
	ref := MachineReference{RequestsPerSecond: round(phase.PerSecond(), 0)}
	if n := phase.Calls + phase.Errors; n > 0 {
		ref.CPUPerRequestUS = round(float64((cpu1-cpu0).Microseconds())/float64(n), 1)
	}
	return ref, nil
}
