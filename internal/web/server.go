package web

import (
	"context"
	"herolink/internal/booking"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/bookinglink"
	"herolink/internal/mapping"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/webhook"
)

// Config is what the pages need.
type Config struct {
	Store         *store.Store
	Practices     *practice.Service
	Mapping       *mapping.Service    // nil: one is built over Store and Practices (tests)
	Explain       *slotsync.Explainer // "why can't I see this slot?"; nil: the page only asks
	Sessions      *staff.Sessions
	Booking       *booking.Service     // nil: the bookings page says bookings are not enabled
	APIKeys       *apikey.Service      // the partner API's keys; nil: one over Store (tests)
	Webhooks      *webhook.Service     // resend from the webhooks page; nil: the page lists only
	BookingLinks  *bookinglink.Service // patient booking links (/book/{token}); nil: those pages say booking online is not available
	Log           *slog.Logger
	SecureCookies bool            // mark the session cookie Secure (serve over HTTPS)
	SandboxURL    string          // the EMIS sandbox's pages, linked from the form in demos; "" in production
	SignIns       *staff.Throttle // failed sign-ins per account and address; nil: the defaults
}

type server struct {
	cfg     Config
	log     *slog.Logger
	pages   *pages
	pending *pendingForms
	// failedSignInDelay is added to every refused sign-in, on top of the password hash's cost.
	failedSignInDelay time.Duration
	signins           *staff.Throttle
}

