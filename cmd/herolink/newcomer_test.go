package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store/storetest"
)

func TestAskingACommandForItsFlagsExitsZero(t *testing.T) {
	for _, cmd := range []string{"demo", "serve", "emis-sandbox", "migrate", "check"} {
		err := run(context.Background(), []string{cmd, "-h"}, strings.NewReader(""), io.Discard, io.Discard)
		if got := exitCode(err); got != 0 {
			t.Errorf("herolink %s -h exits %d (%v), want 0", cmd, got, err)
		}
	}
	if got := exitCode(errors.New("listen: address in use")); got != 2 {
		t.Errorf("a failure exits %d, want 2", got)
	}
}

func TestTheDemoRefusesAnEMISAddressItWouldIgnore(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"--emis-url", "http://127.0.0.1:9"}, {"--directory-url", "http://127.0.0.1:9/dir"}} {
		// Bounded: a demo that started instead of refusing returns nil when the time is up.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, append([]string{"demo", "--data-dir", dir, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}, args...),
			strings.NewReader(""), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "--sandbox-addr") || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("demo %v: %v, want a refusal naming %s and --sandbox-addr", args, err, args[0])
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the refused demo left %d files in its data directory", len(entries))
	}
}

func TestTheDemoBannerTellsTheTruthAboutOakfield(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	if got := oakfieldLine(ctx, st); !strings.Contains(got, "not connected yet") || !strings.Contains(got, "setup guide") {
		t.Errorf("before it is connected: %q", got)
	}
	if _, err := st.DBQ().ExecContext(ctx, `INSERT INTO practice_groups (id, name, created_at) VALUES ('grp', 'Group', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DBQ().ExecContext(ctx, `INSERT INTO practices (ods_code, cdb, name, practice_group_id, health_status, created_at)
		VALUES (?, ?, ?, 'grp', 'connected', 0)`, sandbox.SecondDemoODS, sandbox.SecondDemoCDB, sandbox.SecondDemoName); err != nil {
		t.Fatal(err)
	}
	if got := oakfieldLine(ctx, st); !strings.Contains(got, "was connected earlier") || !strings.Contains(got, "connected)") || strings.Contains(got, "not connected") {
		t.Errorf("after a restart with Oakfield connected: %q", got)
	}
}

func TestTheDemoRefusesSandboxSettingsItCannotApply(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]string{
		"not JSON":        {"--sandbox-faults", "error_rate=0.5"},
		"a rate above 1":  {"--sandbox-faults", `{"global":{"error_rate":2}}`},
		"a field unknown": {"--sandbox-faults", `{"global":{"eror_rate":0.5}}`},
		"no such file":    {"--sandbox-faults", "@" + filepath.Join(dir, "missing.json")},
		"no idle time":    {"--session-idle-timeout", "0s"},
	}
	for name, args := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, append([]string{"demo", "--data-dir", dir, "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0"}, args...),
			strings.NewReader(""), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%s: %v, want a refusal naming %s", name, err, args[0])
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused demo left %d files in its data directory", len(entries))
	}
}

func TestTheDemoSandboxTakesTheNewcomersFaultsAndSessionIdleTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	oakfield := strconv.Itoa(sandbox.SecondDemoCDB)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--sandbox-addr", "127.0.0.1:0",
			"--session-idle-timeout", "1s", "--sandbox-faults", `{"organisations":{"` + oakfield + `":{"error_rate":1}}}`},
			strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	// The banner names the sandbox; keep draining the pipe so the demo never blocks on it.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), `EMIS sandbox ("EMIS Web"):`); ok {
				found <- strings.TrimSuffix(strings.TrimSpace(u), "/")
			}
		}
	}()
	var base string
	select {
	case base = <-found:
	case <-ctx.Done():
		t.Fatal("the demo never printed its banner")
	}

	res, err := http.Get(base + "/sandbox/v1/faults")
	if err != nil {
		t.Fatal(err)
	}
	var faults sandbox.Faults
	err = json.NewDecoder(res.Body).Decode(&faults)
	res.Body.Close()
	if err != nil || faults.Organisations[oakfield].ErrorRate != 1 {
		t.Errorf("the sandbox's faults after the demo started: %+v (%v), want Oakfield failing every call", faults, err)
	}

	caller, err := emis.NewCaller(emis.Config{BaseURL: base, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	login, err := caller.InitializeWithID(ctx, sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := caller.Logon(ctx, login.LoginID, "Herouser", sandbox.DemoAPIPassword)
	if err != nil {
		t.Fatal(err)
	}
	// The idle timeout is wall-clock time in the demo's sandbox: nothing to signal but its passing.
	time.Sleep(1500 * time.Millisecond)
	if _, err := caller.Call(ctx, emis.MethodGetCurrentUser, url.Values{"sessionId": {sid}}, nil); !errors.Is(err, emis.ErrNotLoggedOn) {
		t.Errorf("a session idle for 1.5 s with --session-idle-timeout 1s: %v, want not logged on", err)
	}
}
