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

func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(rw, r) }

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
