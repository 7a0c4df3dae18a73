package emis

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultCallTimeout bounds every Partner API call that the caller's context does not bound sooner.
const DefaultCallTimeout = 30 * time.Second

// maxResponseBytes caps what one answer may be, read into memory whole. The largest answers
// are session lists: a busy practice's 14 days are about 270 KB of XML, so the longest horizon
// (56 days) is about 1.1 MB; 16 MiB leaves more than ten times that and bounds what a broken or
// hostile endpoint can make herolink hold per call.
const maxResponseBytes = 16 << 20

// ErrAnswerTooLarge is an answer longer than maxResponseBytes; it is not read further.
var ErrAnswerTooLarge = fmt.Errorf("emis: answer larger than %d MiB", maxResponseBytes>>20)

// ErrRedirected is an EMIS answer that redirects elsewhere. herolink never follows it: the
// request carries the API password and session id, which must go to the configured EMIS only.
var ErrRedirected = errors.New("emis: EMIS answered with a redirect, which herolink does not follow")

// noRedirects stops the HTTP client at the first redirect and returns it as the answer.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Config says where EMIS is and who we are to it.
type Config struct {
	BaseURL     string        // e.g. http://127.0.0.1:8089; the client appends /partnerapi/v1/{Method}
	SupplierID  string        // issued by EMIS to the partner product
	HTTPClient  *http.Client  // nil: a client with no timeout of its own (CallTimeout bounds calls)
	CallTimeout time.Duration // 0: DefaultCallTimeout
	Logger      *slog.Logger  // nil: discard
	// IdleConns is how many connections to EMIS stay open between calls when HTTPClient is
	// nil; DefaultIdleConns if zero. Calls in flight beyond it close their connection after
	// answering, and the next call opens (and over TLS, negotiates) another: size it to the
	// calls herolink keeps in flight.
	IdleConns int
	// PoisonReleased overwrites every recycled answer buffer when it is given back (tests:
	// a reference kept past its release then reads garbage instead of what it read).
	PoisonReleased bool
}

// DefaultIdleConns is Config.IdleConns when it is zero.
const DefaultIdleConns = 64

// answerReadBuffer is how much of an answer a connection reads at once. With net/http's
// 4 KiB, a slot list (5-10 KB, most of the sync's calls) took one read for its head and
// another for its body; it fits here whole, so it arrives in one. Each idle connection keeps
// the buffer: 64 KiB, which also fits most session lists, cost 250 MB of RSS at the 2,064
// connections of the 7,000-practice benchmark for no less CPU.
const answerReadBuffer = 16 << 10

// NewTransport is the transport of a Caller given no HTTP client: idle connections kept
// between calls (see Config.IdleConns), answers read in as few reads as they arrive in.
func NewTransport(idle int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = idle, idle
	t.ReadBufferSize = answerReadBuffer
	return t
}

// Caller makes single Partner API calls. It holds no login state and is safe for concurrent use.
type Caller struct {
	base    string
	cfg     Config
	http    *http.Client
	timeout time.Duration
	log     *slog.Logger
}

