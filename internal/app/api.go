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
