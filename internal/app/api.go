package app

import (
	"net/http"
	"strings"

	"golang.org/x/time/rate"

	"herolink/internal/api"
	"herolink/internal/api/apikey"
	"herolink/internal/store"
)

// partnerAPI is the handler of /v1/ and /openapi.json. It shares the key service with the
// admin pages, so a key revoked or rotated there stops at once here.
func partnerAPI(cfg Config, st *store.Store, keys *apikey.Service, bookings api.Booking, hooks api.Webhooks, links api.BookingLinks) http.Handler {
	return api.New(api.Config{Keys: keys, Booking: bookings, Webhooks: hooks, BookingLinks: links, Store: st, Log: cfg.Log.With("component", "api"),
		RateLimit: rate.Limit(cfg.APIRateLimit), Burst: cfg.APIBurst})
}

// publicURL is where patients reach herolink, for booking link URLs: Config.PublicURL, or the
// listen address over plain HTTP (a demo's).
func publicURL(cfg Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	host := cfg.Addr
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	return "http://" + host
}

// partnerFirst hands every request under /v1 to the partner API as it came, before the mux:
// the mux would answer /v1, and paths such as /v1//slots or /v1/../admin, with a redirect whose
// body is an HTML page, where a partner's client needs the API's problem+json 404.
func partnerFirst(partner, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api.UnderV1(r.URL.EscapedPath()) {
			partner.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}
