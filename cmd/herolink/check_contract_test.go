package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
)

func TestCheckCommandWarnsOfTheEMISUsersContractEndDateWithTheDaysLeft(t *testing.T) {
	t.Parallel()
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	o, err := w.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	end := w.Today().AddDays(20).String()
	if _, err := o.EditUser("Herouser", sandbox.UserInput{ContractEnd: &end}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sandbox.NewServer(w, nil))
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	err = run(context.Background(), []string{"check", "--emis-url", srv.URL, "--ods", "A81001", "--username", "Herouser", "--password-stdin"},
		strings.NewReader(sandbox.DemoAPIPassword+"\n"), &out, &out)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	for _, want := range []string{"WARN  Step 1: the user account is active", end, "20 days left", "clear the Contract end date", "Connected."} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
}