// NewCaller checks the configuration and returns a Caller.
func NewCaller(cfg Config) (*Caller, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("emis: base URL %q must be an http(s) URL", cfg.BaseURL)
	}
	c := &Caller{base: strings.TrimRight(cfg.BaseURL, "/"), cfg: cfg, http: cfg.HTTPClient,
		timeout: cfg.CallTimeout, log: cfg.Logger}
	if c.http == nil {
		// The default transport keeps 2 idle connections per host; EMIS is one host called
		// concurrently, so keep one for every call in flight and avoid a storm of new ones.
		idle := cfg.IdleConns
		if idle <= 0 {
			idle = DefaultIdleConns
		}
		c.http = &http.Client{Transport: NewTransport(idle)}
	}
	// Whoever built the client, it never follows a redirect: a 307 or 308 would re-send the
	// form, password included, to wherever it points.
	hc := *c.http
	hc.CheckRedirect = noRedirects
	c.http = &hc
	if c.timeout <= 0 {
		c.timeout = DefaultCallTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Call performs one method call and decodes its result into result (nil to ignore it). It
// returns the envelope even when the outcome is not success, together with an *OutcomeError.
func (c *Caller) Call(ctx context.Context, method string, params url.Values, result any) (*Envelope, error) {
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > c.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// Otherwise the caller's deadline comes first and bounds the call alone: a context of
	// the call's own would only be allocated, registered with the caller's and cancelled
	// again, 2.2 % of the sync's CPU, whose reads each carry a deadline of 10 s.
	start := time.Now()
	var buf *[]byte
	var raw *rawResult // handed its buffer once decoded
	switch r := result.(type) {
	case *usedResult:
		buf = answerBuffers.get()
		defer c.giveBack(buf, answerBuffers)
	case *rawResult:
		raw, buf = r, listBuffers.get()
		defer func() {
			if raw.buf != buf { // not handed on to the caller
				c.giveBack(buf, listBuffers)
			}
		}()
	}
	env, err := c.roundTrip(ctx, method, params, buf)
	if buf != nil && env != nil {
		// The envelope outlives the buffer: it must not point into it.
		defer func() { env.Result.Data = nil }()
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "emis call", slog.String("method", method),
		slog.Duration("elapsed", time.Since(start)), slog.Bool("ok", err == nil && env.Outcome == OutcomeSuccess))
	if err != nil {
		return nil, redactError(err, params)
	}
	if env.Outcome != OutcomeSuccess {
		return env, redactError(&OutcomeError{Method: method, Outcome: env.Outcome, Text: env.Error}, params)
	}
	if err := c.decodeResult(method, env.Result.Data, result); err != nil {
		return env, redactError(err, params)
	}
	if raw != nil {
		raw.buf = buf // the caller's now, to give back (releaser)
	}
	return env, nil
}

// decodeResult decodes a success's result document; an empty result leaves v untouched, but
// for a usedResult, which is handed it.
func (c *Caller) decodeResult(method string, data []byte, v any) error {
	if u, ok := v.(*usedResult); ok {
		return u.use(data) // an empty result too: its user decides what no bytes mean
	}
	if v == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if raw, ok := v.(*rawResult); ok {
		raw.data = data
		return nil
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return &TransportError{Method: method, Err: fmt.Errorf("decode %s result: %w", method, err)}
	}
	return nil
}

// roundTrip sends one call and decodes its envelope. buf, if not nil, is a buffer the answer
// may be read into (readAnswer), whose bytes the envelope's Result then points into.
func (c *Caller) roundTrip(ctx context.Context, method string, params url.Values, buf *[]byte) (*Envelope, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/partnerapi/v1/"+method,
		strings.NewReader(params.Encode()))
	if err != nil {
		return nil, &TransportError{Method: method, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &TransportError{Method: method, Err: scrubURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		where := "elsewhere"
		if loc, err := resp.Location(); err == nil {
			where = "to " + loc.Host // the host only: a query could carry anything
		}
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%w (%s %s); check the EMIS URL", ErrRedirected, resp.Status, where)}
	}
	if resp.ContentLength > maxResponseBytes {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode, Err: ErrAnswerTooLarge}
	}
	body, err := readAnswer(resp, buf)
	if err != nil {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode, Err: fmt.Errorf("unexpected status %s", resp.Status)}
	}
	if len(body) > maxResponseBytes {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode, Err: ErrAnswerTooLarge}
	}
	env, err := DecodeEnvelope(body)
	if err != nil {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode, Err: err}
	}
	if env.Method != "" && env.Method != method {
		return nil, &TransportError{Method: method, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("answer is for method %q", env.Method)}
	}
	return env, nil
}

// readAnswer reads an answer's body, at most maxResponseBytes+1 bytes (more is refused by the
// caller). An answer that says its length is read into one slice of that length: growing a
// slice from 512 bytes to fit was a third of the sync's cost of reading EMIS, in copies and in
// the garbage they left.
func readAnswer(resp *http.Response, buf *[]byte) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxResponseBytes {
		var body []byte
		if buf != nil && int64(cap(*buf)) >= n {
			body = (*buf)[:n]
		} else {
			body = make([]byte, n)
			if buf != nil {
				*buf = body
			}
		}
		// net/http's body ends at the declared length and reports one that ends early.
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
}

// scrubURLError drops the request body-free URL error wrapper text duplication but keeps the
// cause; form parameters (which may hold a password) never appear in *url.Error.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, ue.URL, ue.Err)
	}
	return err
}

