package emis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOutcomeMeaningDependsOnMethod(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method  string
		outcome Outcome
		want    error
	}{
		{MethodInitializeWithID, 2, ErrOrgNotFound},
		{MethodInitializeWithID, 3, ErrUnmatchedSupplier},
		{MethodLogon, 2, ErrLogonExpired},
		{MethodLogon, 3, ErrLogonUnsuccessful},
		{MethodLogon, 4, ErrNoProductAccess},
		{MethodLogon, -1, ErrTechnical},
		{MethodGetAppointmentSessions, 2, ErrAccessDenied},
		{MethodGetAppointmentSessions, 3, ErrNothingToReturn},
		{MethodGetSlotsForSession, 5, ErrNotFound},
		{MethodBookAppointment, 6, ErrSlotBooked},
		{MethodBookAppointment, 7, ErrPatientNotFound},
		{MethodBookAppointment, 8, ErrSlotNotBookable},
		{MethodCancelAppointment, 9, ErrSlotNotBooked},
		{MethodGetMatchedPatient, -2, ErrNotLoggedOn},
		{MethodGetMatchedPatient, 42, ErrUnknownOutcome},
	}
	for _, c := range cases {
		err := &OutcomeError{Method: c.method, Outcome: c.outcome, Text: "x"}
		if !errors.Is(err, c.want) {
			t.Errorf("%s outcome %d: errors.Is(%v) = false, want true", c.method, c.outcome, c.want)
		}
		if c.want != ErrAccessDenied && errors.Is(err, ErrAccessDenied) {
			t.Errorf("%s outcome %d also matches ErrAccessDenied", c.method, c.outcome)
		}
	}
	if Classify(MethodLogon, OutcomeSuccess) != nil {
		t.Error("success classifies as an error")
	}
}

