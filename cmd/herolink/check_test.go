package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
)

func sandboxServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(sandbox.NewServer(sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true}), nil))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckCommandPassesForAPracticeThatFollowedTheGuide(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"check", "--emis-url", srv.URL, "--ods", "a81001", "--username", "Herouser", "--password-stdin", "--json"},
		strings.NewReader(sandbox.DemoAPIPassword+"\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("check: %v\n%s%s", err, out.String(), errOut.String())
	}
	var got struct {
		Connected bool `json:"connected"`
		Checks    []struct{ Step, Status, Message string }
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
	}
	if !got.Connected || len(got.Checks) != 10 {
		t.Fatalf("check = %+v", got)
	}
	for _, c := range got.Checks {
		if c.Status != "pass" {
			t.Fatalf("check %s = %s: %s", c.Step, c.Status, c.Message)
		}
	}
}

func TestCheckCommandExitsNonZeroAndExplainsTheEMISUserPassword(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--emis-url", srv.URL, "--ods", "A81001", "--username", "Herouser", "--password-stdin"},
		strings.NewReader(sandbox.DemoUserPassword+"\n"), &out, &out)
	if !errors.Is(err, errCheckFailed) {
		t.Fatalf("err = %v, want the check to fail", err)
	}
	if !strings.Contains(out.String(), "FAIL  Step 2: the API password is accepted") || !strings.Contains(out.String(), "You entered the EMIS user password") {
		t.Fatalf("output:\n%s", out.String())
	}
	if strings.Contains(out.String(), sandbox.DemoUserPassword) {
		t.Fatal("the password was printed")
	}
}

func TestCheckCommandReportsATrailingSpaceRatherThanTrimmingIt(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t)
	var out bytes.Buffer
	args := []string{"check", "--emis-url", srv.URL, "--ods", "A81001", "--username", "Herouser", "--password-stdin"}
	err := run(context.Background(), args, strings.NewReader(sandbox.DemoAPIPassword+" \r\n"), &out, &out)
	if !errors.Is(err, errCheckFailed) || !strings.Contains(out.String(), "API password has a space at the end") {
		t.Fatalf("err = %v, output:\n%s", err, out.String())
	}
	out.Reset()
	err = run(context.Background(), append(args, "--spaces", "remove"), strings.NewReader(sandbox.DemoAPIPassword+" \n"), &out, &out)
	if err != nil {
		t.Fatalf("with --spaces remove: %v\n%s", err, out.String())
	}
}

func TestCheckCommandRefusesAPasswordOnTheCommandLine(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"check", "--emis-url", "http://127.0.0.1:1", "--ods", "A81001", "--username", "Herouser"},
		strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--password-stdin is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestServeRefusesToGuessTheDirectoryOrIgnoreABadSetting(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--emis-url", "http://127.0.0.1:1", "--data-dir", t.TempDir()},
		strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--directory-url") {
		t.Fatalf("serve without a directory: %v", err)
	}
	t.Setenv("HEROLINK_HEALTH_INTERVAL", "5")
	envErrors = nil
	var f serverFlags
	f.register(flag.NewFlagSet("x", flag.ContinueOnError), "", "", true)
	if err := checkEnv(); err == nil || !strings.Contains(err.Error(), "HEROLINK_HEALTH_INTERVAL") {
		t.Fatalf("a bad duration was accepted: %v", err)
	}
	envErrors = nil
}

func TestAPracticeManagerCanBeAddedBeforeThePracticeIsConnected(t *testing.T) {
	t.Parallel()
	srv := sandboxServer(t)
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"staff", "add", "--data-dir", dir, "--username", "pm@oakfield", "--role", "practice",
		"--practice-ods", "a81001", "--directory-url", srv.URL + "/sandbox/v1/directory", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out, &out)
	if err != nil {
		t.Fatalf("staff add: %v\n%s", err, out.String())
	}
	err = run(context.Background(), []string{"staff", "add", "--data-dir", dir, "--username", "pm2", "--role", "practice",
		"--practice-ods", "Z99999", "--directory-url", srv.URL + "/sandbox/v1/directory", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out, &out)
	if err == nil {
		t.Fatal("a practice unknown to the directory was added")
	}
}
