package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herolink/internal/emis/sandbox"
)

// sandboxAdmin speaks the sandbox's administration API (JSON under /sandbox/v1/): what practice
// staff do in EMIS Web, fault injection and call counters. No latency fault applies to it.
type sandboxAdmin struct {
	base   string
	client *http.Client
}

func newSandboxAdmin(base string, concurrency int) *sandboxAdmin {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = concurrency, concurrency
	return &sandboxAdmin{base: strings.TrimRight(base, "/"), client: &http.Client{Transport: t, Timeout: 30 * time.Second}}
}

func (a *sandboxAdmin) close() { a.client.CloseIdleConnections() }

// errConflict is the sandbox's 409: EMIS refused the change (slot already booked, not bookable).
var errConflict = errors.New("sandbox: conflict")

// do sends a JSON request and decodes a 2xx answer into out (nil: ignored).
func (a *sandboxAdmin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("sandbox %s %s: read answer: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %s", errConflict, bytes.TrimSpace(data))
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("sandbox %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	case out == nil || resp.StatusCode == http.StatusNoContent:
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("sandbox %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// setFaults makes every Partner API call wait a log-normal delay with this median and 99th
// percentile, and these shares of calls answer 503 (errors) or stall until the caller gives up
// (timeouts).
func (a *sandboxAdmin) setFaults(ctx context.Context, p50, p99 time.Duration, errorRate, timeoutRate float64) error {
	f := sandbox.Faults{Global: sandbox.FaultConfig{LatencyP50MS: msFloat(p50), LatencyP99MS: msFloat(p99),
		ErrorRate: errorRate, TimeoutRate: timeoutRate}}
	return a.do(ctx, http.MethodPut, "/sandbox/v1/faults", f, nil)
}

// stats reads the Partner API call counters of the whole sandbox.
func (a *sandboxAdmin) stats(ctx context.Context) (sandbox.Stats, error) {
	var st sandbox.Stats
	err := a.do(ctx, http.MethodGet, "/sandbox/v1/stats", nil, &st)
	return st, err
}

// organisations lists the sandbox's organisations.
func (a *sandboxAdmin) organisations(ctx context.Context) ([]sandbox.OrgView, error) {
	var out []sandbox.OrgView
	err := a.do(ctx, http.MethodGet, "/sandbox/v1/organisations", nil, &out)
	return out, err
}

// freeSlots lists the Available slots of a practice starting in [from, to), as reception sees
// them in EMIS.
func (a *sandboxAdmin) freeSlots(ctx context.Context, cdb int, from, to time.Time) ([]int64, error) {
	path := "/sandbox/v1/organisations/" + strconv.Itoa(cdb) + "/free-slots?from=" +
		url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
	var ids []int64
	err := a.do(ctx, http.MethodGet, path, nil, &ids)
	return ids, err
}

// receptionBook books a slot for a patient as the practice's reception would, in EMIS Web.
// It returns an error wrapping errConflict when EMIS refuses (slot taken or not bookable).
func (a *sandboxAdmin) receptionBook(ctx context.Context, cdb int, slotID, patientID int64) error {
	path := "/sandbox/v1/organisations/" + strconv.Itoa(cdb) + "/slots/" + strconv.FormatInt(slotID, 10) + "/book"
	return a.do(ctx, http.MethodPost, path, map[string]any{"patient_id": patientID, "reason": "bench"}, nil)
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// serveSandbox serves world's Partner and admin APIs on a free loopback port in this process,
// for benchmarks that drive herolink against it; stop closes the server.
func serveSandbox(world *sandbox.World) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := sandbox.HTTPServer(sandbox.NewServer(world, nil))
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