func TestDecodeEnvelopeRejectsWhatIsNotAnEnvelope(t *testing.T) {
	t.Parallel()
	bad := []string{"", "<html>maintenance</html>", "<PartnerApiResponse><Outcome>x</Outcome></PartnerApiResponse>",
		"<PartnerApiResponse method=\"Logon\"></PartnerApiResponse>", "not xml at all"}
	for _, b := range bad {
		if _, err := DecodeEnvelope([]byte(b)); err == nil {
			t.Errorf("DecodeEnvelope(%q) accepted it", b)
		}
	}
	env, err := DecodeEnvelope([]byte(`<PartnerApiResponse method="Logon"><Outcome>3</Outcome><Error>unsuccessful</Error><Result/></PartnerApiResponse>`))
	if err != nil || env.Outcome != 3 || env.Error != "unsuccessful" || env.Method != "Logon" {
		t.Fatalf("DecodeEnvelope = %+v, %v", env, err)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`<PartnerApiResponse method="Logon"><Outcome>1</Outcome><Error></Error><Result><Session><SessionID>abc</SessionID></Session></Result></PartnerApiResponse>`))
	f.Add([]byte(`<PartnerApiResponse method="GetAppointmentSessions"><Outcome>1</Outcome><Result><AppointmentSessionList><AppointmentSession><DBID>1</DBID></AppointmentSession></AppointmentSessionList></Result></PartnerApiResponse>`))
	f.Add([]byte(`<?xml version="1.0"?><PartnerApiResponse><Outcome>-2</Outcome></PartnerApiResponse>`))
	f.Add([]byte(`<a><b>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := DecodeEnvelope(body)
		if err != nil {
			return
		}
		if env.Outcome == 0 {
			t.Fatal("accepted an envelope without an outcome")
		}
		// Whatever the result holds, decoding it into any result shape must not panic.
		var sl SessionList
		_ = decodeInto(env.Result.Data, &sl)
		var slots SlotList
		_ = decodeInto(env.Result.Data, &slots)
		var pm PatientMatches
		_ = decodeInto(env.Result.Data, &pm)
	})
}

func decodeInto(data []byte, v any) error {
	return (&Caller{}).decodeResult("fuzz", data, v)
}

func TestCredentialsNeverShowTheAPIPassword(t *testing.T) {
	t.Parallel()
	c := Credentials{CDB: 29001, Username: "Herouser", APIPassword: "S3cret-Api-Pass"}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	log.Info("connecting", "credentials", c)
	log.Info("connecting", slog.Any("creds", c))
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %s %#v", c, c, c, c), logs.String()} {
		if strings.Contains(s, c.APIPassword) {
			t.Fatalf("the API password leaked into %q", s)
		}
	}
}

// stallingServer answers no call until the test ends or the caller hangs up; it answers its URL.
func stallingServer(t *testing.T) string {
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stall) }) // runs first: the handlers return before Close waits for them
	return srv.URL
}

func TestCallTimesOutAndSaysSo(t *testing.T) {
	t.Parallel()
	c, err := NewCaller(Config{BaseURL: stallingServer(t), SupplierID: "s", CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InitializeWithID(context.Background(), 1)
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("err = %v, want a transport timeout", err)
	}
}

func TestCallTimesOutAtItsOwnTimeoutWhenTheCallersDeadlineIsLater(t *testing.T) {
	t.Parallel()
	c, err := NewCaller(Config{BaseURL: stallingServer(t), SupplierID: "s", CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.InitializeWithID(ctx, 1)
		done <- err
	}()
	select {
	case err := <-done:
		var te *TransportError
		if !errors.As(err, &te) || !te.Timeout() {
			t.Fatalf("err = %v, want a transport timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call outlived its 50 ms timeout under a caller's deadline an hour away")
	}
}

// contextRecorder answers every call with an empty success and records each request's context.
type contextRecorder struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (r *contextRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.ctxs = append(r.ctxs, req.Context())
	r.mu.Unlock()
	body := `<PartnerApiResponse><Outcome>1</Outcome></PartnerApiResponse>`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: req,
		ContentLength: int64(len(body)), Body: io.NopCloser(strings.NewReader(body))}, nil
}

func TestCallUnderASoonerDeadlineUsesTheCallersContextAsItIs(t *testing.T) {
	t.Parallel()
	rec := &contextRecorder{}
	c, err := NewCaller(Config{BaseURL: "http://emis.invalid", SupplierID: "s", CallTimeout: time.Minute,
		HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	sooner, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Call(sooner, MethodLogout, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(context.Background(), MethodLogout, nil, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.ctxs) != 2 {
		t.Fatalf("%d requests, want 2", len(rec.ctxs))
	}
	if rec.ctxs[0] != sooner {
		t.Error("a call whose caller's deadline comes first made a context of its own")
	}
	if d, ok := rec.ctxs[1].Deadline(); !ok || time.Until(d) > time.Minute {
		t.Errorf("a call without a deadline ran without its own: deadline %v, %v", d, ok)
	}
}

func TestNonEnvelopeAnswerIsATransportErrorWithStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, _ := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s"})
	_, err := c.Logon(context.Background(), "l", "u", "pw-not-in-error")
	var te *TransportError
	if !errors.As(err, &te) || te.StatusCode != 503 || te.Timeout() {
		t.Fatalf("err = %v, want a 503 transport error", err)
	}
	if strings.Contains(err.Error(), "pw-not-in-error") {
		t.Fatal("the password leaked into the error")
	}
}

func TestNewCallerRefusesABaseURLThatIsNotHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "ftp://x", "127.0.0.1:8089", "http://"} {
		if _, err := NewCaller(Config{BaseURL: u}); err == nil {
			t.Errorf("NewCaller(%q) accepted it", u)
		}
	}
}

func TestDateRulesAcrossClockChanges(t *testing.T) {
	t.Parallel()
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("2026-02-30 accepted")
	}
	spring := Date{2026, 3, 29}
	if got := spring.At(8*60 + 30).UTC().Format("15:04"); got != "07:30" {
		t.Errorf("08:30 London on %s is %s UTC, want 07:30", spring, got)
	}
	autumn := Date{2026, 10, 25}
	if got := autumn.At(8*60 + 30).UTC().Format("15:04"); got != "08:30" {
		t.Errorf("08:30 London on %s is %s UTC, want 08:30", autumn, got)
	}
	if Today(time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)) != (Date{2026, 7, 1}) {
		t.Error("23:30 UTC on 30 June is 1 July in London (BST)")
	}
	if d := (Date{2026, 3, 28}).AddDays(2); d != (Date{2026, 3, 30}) {
		t.Errorf("AddDays across the clock change = %s", d)
	}
	if _, err := ParseClock("8:30"); err == nil {
		t.Error("8:30 accepted as HH:MM")
	}
}

// Every call in flight gets its connection back for the next call: a sync with more calls in
// flight than connections kept would close the rest after each answer and open (over TLS,
// negotiate) new ones all day.
func TestCallerKeepsAConnectionForEachCallInFlight(t *testing.T) {
	t.Parallel()
	const inFlight = 100 // more than DefaultIdleConns
	var mu sync.Mutex
	var opened, arrived int
	var all chan struct{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		if arrived == inFlight {
			close(all)
		}
		wait := all
		mu.Unlock()
		<-wait // every call holds its connection until all are in flight
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := NewCaller(Config{BaseURL: srv.URL, SupplierID: "s", IdleConns: inFlight})
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 2; round++ {
		mu.Lock()
		arrived, all = 0, make(chan struct{})
		mu.Unlock()
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() { _, _ = c.InitializeWithID(context.Background(), 1) })
		}
		wg.Wait()
		mu.Lock()
		got := opened
		mu.Unlock()
		if got != inFlight {
			t.Fatalf("after round %d, %d connections were opened; want %d, each kept for the next round", round, got, inFlight)
		}
	}
}
