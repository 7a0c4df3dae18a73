package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
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
// answer is not kept, so the request can be retried with the same key.
func (s *server) idempotent(w http.ResponseWriter, r *http.Request, c *call, o op) {
	key := r.Header.Get(idempotencyHeader)
	if !validIdempotencyKey(key) {
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
		cw := &capture{ResponseWriter: w}
		s.run(cw, r, c, o)
		// The answer is kept even if the client has gone: its retry must find it.
		ctx := context.WithoutCancel(ctx)
		if cw.status >= 500 || cw.status == 0 {
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
