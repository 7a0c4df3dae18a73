package api

import (
	"errors"
	"net/http"

	"herolink/internal/api/apikey"
)

// The credentials every /v1 request sends.
const (
	headerAPIKey = "x-api-key"
	headerGroup  = "x-practice-group-id"
)

const wwwAuthenticate = `ApiKey header="x-api-key"`

// gate lets a request through once its credentials hold: both headers present (401 naming the
// one missing), a working key (401), the key's own practice group (403), within the key's rate
// (429) and holding the scope (403).
func (s *server) gate(r *http.Request, scope string) (*call, *Problem) {
	secret, group := r.Header.Get(headerAPIKey), r.Header.Get(headerGroup)
	switch {
	case secret == "":
		return nil, problem(http.StatusUnauthorized, codeMissingCredentials,
			"Send your API key in the x-api-key header.").with("WWW-Authenticate", wwwAuthenticate)
	case group == "":
		return nil, problem(http.StatusUnauthorized, codeMissingCredentials,
			"Send your practice group id in the x-practice-group-id header.").with("WWW-Authenticate", wwwAuthenticate)
	}
	key, err := s.cfg.Keys.Authenticate(r.Context(), secret)
	if errors.Is(err, apikey.ErrUnknownKey) {
		return nil, problem(http.StatusUnauthorized, codeInvalidAPIKey,
			"This API key is not valid: it is mistyped, or it was revoked or rotated.").with("WWW-Authenticate", wwwAuthenticate)
	}
	if err != nil {
		s.log.Error("partner API: look up API key", "err", err)
		return nil, problem(http.StatusInternalServerError, codeInternal,
			"Something went wrong on our side. Try again later; if it keeps happening, contact herolink support.")
	}
	if key.PracticeGroupID != group {
		return nil, problem(http.StatusForbidden, codeGroupForbidden,
			"This API key is not for the practice group in x-practice-group-id.")
	}
	if ok, wait := s.limiter.allow(key.ID); !ok {
		return nil, problem(http.StatusTooManyRequests, codeRateLimited,
			"This API key sent too many requests; wait as Retry-After says.").with("Retry-After", retryAfter(wait))
	}
	if !key.Has(scope) {
		return nil, problem(http.StatusForbidden, codeInsufficientScope,
			"This API key does not have the "+scope+" scope this request needs.")
	}
	return &call{key: key, group: group}, nil
}
