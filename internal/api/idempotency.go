package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"herolink/internal/booking"
	"herolink/internal/store"
)

const idempotencyHeader = "Idempotency-Key"

// replayedHeader marks an answer replayed from an earlier request with the same key.
const replayedHeader = "Idempotent-Replayed"

// keptHeaders are the response headers a replay repeats.
var keptHeaders = []string{"Content-Type", "Location"}

// idempotent runs a POST that carries an Idempotency-Key at most once per API key and key: the
// first request's answer (below 500) is kept for IdempotencyTTL and replayed to a retry with
// the same body; a different body is refused (422 idempotency_key_reused) and a retry while
// the first is still being answered is told to wait (409 idempotency_in_progress). A 5xx
// answer, or a refusal for a passing condition (practice_unavailable), is not kept, so the
// request can be retried with the same key.
//
// The key's use commits with the operation (booking.WithCommitHook): if the process dies after
// the operation's commit and before its answer is kept, the retry is answered from what the
// operation made and never runs it a second time.
func (s *server) idempotent(w http.ResponseWriter, r *http.Request, c *call, o op) {
	keys := r.Header.Values(idempotencyHeader)
	key := keys[0]
	if len(keys) != 1 || !validIdempotencyKey(key) {
		writeProblem(w, problem(http.StatusBadRequest, codeInvalidIdempotencyKey,
			"An Idempotency-Key must be 1 to 255 printable ASCII characters, for example a UUID."))
		return
	}
	// Bodies that differ only in whitespace are the same request.
	var body bytes.Buffer
	if json.Compact(&body, c.body) != nil {
		body.Reset()
		body.Write(c.body)
	}
	h := sha256.New()
	h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	h.Write(body.Bytes())
	hash := hex.EncodeToString(h.Sum(nil))

	ctx := r.Context()
	rec, started, err := s.cfg.Store.BeginIdempotent(ctx, c.key.ID, key, hash, s.cfg.IdempotencyLease, s.cfg.IdempotencyTTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case !started && rec.RequestHash != hash:
		writeProblem(w, problem(http.StatusUnprocessableEntity, codeIdempotencyReused,
			"This Idempotency-Key was already used for a different request. Use a new key for a new request."))
	case !started && rec.Status == 0 && rec.Ref != "" && o.answer != nil:
		// The operation committed but its answer was never kept: answer from what it made.
		s.answerCommitted(w, r, c, o, key, rec.Ref)
	case !started && rec.Status == 0:
		writeProblem(w, problem(http.StatusConflict, codeIdempotencyInProgress,
			"A request with this Idempotency-Key is still being answered. Retry shortly.").with("Retry-After", "1"))
	case !started:
		for name, v := range rec.Headers {
			w.Header().Set(name, v)
		}
		w.Header().Set(replayedHeader, "true")
		w.Header().Set("Content-Length", strconv.Itoa(len(rec.Body)))
		w.WriteHeader(rec.Status)
		_, _ = w.Write(rec.Body)
	default:
		// The key's use commits with the operation: booking runs the hook as the last
		// statement of the operation's own transaction.
		lost := false
		if o.answer != nil {
			r = r.WithContext(booking.WithCommitHook(ctx, func(ctx context.Context, tx *store.Tx, ref string) error {
				err := s.cfg.Store.MarkIdempotentTx(ctx, tx, c.key.ID, key, hash, ref)
				lost = errors.Is(err, store.ErrIdempotencyClaimLost)
				return err
			}))
		}
		cw := &capture{ResponseWriter: w}
		s.run(cw, r, c, o)
		if lost {
			return // another request with the key made the change; its answer is the one kept
		}
		if s.cfg.crashAfterOperation != nil && s.cfg.crashAfterOperation() {
			return
		}
		s.keep(ctx, c, key, cw)
	}
}

// answerCommitted answers a retry of a request whose operation committed (it made ref) but
// whose answer was never kept, and keeps that answer for later retries.
func (s *server) answerCommitted(w http.ResponseWriter, r *http.Request, c *call, o op, key, ref string) {
	w.Header().Set(replayedHeader, "true")
	cw := &capture{ResponseWriter: w}
	if err := o.answer(cw, r, c, ref); err != nil {
		s.fail(cw, r, err)
	}
	s.keep(r.Context(), c, key, cw)
}

// keep stores an answer for replays, or forgets the claim after a server error so the request
// can be retried (a claim whose operation committed is never forgotten: see AbandonIdempotent).
func (s *server) keep(ctx context.Context, c *call, key string, cw *capture) {
	// The answer is kept even if the client has gone: its retry must find it.
	ctx = context.WithoutCancel(ctx)
	if cw.status >= 500 || cw.status == 0 || passingRefusal(cw) {
		if err := s.cfg.Store.AbandonIdempotent(ctx, c.key.ID, key); err != nil {
			s.log.Error("partner API: forget failed idempotent request", "err", err)
		}
		return
	}
	headers := map[string]string{}
	for _, name := range keptHeaders {
		if v := cw.Header().Get(name); v != "" {
			headers[name] = v
		}
	}
	if err := s.cfg.Store.FinishIdempotent(ctx, c.key.ID, key, cw.status, headers, cw.body.Bytes()); err != nil {
		s.log.Error("partner API: keep idempotent answer", "err", err)
	}
}

// answerAppointment answers an appointment operation from the appointment it made.
func (s *server) answerAppointment(status int, location bool) func(http.ResponseWriter, *http.Request, *call, string) error {
	return func(w http.ResponseWriter, r *http.Request, c *call, ref string) error {
		a, err := s.cfg.Booking.Appointment(r.Context(), c.group, ref)
		if err != nil {
			return err
		}
		if location {
			w.Header().Set("Location", "/v1/appointments/"+a.ID)
		}
		return writeJSON(w, status, toAppointmentJSON(a))
	}
}

// answerPatient answers a registration from the patient it stored.
func (s *server) answerPatient(w http.ResponseWriter, r *http.Request, c *call, ref string) error {
	pt, err := s.cfg.Booking.Patient(r.Context(), c.group, ref)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/patients/"+pt.ID)
	return writeJSON(w, http.StatusCreated, toPatientJSON(pt))
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// capture passes an answer through and keeps a copy of its status and body.
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// passingRefusal says whether an answer refuses for a condition expected to pass, whose
// problem tells the partner to try again later (practice_unavailable: the practice's connection
// is failing). Nothing was made, so, as after a server error, the claim is forgotten and a
// retry with the same key runs again rather than replaying the refusal for the key's lifetime.
func passingRefusal(cw *capture) bool {
	if cw.status != http.StatusConflict || !strings.HasPrefix(cw.Header().Get("Content-Type"), "application/problem+json") {
		return false
	}
	var p struct {
		Code string `json:"code"`
	}
	return json.Unmarshal(cw.body.Bytes(), &p) == nil && p.Code == string(booking.CodePracticeUnavailable)
}