// New builds the handler for /admin, /healthz and /readyz.
func New(cfg Config) http.Handler {
	s := &server{cfg: cfg, log: cfg.Log, pages: mustParsePages(), failedSignInDelay: 150 * time.Millisecond,
		pending: newPendingForms(pendingTTL, pendingMax, pendingPerSession)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.signins = cfg.SignIns; s.signins == nil {
		// Counted in the database: every instance sees the same locks, and a restart forgets
		// nothing.
		s.signins = &staff.Throttle{Shared: cfg.Store}
	}
	if s.cfg.APIKeys == nil {
		s.cfg.APIKeys = &apikey.Service{Store: cfg.Store, Log: s.log}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { text(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /admin/assets/", assetHandler())

	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.login)
	mux.HandleFunc("POST /admin/logout", s.logout)

	mux.Handle("GET /admin", http.RedirectHandler("/admin/", http.StatusSeeOther))
	mux.Handle("GET /admin/{$}", s.signedIn(s.overview))
	mux.Handle("GET /admin/practices/{id}", s.signedIn(s.practicePage))
	mux.Handle("POST /admin/practices/{id}/check", s.signedIn(s.checkNow))
	mux.Handle("GET /admin/practices/{id}/diary", s.practiceForm(s.diaryPage))

	// Sync setup (mapping.go): the page and its forms...
	mux.Handle("GET /admin/practices/{id}/mapping", s.practiceForm(s.mappingPage))
	mux.Handle("GET /admin/practices/{id}/why", s.practiceForm(s.whyPage))
	mux.Handle("GET /admin/practices/{id}/mapping/readiness", s.practiceForm(s.readinessPanel))
	mux.Handle("POST /admin/practices/{id}/mapping/refresh", s.negotiated(s.refreshJSON, s.formRefresh))
	mux.Handle("POST /admin/practices/{id}/mapping/import", s.negotiated(s.importJSON, s.formImport))
	mux.Handle("POST /admin/practices/{id}/mapping/slot-types/{typeId}", s.practiceForm(s.formSetFeature))
	mux.Handle("POST /admin/practices/{id}/mapping/appointment-types/{atid}", s.practiceForm(s.formUpdateAppointmentType))
	// Practitioners and locations, forms and JSON (mapping_records.go).
	for _, rt := range recordRoutes {
		s.routeRecords(mux, rt)
	}
	// ...and the rest in JSON.
	mux.Handle("GET /admin/practices/{id}/slot-types", s.practiceJSON(s.listSlotTypesJSON))
	mux.Handle("PUT /admin/practices/{id}/slot-types/{typeId}/feature", s.practiceJSON(s.setFeatureJSON))
	mux.Handle("GET /admin/practices/{id}/appointment-types", s.practiceJSON(s.listAppointmentTypesJSON))
	mux.Handle("GET /admin/practices/{id}/appointment-types/{atid}", s.practiceJSON(s.appointmentTypeJSON))
	mux.Handle("PATCH /admin/practices/{id}/appointment-types/{atid}", s.practiceJSON(s.updateAppointmentTypeJSON))
	mux.Handle("GET /admin/practices/{id}/readiness", s.practiceJSON(s.readinessJSON))
	mux.Handle("GET /admin/practices/{id}/bookings", s.practiceForm(s.bookingsPage))
	mux.Handle("POST /admin/practices/{id}/bookings/policy", s.practiceForm(s.formBookingPolicy))
	mux.Handle("POST /admin/practices/{id}/bookings/{aid}/link", s.practiceForm(s.formLinkPlaceholder))
	mux.Handle("POST /admin/practices/{id}/bookings/{aid}/cancel", s.practiceForm(s.formStaffCancel))
	mux.Handle("GET /admin/practices/{id}/placeholders", s.placeholderJSON(s.listPlaceholdersJSON))
	mux.Handle("POST /admin/practices/{id}/placeholders/{aid}/link", s.placeholderJSON(s.linkPlaceholderJSON))
	mux.Handle("POST /admin/practices/{id}/placeholders/{aid}/booked-in-emis", s.placeholderJSON(s.bookedInEMISJSON))
	mux.Handle("POST /admin/practices/{id}/placeholders/{aid}/cancel", s.placeholderJSON(s.cancelPlaceholderJSON))
	mux.Handle("PUT /admin/practices/{id}/placeholders/threshold", s.placeholderJSON(s.placeholderThresholdJSON))
	jsonMethodsOnly(mux, adminJSONMethods) // other methods on those: 405 in problem+json (adminjson.go)
	mux.Handle("POST /admin/practices/{id}/bookings/{aid}/booked-in-emis", s.practiceForm(s.formBookedInEMIS))
	mux.Handle("POST /admin/practices/{id}/bookings/threshold", s.practiceForm(s.formPlaceholderThreshold))
	mux.Handle("GET /admin/practices/{id}/api-keys", s.practiceForm(s.apiKeysPage))
	mux.Handle("POST /admin/practices/{id}/api-keys", s.practiceForm(s.formCreateAPIKey))
	mux.Handle("POST /admin/practices/{id}/api-keys/{kid}/rotate", s.practiceForm(s.formRotateAPIKey))
	mux.Handle("POST /admin/practices/{id}/api-keys/{kid}/revoke", s.practiceForm(s.formRevokeAPIKey))
	mux.Handle("GET /admin/practices/{id}/webhooks", s.practiceForm(s.webhooksPage))
	mux.Handle("POST /admin/practices/{id}/webhooks/deliveries/{did}/resend", s.practiceForm(s.formResendWebhook))
	s.bookingLinkRoutes(mux)
	mux.Handle("GET /admin/connect", s.signedIn(s.connectPage))
	mux.Handle("POST /admin/connect", s.signedIn(s.connect))
	mux.Handle("/admin/", s.signedIn(func(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
		s.errorPage(w, r, &u, http.StatusNotFound, "Page not found", "There is no page at this address.")
	}))

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"This form was sent from another website, so herolink refused it. Open herolink yourself and submit the form again.")
	}))
	return securityHeaders(csrf.Handler(mux))
}

// csp allows this origin's scripts and styles only: no inline script or style, no fonts from
// elsewhere, no framing, and forms post only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, assetPrefix) {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("readiness: database does not answer", "err", err)
		text(w, http.StatusServiceUnavailable, "database unavailable")
		return
	}
	text(w, http.StatusOK, "ok")
}

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body + "\n"))
}