// DecodeEnvelope parses a Partner API answer. It rejects anything that is not exactly one
// PartnerApiResponse document with an integer outcome.
func DecodeEnvelope(body []byte) (*Envelope, error) {
	if env, ok := decodeEnvelopeFast(body); ok {
		return env, nil
	}
	var env Envelope
	dec := xml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("answer is not a PartnerApiResponse envelope: %w", err)
	}
	if env.Outcome == 0 {
		return nil, errors.New("answer has no outcome")
	}
	return &env, nil
}

// InitializeWithID identifies the practice (by CDB number) and the partner product.
func (c *Caller) InitializeWithID(ctx context.Context, cdb int) (*LoginResult, error) {
	var r LoginResult
	_, err := c.Call(ctx, MethodInitializeWithID, url.Values{
		"cdb": {strconv.Itoa(cdb)}, "supplierId": {c.cfg.SupplierID}}, &r)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Logon exchanges a login id, username and API password for a session id.
func (c *Caller) Logon(ctx context.Context, loginID, username, apiPassword string) (string, error) {
	var r SessionResult
	_, err := c.Call(ctx, MethodLogon, url.Values{
		"loginId": {loginID}, "username": {username}, "password": {apiPassword}}, &r)
	if err != nil {
		return "", err
	}
	if r.SessionID == "" {
		return "", &TransportError{Method: MethodLogon, Err: errors.New("logon succeeded but returned no session id")}
	}
	return r.SessionID, nil
}

// Credentials identify a practice's connection. The password is the EMAS Manager API password.
type Credentials struct {
	CDB         int
	Username    string
	APIPassword string
}

// LogValue keeps the API password and the username out of every log line: the CDB number
// names the connection, and a login name is half of what an attacker needs.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("cdb", c.CDB))
}

// String keeps the API password and the username out of every formatted error.
func (c Credentials) String() string {
	return fmt.Sprintf("cdb %d", c.CDB)
}

// GoString keeps the API password out of %#v.
func (c Credentials) GoString() string { return "emis.Credentials{" + c.String() + "}" }

// Conn is a logged-on connection to one practice. It logs on again, once, when EMIS answers
// "not logged on" (session idle past its timeout). Safe for concurrent use.
type Conn struct {
	caller *Caller
	creds  Credentials

	mu        sync.Mutex
	sessionID string
	refused   error // a logon EMIS refused: never tried again by this connection
}

// String names the practice only: a connection printed with %v must not spill the password,
// the username or the session id held inside it.
func (s *Conn) String() string { return "emis connection to " + s.creds.String() }

// GoString is String for %#v.
func (s *Conn) GoString() string { return "emis.Conn{" + s.creds.String() + "}" }

// refusal reports whether a logon error means the credentials or EMAS settings are refused
// (as opposed to EMIS being unreachable).
func refusal(err error) bool {
	return errors.Is(err, ErrLogonUnsuccessful) || errors.Is(err, ErrLogonExpired) || errors.Is(err, ErrNoProductAccess) ||
		errors.Is(err, ErrOrgNotFound) || errors.Is(err, ErrUnmatchedSupplier)
}

// Refused is the logon refusal that ended this connection, or nil. A refused connection makes
// no further calls: a real EMIS may lock a user after repeated wrong passwords.
func (s *Conn) Refused() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Connect runs InitializeWithID and Logon. Errors are *OutcomeError or *TransportError.
func (c *Caller) Connect(ctx context.Context, creds Credentials) (*Conn, error) {
	s := &Conn{caller: c, creds: creds}
	if _, err := s.logon(ctx, ""); err != nil {
		return nil, err
	}
	return s, nil
}

// logon replaces the session id, unless another goroutine already replaced stale.
func (s *Conn) logon(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused != nil {
		return "", s.refused
	}
	if s.sessionID != stale {
		return s.sessionID, nil
	}
	login, err := s.caller.InitializeWithID(ctx, s.creds.CDB)
	if err != nil {
		if refusal(err) {
			s.refused = err
		}
		return "", err
	}
	id, err := s.caller.Logon(ctx, login.LoginID, s.creds.Username, s.creds.APIPassword)
	if err != nil {
		if refusal(err) {
			s.refused = err
		}
		return "", err
	}
	s.sessionID = id
	return id, nil
}

func (s *Conn) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessionID
}

