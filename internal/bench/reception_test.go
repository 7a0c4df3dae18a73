package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func TestABookingTheSyncSeesBeforeItsRegistrationArrivesIsStillMeasured(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	tr := newChangeTracker(func() time.Time { return now })
	tr.watchEarly(true)
	t0 := now.Add(-3 * time.Second) // the reception registered it 3 s ago; the line is late
	tr.onChange(1, []store.SlotChange{{SlotID: 10, NewStatus: "Booked"}})
	now = now.Add(time.Second) // the line arrives a second after the sync saw the booking
	if !tr.expect(slotKey{1, 10}, t0, true) {
		t.Fatal("registration refused")
	}
	st, near, unobserved := tr.result()
	if len(st) != 1 || st[0] != 3*time.Second || len(near) != 1 || unobserved != 0 {
		t.Errorf("staleness %v, near %v, unobserved %d; want [3s], [3s], 0: measured when the sync saw it", st, near, unobserved)
	}

	// A booking seen before an older registration time is another change: it is not this
	// one's observation, and this one waits to be seen.
	tr.onChange(1, []store.SlotChange{{SlotID: 11, NewStatus: "Booked"}})
	if !tr.expect(slotKey{1, 11}, now.Add(time.Second), false) {
		t.Fatal("registration refused")
	}
	if _, pending := tr.counts(); pending != 1 {
		t.Errorf("%d changes waiting, want 1: a booking seen before the change was made was taken for it", pending)
	}

	// Once the stream is over, nothing is kept.
	tr.watchEarly(false)
	tr.onChange(1, []store.SlotChange{{SlotID: 12, NewStatus: "Booked"}})
	tr.expect(slotKey{1, 12}, now.Add(-time.Minute), false)
	if _, pending := tr.counts(); pending != 2 {
		t.Errorf("%d changes waiting, want 2: a booking seen outside a stream was kept", pending)
	}
}

func TestReceptionLinesAreReadOrRefusedByName(t *testing.T) {
	at := time.Unix(0, 1764930000123456789)
	for _, tc := range []struct {
		line string
		want receptionLine
		err  string
	}{
		{line: "ready", want: receptionLine{kind: "ready"}},
		{line: "expect 12 345 1 1764930000123456789", want: receptionLine{kind: "expect", key: slotKey{12, 345}, near: true, at: at}},
		{line: "expect 12 345 0 1764930000123456789", want: receptionLine{kind: "expect", key: slotKey{12, 345}, at: at}},
		{line: "forget 12 345", want: receptionLine{kind: "forget", key: slotKey{12, 345}}},
		{line: `done {"Attempted":5,"Made":3,"Refused":1,"NoSlot":1}`, want: receptionLine{kind: "done", counts: streamCounts{Attempted: 5, Made: 3, Refused: 1, NoSlot: 1}}},
		{line: "ready now", err: "ready takes nothing"},
		{line: "expect 12 345 1", err: "expect takes 4 numbers, got 3"},
		{line: "expect 12 345 2 17", err: "near is 0 or 1"},
		{line: "forget 12 x", err: "invalid syntax"},
		{line: "done {", err: "unexpected end of JSON"},
		{line: "booked 1 2", err: "unknown kind"},
		{line: "", err: "unknown kind"},
	} {
		got, err := parseReceptionLine(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one saying %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if got.kind != tc.want.kind || got.key != tc.want.key || got.near != tc.want.near || !got.at.Equal(tc.want.at) ||
			got.counts.Attempted != tc.want.counts.Attempted || got.counts.Made != tc.want.counts.Made ||
			got.counts.Refused != tc.want.counts.Refused || got.counts.NoSlot != tc.want.counts.NoSlot {
			t.Errorf("%q read as %+v, want %+v", tc.line, got, tc.want)
		}
	}
	l, err := parseReceptionLine(`done {"Errors":2,"FirstErr":"sandbox: 500"}`)
	if err != nil || l.counts.Errors != 2 || l.counts.FirstErr != "sandbox: 500" {
		t.Errorf("done with an error read as %+v, %v", l.counts, err)
	}
}

func FuzzReceptionLine(f *testing.F) {
	for _, s := range []string{"ready", "expect 1 2 1 3", "forget 1 2", `done {"Made":1}`, "expect -1 2 0 -9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseReceptionLine(s)
		if err != nil {
			return
		}
		switch l.kind {
		case "ready", "expect", "forget", "done":
		default:
			t.Fatalf("%q read as kind %q", s, l.kind)
		}
	})
}

