package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Server serves a World over HTTP: the Partner API, the admin JSON API and the HTML pages
// along the setup guide's paths.
type Server struct {
	world *World
	log   *slog.Logger
	mux   *http.ServeMux
}

// NewServer builds the HTTP surface of a World.
func NewServer(w *World, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{world: w, log: log, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /partnerapi/v1/{method}", s.servePartnerAPI)
	s.routeAdmin()
	s.routePages()
	return s
}

// maxRequestBytes bounds any request body, whatever the route (each surface bounds its own
// below this: the Partner API and the admin API 1 MiB, page forms less).
const maxRequestBytes = 1<<20 + 1<<10

func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(rw, r.Body, maxRequestBytes)
	if !s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.mux.ServeHTTP(rw, r)
		return
	}
	// emis-sandbox -v: one line per request. The path only: bodies carry passwords, and a
	// query may carry a patient's details.
	start := time.Now()
	sw := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
	s.mux.ServeHTTP(sw, r)
	s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "ms", time.Since(start).Milliseconds())
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// HTTPServer is how to serve the sandbox: a client gets 10 s to send its headers and 30 s for
// the whole request, so one that stops sending mid-body does not hold a connection for ever.
// There is no write timeout: injected stalls (faults.go) answer late on purpose.
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// World is the world this server serves.
func (s *Server) World() *World { return s.world }

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiError is the admin API's error body.
type apiError struct {
	Error   string `json:"error"`
	Outcome int    `json:"outcome,omitempty"`
}

func writeError(rw http.ResponseWriter, err error) {
	var ve *ValidationError
	var ce *ConflictError
	var oe *OutcomeError
	switch {
	case errors.As(err, &ve):
		writeJSON(rw, http.StatusUnprocessableEntity, apiError{Error: ve.Msg})
	case errors.As(err, &ce):
		writeJSON(rw, http.StatusConflict, apiError{Error: ce.Msg})
	case errors.As(err, &oe):
		writeJSON(rw, http.StatusConflict, apiError{Error: oe.Msg, Outcome: int(oe.Outcome)})
	case errors.Is(err, ErrNotFound):
		writeJSON(rw, http.StatusNotFound, apiError{Error: err.Error()})
	default:
		writeJSON(rw, http.StatusInternalServerError, apiError{Error: err.Error()})
	}
}

// readJSON decodes a request body strictly: unknown fields and trailing data are errors.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("request body is not valid JSON for this route: %v", err)
	}
	if dec.More() {
		return invalid("request body has data after the JSON object")
	}
	return nil
}

// orgOf resolves {cdb} of the path.
func (s *Server) orgOf(r *http.Request) (*Org, error) {
	cdb, err := strconv.Atoi(r.PathValue("cdb"))
	if err != nil {
		return nil, fmt.Errorf("organisation %q: %w", r.PathValue("cdb"), ErrNotFound)
	}
	return s.world.Org(cdb)
}

func pathInt64(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", name, r.PathValue(name), ErrNotFound)
	}
	return v, nil
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
