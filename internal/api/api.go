package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"herolink/internal/api/apikey"
	"herolink/internal/booking"
	"herolink/internal/store"
)

// Booking is the booking core as the API calls it; *booking.Service satisfies it.
type Booking interface {
	AppointmentTypes(ctx context.Context, group string) ([]booking.AppointmentType, error)
	Locations(ctx context.Context, group string) ([]booking.Location, error)
	Practitioners(ctx context.Context, group string) ([]booking.Practitioner, error)
	Slots(ctx context.Context, group string, q booking.SlotQuery) (booking.SlotPage, error)
	// SlotsEncoded is Slots encoded by encode, kept while it stays true.
	SlotsEncoded(ctx context.Context, group string, q booking.SlotQuery, encode func(booking.SlotPage) []byte) ([]byte, error)
	Slot(ctx context.Context, group, id string) (booking.Slot, error)
	Reserve(ctx context.Context, group, owner string, r booking.ReserveRequest) (booking.Appointment, error)
	UpdateHold(ctx context.Context, group, id string, r booking.ReserveRequest) (booking.Appointment, error)
	Book(ctx context.Context, group, id string, p booking.PatientInput) (booking.Appointment, error)
	Appointment(ctx context.Context, group, id string) (booking.Appointment, error)
	Cancel(ctx context.Context, group, id string, c booking.CancelRequest) (booking.Appointment, error)
	Reschedule(ctx context.Context, group, id string, r booking.ReserveRequest) (booking.Appointment, error)
	RegisterPatient(ctx context.Context, group string, p booking.PatientInput) (booking.Patient, error)
	Patient(ctx context.Context, group, id string) (booking.Patient, error)
	PatientLinkCheck(ctx context.Context, group, id string, practiceID int64) (booking.LinkCheck, error)
}

var _ Booking = (*booking.Service)(nil)

// Config is what the partner API needs. Zero values take the documented defaults.
type Config struct {
	Keys    *apikey.Service
	Booking Booking
	// Webhooks serves /v1/webhooks; the routes answer 404 when nil.
	Webhooks Webhooks
	// BookingLinks serves /v1/booking_links; the routes answer 404 when nil.
	BookingLinks BookingLinks
	Store        *store.Store // keeps Idempotency-Key answers
	Log          *slog.Logger
	// RateLimit is each API key's sustained rate in requests per second (20 if zero) and
	// Burst how many it may send at once (40 if zero).
	RateLimit rate.Limit
	Burst     int
	// LookupRateLimit and LookupBurst limit each partner's patient link checks (GET
	// /v1/patients/{id}/ehr/candidates), which search a practice's register: one every 10 s
	// and 10 at once if zero, on top of the general limit.
	LookupRateLimit rate.Limit
	LookupBurst     int
	// IdempotencyTTL is how long an answer is kept for replay (24 hours if zero) and
	// IdempotencyLease how long a first request may take before a retry may take over (1
	// minute if zero).
	IdempotencyTTL   time.Duration
	IdempotencyLease time.Duration
	Now              func() time.Time // the clock for rate limits (tests); time.Now if nil

	// crashAfterOperation, when it answers true, stops an idempotent request right after its
	// operation ran and before its answer is kept: what a kill at that moment leaves (tests).
	crashAfterOperation func() bool
}

type server struct {
	cfg     Config
	log     *slog.Logger
	limiter *limiter
	lookups *limiter // patient link checks, per partner
}

// call is what a request carries once it passed the gate: the key, its practice group, the
// body read.
type call struct {
	key   apikey.Key
	group string
	body  []byte
}

// op is one method of one route.
type op struct {
	scope string // the scope the key needs
	h     func(http.ResponseWriter, *http.Request, *call) error
	// answer answers, from what it made (ref), an operation that committed but whose answer
	// was never kept (the process died in between): a retry with its Idempotency-Key gets
	// this instead of running the operation again. Set for every POST that changes anything.
	answer func(w http.ResponseWriter, r *http.Request, c *call, ref string) error
	// secret marks an answer holding a secret shown once: it is not kept for Idempotency-Key.
	secret bool
}