// TestTheReceptionRegistersEveryBookingBeforeMakingIt runs the reception's own code against a
// sandbox, as the child does, and checks its lines against what the sandbox booked.
func TestTheReceptionRegistersEveryBookingBeforeMakingIt(t *testing.T) {
	world := sandbox.New(sandbox.Options{Seed: 3, Practices: 2, DiaryWeeks: 2})
	base, stopSandbox, err := serveSandbox(world)
	if err != nil {
		t.Fatal(err)
	}
	defer stopSandbox()
	admin := newSandboxAdmin(base, 2)
	defer admin.close()
	orgs, err := admin.organisations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := receptionConfig{AdminURL: base, CDB: map[int64]int{}, Rate: 200, Duration: 500 * time.Millisecond,
		Horizon: 14 * 24 * time.Hour, Lead: 10 * time.Minute, Workers: 4, PatientID: 500, Seed: 9}
	for i, o := range orgs {
		cfg.Practices = append(cfg.Practices, int64(i+1))
		cfg.CDB[int64(i+1)] = o.CDB
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		err := RunReception(ctx, inR, outW)
		_ = outW.CloseWithError(errors.Join(err, io.EOF))
		done <- err
	}()
	conf, _ := json.Marshal(cfg)
	if _, err := inW.Write(append(conf, '\n')); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(outR)
	next := func() receptionLine {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("reception ended early: %v", lines.Err())
		}
		l, err := parseReceptionLine(lines.Text())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := next(); l.kind != "ready" {
		t.Fatalf("first line %q, want ready", l.kind)
	}
	begin := time.Now()
	if _, err := io.WriteString(inW, "go\n"); err != nil {
		t.Fatal(err)
	}
	expected := map[slotKey]bool{}
	var counts streamCounts
	for counts.Attempted == 0 {
		switch l := next(); l.kind {
		case "expect":
			if expected[l.key] {
				t.Errorf("slot %v registered twice", l.key)
			}
			if l.at.Before(begin) || l.at.After(time.Now()) {
				t.Errorf("registered at %v, outside the stream", l.at)
			}
			expected[l.key] = true
		case "forget":
			if !expected[l.key] {
				t.Errorf("slot %v forgotten but never registered", l.key)
			}
			delete(expected, l.key)
		case "done":
			if l.counts.Attempted == 0 {
				t.Fatal("done with nothing attempted")
			}
			counts = l.counts
		default:
			t.Fatalf("%q in the middle of the stream", l.kind)
		}
	}
	if counts.Made < 10 || int(counts.Made) != len(expected) || counts.Errors != 0 {
		t.Errorf("%d bookings made, %d registered and not forgotten, %d errors; want several, equal, none (%+v)",
			counts.Made, len(expected), counts.Errors, counts)
	}
	// Every booking registered and not forgotten was made in EMIS.
	booked := 0
	for pid, cdb := range cfg.CDB {
		free, err := admin.freeSlots(t.Context(), cdb, time.Now(), time.Now().Add(cfg.Horizon))
		if err != nil {
			t.Fatal(err)
		}
		isFree := map[int64]bool{}
		for _, id := range free {
			isFree[id] = true
		}
		for k := range expected {
			if k.practiceID == pid {
				if isFree[k.slotID] {
					t.Errorf("slot %v registered and not forgotten, but still free in EMIS", k)
				}
				booked++
			}
		}
	}
	if booked != len(expected) {
		t.Errorf("%d registrations of unknown practices", len(expected)-booked)
	}
	// It waits for its stdin to close, so that its CPU can be read after the stream.
	select {
	case err := <-done:
		t.Fatalf("reception returned before its stdin closed: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	_ = inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTheReceptionRefusesAConfigurationWithoutAPractice(t *testing.T) {
	in := strings.NewReader(`{"admin_url":"http://127.0.0.1:1","duration":1000000000}` + "\n")
	err := RunReception(t.Context(), in, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "names no practice") {
		t.Errorf("error %v, want one saying no practice is named", err)
	}
}

// failingWriter is a pipe whose reader is gone.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// A booking the benchmark could not be told of is not made: it would be a change never measured.
func TestTheReceptionMakesNoBookingItCouldNotRegister(t *testing.T) {
	l := &pipeLog{w: bufio.NewWriter(failingWriter{}), pending: map[slotKey]bool{}}
	if l.expect(slotKey{1, 10}, time.Now(), false) {
		t.Error("a registration that could not be written was taken as made: the booking would go unmeasured")
	}
	if l.isPending(slotKey{1, 10}) {
		t.Error("a slot never registered is kept as pending")
	}
	if err := l.line("done {}"); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("later lines: %v, want the pipe's failure", err)
	}
}
