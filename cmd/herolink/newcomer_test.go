package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

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