// New builds the handler for /v1/ and /openapi.json.
func New(cfg Config) http.Handler {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 20
	}
	if cfg.Burst == 0 {
		cfg.Burst = 40
	}
	if cfg.LookupRateLimit == 0 {
		cfg.LookupRateLimit = 0.1
	}
	if cfg.LookupBurst == 0 {
		cfg.LookupBurst = 10
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.IdempotencyLease <= 0 {
		cfg.IdempotencyLease = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, log: cfg.Log, limiter: newLimiter(cfg.RateLimit, cfg.Burst, cfg.Now),
		lookups: newLimiter(cfg.LookupRateLimit, cfg.LookupBurst, cfg.Now)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	route := func(pattern string, ops map[string]op) { mux.Handle(pattern, s.dispatch(ops)) }
	get := func(h func(http.ResponseWriter, *http.Request, *call) error) map[string]op {
		return map[string]op{http.MethodGet: {scope: apikey.ScopeBooking, h: h}}
	}
	with := func(method string, h func(http.ResponseWriter, *http.Request, *call) error) map[string]op {
		return map[string]op{method: {scope: apikey.ScopeBooking, h: h}}
	}

	mux.HandleFunc("/openapi.json", serveOpenAPI)
	route("/v1/appointment_types", get(s.appointmentTypes))
	route("/v1/locations", get(s.locations))
	route("/v1/practitioners", get(s.practitioners))
	route("/v1/slots", get(s.slots))
	route("/v1/slots/{id}", get(s.slot))
	committed := func(h func(http.ResponseWriter, *http.Request, *call) error,
		answer func(http.ResponseWriter, *http.Request, *call, string) error) map[string]op {
		return map[string]op{http.MethodPost: {scope: apikey.ScopeBooking, h: h, answer: answer}}
	}
	route("/v1/appointments", committed(s.reserve, s.answerAppointment(http.StatusCreated, true)))
	route("/v1/appointments/{id}", map[string]op{
		http.MethodGet: {scope: apikey.ScopeBooking, h: s.appointment},
		http.MethodPut: {scope: apikey.ScopeBooking, h: s.updateHold},
	})
	route("/v1/appointments/{id}/book", committed(s.book, s.answerAppointment(http.StatusAccepted, false)))
	route("/v1/appointments/{id}/cancel", with(http.MethodPatch, s.cancel))
	route("/v1/appointments/{id}/reschedule", committed(s.reschedule, s.answerAppointment(http.StatusAccepted, true)))
	route("/v1/patients/register", committed(s.registerPatient, s.answerPatient))
	route("/v1/patients/{id}", get(s.patient))
	route("/v1/patients/{id}/ehr/candidates", get(s.candidates))
	if cfg.Webhooks != nil {
		s.webhookRoutes(route)
	}
	if cfg.BookingLinks != nil {
		s.bookingLinkRoutes(route)
	}
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		apiHeaders(w)
		writeProblem(w, unknownRoute(r))
	})
	return frontDoor(mux)
}

func apiHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// dispatch serves one route: the method, then the gate (credentials, rate, scope), the body,
// Idempotency-Key on POST, and the handler; any error becomes a problem.
func (s *server) dispatch(ops map[string]op) http.Handler {
	var methods []string
	for m := range ops {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	allow := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHeaders(w)
		o, ok := ops[r.Method]
		if !ok {
			writeProblem(w, problem(http.StatusMethodNotAllowed, codeMethodNotAllowed,
				r.Method+" is not allowed here; use "+allow+".").with("Allow", allow))
			return
		}
		// No id herolink makes is that long, not UTF-8 or holding a control character
		// (PostgreSQL could not even be asked about one with a NUL).
		if id := r.PathValue("id"); len(id) > maxIDLength || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
			writeProblem(w, problem(http.StatusNotFound, codeNotFound, "There is nothing with this id."))
			return
		}
		c, p := s.gate(r, o.scope)
		if p != nil {
			writeProblem(w, p)
			return
		}
		// Every booking call acts for the key's partner only: another partner's appointments
		// and patients in the same practice group are not found.
		r = r.WithContext(booking.WithOwner(r.Context(), c.key.Owner))
		if r.Method != http.MethodGet {
			// No operation that changes anything takes a query parameter: one sent is a
			// mistake (a filter meant for a GET), refused before anything is done.
			if p = noQuery(r); p != nil {
				writeProblem(w, p)
				return
			}
			if c.body, p = readBody(w, r); p != nil {
				writeProblem(w, p)
				return
			}
		}
		// A key sent empty or twice is a key, and refused: taking it as absent would run the
		// request without the once-only promise its sender asked for.
		// An answer carrying a secret (a webhook's) is never stored against a key.
		if r.Method == http.MethodPost && len(r.Header.Values(idempotencyHeader)) > 0 && !o.secret {
			s.idempotent(w, r, c, o)
			return
		}
		s.run(w, r, c, o)
	})
}

const maxIDLength = 100

func (s *server) run(w http.ResponseWriter, r *http.Request, c *call, o op) {
	if err := o.h(w, r, c); err != nil {
		s.fail(w, r, err)
	}
}

// fail answers an error: a problem as it is, a booking refusal mapped, anything else a 500
// that says nothing (and is logged without the key or patient data: errors never hold them).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if errors.As(err, &p) {
		writeProblem(w, p)
		return
	}
	if errors.Is(err, store.ErrIdempotencyClaimLost) {
		writeProblem(w, problem(http.StatusConflict, codeIdempotencyInProgress,
			"Another request with this Idempotency-Key made this change first. Retry to get its answer.").with("Retry-After", "1"))
		return
	}
	if p = fromBooking(err); p != nil {
		writeProblem(w, p)
		return
	}
	if p = fromMatching(err); p != nil {
		writeProblem(w, p)
		return
	}
	s.log.Error("partner API request failed", "method", r.Method, "route", r.Pattern, "err", err)
	writeProblem(w, problem(http.StatusInternalServerError, codeInternal,
		"Something went wrong on our side. Try again later; if it keeps happening, contact herolink support."))
}
