package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
)

// errCheckFailed makes check exit non-zero after printing its checklist.
var errCheckFailed = errors.New("the connection check did not pass")

// runCheck runs the connection form's test without saving anything, for support and scripts.
func runCheck(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	emisURL := fs.String("emis-url", env("HEROLINK_EMIS_URL", ""), "base URL of the EMIS Partner API")
	directoryURL := fs.String("directory-url", env("HEROLINK_DIRECTORY_URL", ""), "ODS to CDB directory; default EMIS_URL/sandbox/v1/directory")
	supplierID := fs.String("supplier-id", env("HEROLINK_SUPPLIER_ID", sandbox.DefaultSupplierID), "Hero Health's supplier id")
	ods := fs.String("ods", "", "the practice's ODS code")
	username := fs.String("username", "", "the EMIS username (e.g. Herouser)")
	passwordStdin := fs.Bool("password-stdin", false, "read the API password from the first line of standard input")
	spaces := fs.String("spaces", "ask", "spaces at the start or end of the username or password: ask (report them), remove, or keep")
	asJSON := fs.Bool("json", false, "print {connected, checks: [{step, status, message}]}")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *emisURL == "" {
		return errors.New("--emis-url is required")
	}
	if !*passwordStdin {
		return errors.New("--password-stdin is required: the API password is read from standard input, never from a flag")
	}
	handling := map[string]practice.SpaceHandling{"ask": practice.SpacesAsk, "remove": practice.SpacesRemove, "keep": practice.SpacesKeep}[*spaces]
	if _, ok := map[string]bool{"ask": true, "remove": true, "keep": true}[*spaces]; !ok {
		return fmt.Errorf("--spaces must be ask, remove or keep")
	}
	password, err := readPasswordLine(stdin)
	if err != nil {
		return err
	}
	if *directoryURL == "" {
		*directoryURL = strings.TrimRight(*emisURL, "/") + "/sandbox/v1/directory"
	}
	caller, err := emis.NewCaller(emis.Config{BaseURL: *emisURL, SupplierID: *supplierID, CallTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	form, fieldErrs, warns := practice.Form{ODS: *ods, Username: *username, Password: password}.Validate(handling)
	type jsonCheck struct {
		Step    string `json:"step"`
		Status  string `json:"status"`
		Message string `json:"message,omitempty"`
	}
	out := struct {
		Connected bool        `json:"connected"`
		Checks    []jsonCheck `json:"checks"`
	}{Checks: []jsonCheck{}}
	for _, fe := range fieldErrs {
		out.Checks = append(out.Checks, jsonCheck{Step: "form." + fe.Field, Status: string(practice.Fail), Message: fe.Message})
	}
	for _, w := range warns {
		out.Checks = append(out.Checks, jsonCheck{Step: "form." + w.Field, Status: string(practice.Fail),
			Message: w.Message() + " Run again with --spaces remove to test without them, or --spaces keep if they are intended."})
	}
	var res practice.TestResult
	if len(out.Checks) == 0 {
		tester := &practice.Tester{Directory: &practice.HTTPDirectory{BaseURL: *directoryURL}, Caller: caller}
		res = tester.Test(ctx, form)
		out.Connected = res.Connected
		for _, c := range res.Checks {
			out.Checks = append(out.Checks, jsonCheck{Step: string(c.Step), Status: string(c.Status), Message: c.Message})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		marks := map[string]string{"pass": "PASS", "fail": "FAIL", "not_reached": "----"}
		titles := map[string]string{}
		for _, c := range res.Checks {
			titles[string(c.Step)] = c.Title
		}
		for _, c := range out.Checks {
			title := titles[c.Step]
			if title == "" {
				title = "Connection form: " + strings.TrimPrefix(c.Step, "form.")
			}
			mark := marks[c.Status]
			if c.Status == string(practice.Pass) && strings.HasPrefix(c.Message, "Warning:") {
				mark = "WARN" // passed, but something will stop it later (a contract end date)
			}
			fmt.Fprintf(stdout, "%s  %s\n", mark, title)
			if c.Message != "" {
				fmt.Fprintf(stdout, "      %s\n", c.Message)
			}
		}
		if out.Connected {
			fmt.Fprintln(stdout, "\nConnected.")
		} else {
			fmt.Fprintln(stdout, "\nNot connected.")
		}
	}
	if !out.Connected || len(res.Checks) == 0 || !res.Checks.AllPass() {
		return errCheckFailed
	}
	return nil
}

// readPasswordLine reads the first line of r, removing only the line ending: spaces are kept
// so that the check can report them, as the form does.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the API password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return line, nil
}
