package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"herolink/internal/emis"
)

// FaultConfig makes the Partner API misbehave the ways a real EMIS does.
type FaultConfig struct {
	LatencyMS             float64  `json:"latency_ms,omitempty"`               // fixed latency added to every call
	LatencyP50MS          float64  `json:"latency_p50_ms,omitempty"`           // log-normal latency with this median...
	LatencyP99MS          float64  `json:"latency_p99_ms,omitempty"`           // ...and this 99th percentile
	ErrorRate             float64  `json:"error_rate,omitempty"`               // HTTP 503, nothing applied
	TimeoutRate           float64  `json:"timeout_rate,omitempty"`             // stall, nothing applied
	TimeoutAfterWriteRate float64  `json:"timeout_after_write_rate,omitempty"` // writes: applied, then stall
	ResetRate             float64  `json:"reset_rate,omitempty"`               // connection closed, nothing applied
	StallMS               float64  `json:"stall_ms,omitempty"`                 // how long a timeout stalls; 120000 if 0
	Outages               []Outage `json:"outages,omitempty"`                  // windows when every call answers 503
	// FailSlotsOf lists appointment sessions (DBIDs) whose GetSlotsForSession always answers
	// 503: a fault aimed at exactly one read, for tests that must not depend on chance.
	FailSlotsOf []int64 `json:"fail_slots_of,omitempty"`
}

// failsSlotsOf reports whether GetSlotsForSession of this session is set to fail.
func (c FaultConfig) failsSlotsOf(session string) bool {
	for _, id := range c.FailSlotsOf {
		if strconv.FormatInt(id, 10) == session {
			return true
		}
	}
	return false
}

// Outage is a window of unavailability.
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Faults is the whole fault setting: a global config and per-organisation configs by CDB.
// A call of an organisation with its own config uses that one instead of the global one.
type Faults struct {
	Global        FaultConfig            `json:"global"`
	Organisations map[string]FaultConfig `json:"organisations,omitempty"`
}

func (c FaultConfig) validate() error {
	for name, r := range map[string]float64{"error_rate": c.ErrorRate, "timeout_rate": c.TimeoutRate,
		"timeout_after_write_rate": c.TimeoutAfterWriteRate, "reset_rate": c.ResetRate} {
		if r < 0 || r > 1 || math.IsNaN(r) {
			return invalid("%s must be between 0 and 1", name)
		}
	}
	if sum := c.ErrorRate + c.TimeoutRate + c.TimeoutAfterWriteRate + c.ResetRate; sum > 1 {
		return invalid("error, timeout, timeout-after-write and reset rates add up to %.2f; at most 1", sum)
	}
	if c.LatencyMS < 0 || c.LatencyP50MS < 0 || c.LatencyP99MS < 0 || c.StallMS < 0 {
		return invalid("latencies must not be negative")
	}
	if (c.LatencyP50MS > 0) != (c.LatencyP99MS > 0) {
		return invalid("latency_p50_ms and latency_p99_ms go together")
	}
	if c.LatencyP99MS > 0 && c.LatencyP99MS < c.LatencyP50MS {
		return invalid("latency_p99_ms must not be below latency_p50_ms")
	}
	for _, o := range c.Outages {
		if !o.End.After(o.Start) {
			return invalid("an outage must end after it starts")
		}
	}
	return nil
}

type faultTable struct {
	mu     sync.RWMutex
	faults Faults
	active atomic.Bool // fast path: no faults configured at all
}

// Validate says what is wrong with fault settings, naming the field.
func (f Faults) Validate() error {
	if err := f.Global.validate(); err != nil {
		return fmt.Errorf("global: %w", err)
	}
	for k, c := range f.Organisations {
		if _, err := strconv.Atoi(k); err != nil {
			return invalid("organisations: %q is not a CDB number", k)
		}
		if err := c.validate(); err != nil {
			return fmt.Errorf("organisation %s: %w", k, err)
		}
	}
	return nil
}

// SetFaults replaces the fault settings.
func (w *World) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	w.faults.mu.Lock()
	defer w.faults.mu.Unlock()
	w.faults.faults = f
	w.faults.active.Store(!f.Global.isZero() || len(f.Organisations) > 0)
	return nil
}

// Faults returns the current fault settings.
func (w *World) Faults() Faults {
	w.faults.mu.RLock()
	defer w.faults.mu.RUnlock()
	return w.faults.faults
}

