package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"herolink/internal/bench"
)

func TestBenchChaosRefusesSeveralInstancesOnSQLite(t *testing.T) {
	t.Setenv("HEROLINK_DATABASE_URL", "")
	_, _, _, err := parseBenchChaos([]string{"--instances", "2"}, io.Discard)
	if !errors.Is(err, bench.ErrSQLiteOneInstance) {
		t.Fatalf("bench chaos --instances 2 without --database-url: err = %v, want the SQLite refusal", err)
	}
	if !strings.Contains(err.Error(), "--database-url") {
		t.Errorf("the refusal %q does not say what to do instead", err)
	}
}

func TestBenchChaosFlags(t *testing.T) {
	t.Setenv("HEROLINK_DATABASE_URL", "")
	cases := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, o bench.ChaosOptions, asJSON bool)
	}{
		{name: "defaults: one instance on SQLite, 20 kills", args: nil,
			check: func(t *testing.T, o bench.ChaosOptions, asJSON bool) {
				if o.DatabaseURL != "" || o.Instances != 1 || o.Kills != 20 || o.Duration != 5*time.Minute || asJSON {
					t.Errorf("defaults = %+v json=%v", o, asJSON)
				}
			}},
		{name: "several instances on PostgreSQL", args: []string{"--database-url", "postgres://127.0.0.1:5499/postgres", "--instances", "2", "--kills", "25", "--duration", "10m", "--seed", "7", "--json"},
			check: func(t *testing.T, o bench.ChaosOptions, asJSON bool) {
				if o.Instances != 2 || o.Kills != 25 || o.Duration != 10*time.Minute || o.Seed != 7 || !asJSON {
					t.Errorf("options = %+v json=%v", o, asJSON)
				}
			}},
		{name: "a database URL that is not PostgreSQL", args: []string{"--database-url", "mysql://x"}, wantErr: "postgres://"},
		{name: "no instance", args: []string{"--instances", "0"}, wantErr: "--instances"},
		{name: "a negative duration", args: []string{"--duration", "-1s"}, wantErr: "--duration"},
		{name: "fault rates over one", args: []string{"--error-rate", "0.6", "--timeout-rate", "0.6"}, wantErr: "fault rates"},
		{name: "a stray argument", args: []string{"now"}, wantErr: "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, _, asJSON, err := parseBenchChaos(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o, asJSON)
		})
	}
}
