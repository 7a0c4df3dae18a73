package app

import (
	"net/http"

	"golang.org/x/time/rate"

	"herolink/internal/api"
	"herolink/internal/api/apikey"
	"herolink/internal/store"
)

// partnerAPI is the handler of /v1/ and /openapi.json. It shares the key service with the
// admin pages, so a key revoked or rotated there stops at once here.
func partnerAPI(cfg Config, st *store.Store, keys *apikey.Service, bookings api.Booking, hooks api.Webhooks) http.Handler {
	return api.New(api.Config{Keys: keys, Booking: bookings, Webhooks: hooks, Store: st, Log: cfg.Log.With("component", "api"),
		RateLimit: rate.Limit(cfg.APIRateLimit), Burst: cfg.APIBurst})
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