// call performs a data call, logging on again once if the session has expired. A call that
// answered -2 was not applied, so repeating it is safe even for writes.
func (s *Conn) call(ctx context.Context, method string, params url.Values, result any) error {
	if err := s.Refused(); err != nil {
		return err
	}
	id := s.current()
	if params == nil {
		params = url.Values{}
	}
	params.Set("sessionId", id)
	_, err := s.caller.Call(ctx, method, params, result)
	if !errors.Is(err, ErrNotLoggedOn) {
		return err
	}
	s.caller.log.LogAttrs(ctx, slog.LevelInfo, "emis session expired; logging on again",
		slog.Any("credentials", s.creds), slog.String("method", method))
	fresh, lerr := s.logon(ctx, id)
	if lerr != nil {
		return lerr
	}
	params.Set("sessionId", fresh)
	_, err = s.caller.Call(ctx, method, params, result)
	return err
}

// Logout ends the session at EMIS.
func (s *Conn) Logout(ctx context.Context) error {
	_, err := s.caller.Call(ctx, MethodLogout, url.Values{"sessionId": {s.current()}}, nil)
	return err
}

// GetOrganisation reads the practice, its sites and users.
func (s *Conn) GetOrganisation(ctx context.Context) (*Organisation, error) {
	var r Organisation
	if err := s.call(ctx, MethodGetOrganisation, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetCurrentUser reads the logged-on user, role profile and activities.
func (s *Conn) GetCurrentUser(ctx context.Context) (*CurrentUser, error) {
	var r CurrentUser
	if err := s.call(ctx, MethodGetCurrentUser, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetAppointmentConfiguration reads slot types, sites and session holders.
func (s *Conn) GetAppointmentConfiguration(ctx context.Context) (*AppointmentConfiguration, error) {
	var r AppointmentConfiguration
	if err := s.call(ctx, MethodGetAppointmentConfiguration, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetAppointmentSessions lists sessions between two dates inclusive, optionally at one site
// (siteID 0: all). No sessions is an empty list, not an error.
func (s *Conn) GetAppointmentSessions(ctx context.Context, from, to Date, siteID int64) ([]Session, error) {
	p := url.Values{"startDate": {from.String()}, "endDate": {to.String()}}
	if siteID != 0 {
		p.Set("siteId", strconv.FormatInt(siteID, 10))
	}
	var r SessionList
	err := s.call(ctx, MethodGetAppointmentSessions, p, &r)
	if errors.Is(err, ErrNothingToReturn) {
		return nil, nil
	}
	return r.Sessions, err
}

// GetAppointmentSessionsLeased lists sessions like GetAppointmentSessions but returns each
// session element's bytes undecoded, so that the sync recognises unchanged sessions by hash.
// They are read into a recycled buffer: release gives it back, and after that neither the
// sessions nor anything pointing into them may be used (RawSession.Decode copies what it
// decodes). release is never nil, and is called once.
func (s *Conn) GetAppointmentSessionsLeased(ctx context.Context, from, to Date, siteID int64) (sessions []RawSession, release func(), err error) {
	p := url.Values{"startDate": {from.String()}, "endDate": {to.String()}}
	if siteID != 0 {
		p.Set("siteId", strconv.FormatInt(siteID, 10))
	}
	var raw rawResult
	err = s.call(ctx, MethodGetAppointmentSessions, p, &raw)
	release = s.caller.releaser(raw.buf)
	if errors.Is(err, ErrNothingToReturn) {
		return nil, release, nil
	}
	if err != nil {
		return nil, release, err
	}
	if sessions, ok := SplitSessionList(raw.data); ok {
		return sessions, release, nil
	}
	var list SessionList
	err = xml.Unmarshal(raw.data, &list)
	release() // what is returned is re-encoded from list: nothing points into the buffer
	if err != nil {
		return nil, func() {}, &TransportError{Method: MethodGetAppointmentSessions, Err: fmt.Errorf("decode result: %w", err)}
	}
	return SessionsToRaw(list.Sessions), func() {}, nil
}

// rawResult captures a result document's bytes without decoding them, and the buffer they
// were read into, which the caller gives back.
type rawResult struct {
	data []byte
	buf  *[]byte
}

// GetSlotsForSession lists the slots of one session.
func (s *Conn) GetSlotsForSession(ctx context.Context, sessionDBID int64) ([]Slot, error) {
	var slots []Slot
	err := s.GetSlotsForSessionUse(ctx, sessionDBID, func(data []byte) (err error) {
		slots, err = DecodeSlotList(data)
		return err
	})
	return slots, err
}

// DecodeSlotList decodes a slot list GetSlotsForSessionUse handed on. An empty answer is no
// slots; one that is not a slot list is a TransportError, as from GetSlotsForSession.
func DecodeSlotList(data []byte) ([]Slot, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	if slots, ok := decodeSlotListPlain(data); ok {
		return slots, nil
	}
	var r SlotList
	if err := xml.Unmarshal(data, &r); err != nil {
		return nil, &TransportError{Method: MethodGetSlotsForSession, Err: fmt.Errorf("decode result: %w", err)}
	}
	return r.Slots, nil
}

// Booking is what BookAppointment writes.
type Booking struct {
	SlotID    int64
	PatientID int64 // the EMIS number
	Reason    string
	Notes     string
	BookedBy  string
}

// BookAppointment books a slot for a patient. ErrSlotBooked, ErrSlotNotBookable,
// ErrPatientNotFound and ErrNotFound are the answers callers branch on.
func (s *Conn) BookAppointment(ctx context.Context, b Booking) (*Slot, error) {
	var r Slot
	err := s.call(ctx, MethodBookAppointment, url.Values{
		"slotId": {strconv.FormatInt(b.SlotID, 10)}, "patientId": {strconv.FormatInt(b.PatientID, 10)},
		"reason": {b.Reason}, "notes": {b.Notes}, "bookedBy": {b.BookedBy}}, &r)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// CancelAppointment frees a booked slot.
func (s *Conn) CancelAppointment(ctx context.Context, slotID int64, reason string) error {
	return s.call(ctx, MethodCancelAppointment, url.Values{
		"slotId": {strconv.FormatInt(slotID, 10)}, "reason": {reason}}, nil)
}

// SetAppointmentStatus records attendance on a booked slot (Arrived, Sent In, Left, Did Not Attend).
func (s *Conn) SetAppointmentStatus(ctx context.Context, slotID int64, status string) error {
	return s.call(ctx, MethodSetAppointmentStatus, url.Values{
		"slotId": {strconv.FormatInt(slotID, 10)}, "status": {status}}, nil)
}

// SetSlotType changes a free slot's type and notes: how placeholders are made.
func (s *Conn) SetSlotType(ctx context.Context, slotID int64, slotTypeID int, notes string) (*Slot, error) {
	var r Slot
	err := s.call(ctx, MethodSetSlotType, url.Values{
		"slotId": {strconv.FormatInt(slotID, 10)}, "slotTypeId": {strconv.Itoa(slotTypeID)}, "notes": {notes}}, &r)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// GetMatchedPatient searches the register with free-text terms. No match is an empty list.
func (s *Conn) GetMatchedPatient(ctx context.Context, filter string) ([]Patient, error) {
	var r PatientMatches
	err := s.call(ctx, MethodGetMatchedPatient, url.Values{"filter": {filter}}, &r)
	if errors.Is(err, ErrNothingToReturn) {
		return nil, nil
	}
	return r.Patients, err
}

// GetPatientAppointments lists a patient's appointments between two dates. None is an empty list.
func (s *Conn) GetPatientAppointments(ctx context.Context, patientID int64, from, to Date) ([]Slot, error) {
	var r PatientAppointmentList
	err := s.call(ctx, MethodGetPatientAppointments, url.Values{
		"patientId": {strconv.FormatInt(patientID, 10)}, "startDate": {from.String()}, "endDate": {to.String()}}, &r)
	if errors.Is(err, ErrNothingToReturn) {
		return nil, nil
	}
	return r.Appointments, err
}

// GetPatientDemographics reads one registration by EMIS number: what staff see when they open
// the record. ErrPatientNotFound when the number is not on the register (never registered,
// merged or deducted).
func (s *Conn) GetPatientDemographics(ctx context.Context, patientID int64) (*Patient, error) {
	var r Patient
	err := s.call(ctx, MethodGetPatientDemographics, url.Values{"patientId": {strconv.FormatInt(patientID, 10)}}, &r)
	if err != nil {
		return nil, err
	}
	// Another record than the one asked for is never taken as this one.
	if r.DBID != patientID {
		return nil, &TransportError{Method: MethodGetPatientDemographics,
			Err: fmt.Errorf("answered EMIS number %d when asked for %d", r.DBID, patientID)}
	}
	return &r, nil
}
