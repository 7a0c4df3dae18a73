package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"herolink/internal/emis/sandbox"
)

// demoSandbox is what a newcomer can set of the demo's own EMIS sandbox: the knobs that matter
// for trying things (a Partner API session that ends sooner, EMIS misbehaving), without
// running the sandbox on its own.
type demoSandbox struct {
	idle   time.Duration
	faults string // JSON as PUT /sandbox/v1/faults takes it, or @file
}

func (d *demoSandbox) register(fs interface {
	DurationVar(*time.Duration, string, time.Duration, string)
	StringVar(*string, string, string, string)
}) {
	fs.DurationVar(&d.idle, "session-idle-timeout", 20*time.Minute, "the demo sandbox ends Partner API sessions after this long unused")
	fs.StringVar(&d.faults, "sandbox-faults", "", `faults for the demo sandbox once the demo is seeded, as JSON (or @file) in the shape PUT /sandbox/v1/faults takes, e.g. '{"global":{"error_rate":0.05}}'`)
}

// parse checks the settings before anything starts, so a mistake is a message rather than a
// demo that runs without the fault the newcomer asked for.
func (d *demoSandbox) parse() (*sandbox.Faults, error) {
	if d.idle <= 0 {
		return nil, fmt.Errorf("--session-idle-timeout must be more than 0, got %s", d.idle)
	}
	if d.faults == "" {
		return nil, nil
	}
	raw := []byte(d.faults)
	if name, ok := strings.CutPrefix(d.faults, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--sandbox-faults: %w", err)
		}
		raw = b
	}
	var f sandbox.Faults
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("--sandbox-faults is not the JSON PUT /sandbox/v1/faults takes: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("--sandbox-faults has more than one JSON value")
	}
	// Checked now: the demo's sandbox gets them only after seeding, which they could break.
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("--sandbox-faults: %w", err)
	}
	return &f, nil
}