func (c FaultConfig) isZero() bool {
	return c.LatencyMS == 0 && c.LatencyP50MS == 0 && c.ErrorRate == 0 && c.TimeoutRate == 0 &&
		c.TimeoutAfterWriteRate == 0 && c.ResetRate == 0 && len(c.Outages) == 0 && len(c.FailSlotsOf) == 0
}

func (w *World) faultFor(cdb int) (FaultConfig, bool) {
	if !w.faults.active.Load() {
		return FaultConfig{}, false
	}
	w.faults.mu.RLock()
	defer w.faults.mu.RUnlock()
	if c, ok := w.faults.faults.Organisations[strconv.Itoa(cdb)]; ok && cdb != 0 {
		return c, true
	}
	return w.faults.faults.Global, true
}

// faultKind is what happens to one call.
type faultKind int

const (
	faultNone faultKind = iota
	faultError
	faultTimeout
	faultTimeoutAfterWrite
	faultReset
	faultOutage
)

// decide draws the call's fate and its latency.
func (c FaultConfig) decide(now time.Time) (faultKind, time.Duration) {
	for _, o := range c.Outages {
		if !now.Before(o.Start) && now.Before(o.End) {
			return faultOutage, 0
		}
	}
	delay := time.Duration(c.LatencyMS * float64(time.Millisecond))
	if c.LatencyP50MS > 0 {
		// Log-normal with the given median and 99th percentile (z = 2.326).
		sigma := math.Log(c.LatencyP99MS/c.LatencyP50MS) / 2.326
		ms := c.LatencyP50MS * math.Exp(sigma*rand.NormFloat64())
		delay += time.Duration(ms * float64(time.Millisecond))
	}
	x := rand.Float64()
	switch {
	case x < c.ErrorRate:
		return faultError, delay
	case x < c.ErrorRate+c.TimeoutRate:
		return faultTimeout, delay
	case x < c.ErrorRate+c.TimeoutRate+c.TimeoutAfterWriteRate:
		return faultTimeoutAfterWrite, delay
	case x < c.ErrorRate+c.TimeoutRate+c.TimeoutAfterWriteRate+c.ResetRate:
		return faultReset, delay
	}
	return faultNone, delay
}

func (c FaultConfig) stall() time.Duration {
	if c.StallMS > 0 {
		return time.Duration(c.StallMS * float64(time.Millisecond))
	}
	return 2 * time.Minute
}

// Call statistics.

const methodCount = 15

var methodIndex = func() map[string]int {
	m := map[string]int{}
	for i, name := range emis.Methods {
		m[name] = i
	}
	if len(m) != methodCount {
		panic("sandbox: methodCount does not match emis.Methods")
	}
	return m
}()

type counter struct{ atomic.Int64 }

type callStats struct {
	calls  [methodCount]counter
	faults [6]counter
}

func (s *callStats) init() {}

// Stats is the answer of GET /sandbox/v1/stats.
type Stats struct {
	Calls  map[string]int64 `json:"calls"`
	Total  int64            `json:"total"`
	Faults map[string]int64 `json:"faults"`
}

var faultNames = [...]string{"", "error", "timeout", "timeout_after_write", "reset", "outage"}

// Stats counts Partner API calls per method since start or the last reset, for the whole
// world or (cdb != 0) one organisation.
func (w *World) Stats(cdb int) (Stats, error) {
	st := Stats{Calls: map[string]int64{}, Faults: map[string]int64{}}
	calls := &w.stats.calls
	if cdb != 0 {
		o, err := w.Org(cdb)
		if err != nil {
			return Stats{}, err
		}
		calls = &o.calls
	}
	for i, name := range emis.Methods {
		n := calls[i].Load()
		st.Calls[name] = n
		st.Total += n
	}
	if cdb == 0 {
		for k := faultError; k <= faultOutage; k++ {
			st.Faults[faultNames[k]] = w.stats.faults[k].Load()
		}
	}
	return st, nil
}

// ResetStats zeroes every counter.
func (w *World) ResetStats() {
	for i := range w.stats.calls {
		w.stats.calls[i].Store(0)
	}
	for i := range w.stats.faults {
		w.stats.faults[i].Store(0)
	}
	for _, o := range w.Orgs() {
		for i := range o.calls {
			o.calls[i].Store(0)
		}
	}
}

func (w *World) count(method string, o *Org) {
	i, ok := methodIndex[method]
	if !ok {
		return
	}
	w.stats.calls[i].Add(1)
	if o != nil {
		o.calls[i].Add(1)
	}
}
