package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"herolink/internal/booking"
)

// Problem is an RFC 9457 problem detail with herolink's extension members: a stable machine
// code and, for validation, the fields at fault. Every error the API answers is one.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Errors []FieldProblem `json:"errors,omitempty"`

	header http.Header // Allow, Retry-After, WWW-Authenticate
}

// FieldProblem is one input at fault: a body field (dotted path) or a query parameter.
type FieldProblem struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return "api: " + p.Code + ": " + p.Detail }

// The codes this layer answers besides booking's (booking.Code values are used as they are).
const (
	codeMissingCredentials    = "missing_credentials"
	codeInvalidAPIKey         = "invalid_api_key"
	codeGroupForbidden        = "practice_group_forbidden"
	codeInsufficientScope     = "insufficient_scope"
	codeRateLimited           = "rate_limited"
	codeNotFound              = "not_found"
	codeMethodNotAllowed      = "method_not_allowed"
	codeInvalidJSON           = "invalid_json"
	codeUnsupportedMediaType  = "unsupported_media_type"
	codeRequestTooLarge       = "request_too_large"
	codeValidationFailed      = "validation_failed"
	codeInvalidIdempotencyKey = "invalid_idempotency_key"
	codeIdempotencyReused     = "idempotency_key_reused"
	codeIdempotencyInProgress = "idempotency_in_progress"
	codeInternal              = "internal_error"
)

// problemTypeBase prefixes every problem type: a URN, since the types are documented in the
// OpenAPI document rather than at addresses of their own.
const problemTypeBase = "urn:herolink:problem:"

var titles = map[string]string{
	codeMissingCredentials:                 "Missing credentials",
	codeInvalidAPIKey:                      "Invalid API key",
	codeGroupForbidden:                     "Practice group forbidden",
	codeInsufficientScope:                  "Insufficient scope",
	codeRateLimited:                        "Too many requests",
	codeNotFound:                           "Not found",
	codeMethodNotAllowed:                   "Method not allowed",
	codeInvalidJSON:                        "Invalid JSON",
	codeUnsupportedMediaType:               "Unsupported media type",
	codeRequestTooLarge:                    "Request too large",
	codeValidationFailed:                   "Validation failed",
	codeInvalidIdempotencyKey:              "Invalid Idempotency-Key",
	codeIdempotencyReused:                  "Idempotency-Key reused",
	codeIdempotencyInProgress:              "Request in progress",
	codeInternal:                           "Internal server error",
	string(booking.CodeSlotUnavailable):    "Slot unavailable",
	string(booking.CodeHoldExpired):        "Hold expired",
	string(booking.CodeInvalidState):       "Invalid state",
	string(booking.CodeCancellationWindow): "Cancellation window closed",
	string(booking.CodePracticeNotReady):   "Practice not ready",

	string(booking.CodePracticeUnavailable): "Practice unavailable",
}

func problem(status int, code, detail string) *Problem {
	title := titles[code]
	if title == "" {
		title = http.StatusText(status)
	}
	return &Problem{Type: problemTypeBase + code, Title: title, Status: status, Detail: detail, Code: code}
}

func invalid(detail string, fields ...FieldProblem) *Problem {
	p := problem(http.StatusUnprocessableEntity, codeValidationFailed, detail)
	p.Errors = fields
	return p
}

func badJSON(detail string, fields ...FieldProblem) *Problem {
	p := problem(http.StatusBadRequest, codeInvalidJSON, detail)
	p.Errors = fields
	return p
}

func (p *Problem) with(name, value string) *Problem {
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Set(name, value)
	return p
}

func retryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// writeProblem answers p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, v := range p.header {
		w.Header()[k] = v
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// bookingStatus is the HTTP status of each booking refusal. A hold that ran out answers 409,
// not 410: the appointment still exists (GET shows it expired); only the request conflicts with
// its state. A practice that is not ready answers 409 too: it is a state of the practice's set
// up, not an outage, and retrying will not help until staff act.
var bookingStatus = map[booking.Code]int{
	booking.CodeNotFound:           http.StatusNotFound,
	booking.CodeInvalid:            http.StatusUnprocessableEntity,
	booking.CodeSlotUnavailable:    http.StatusConflict,
	booking.CodeHoldExpired:        http.StatusConflict,
	booking.CodeInvalidState:       http.StatusConflict,
	booking.CodeCancellationWindow: http.StatusConflict,
	booking.CodePracticeNotReady:   http.StatusConflict,

	// The practice's connection is failing for credentials or set-up: it cannot take bookings
	// until staff act (a state, like not ready), and the partner is not told why.
	booking.CodePracticeUnavailable: http.StatusConflict,
}

// fromBooking turns a booking refusal into a problem; nil for an unexpected error.
func fromBooking(err error) *Problem {
	var be *booking.Error
	if !errors.As(err, &be) {
		return nil
	}
	status, ok := bookingStatus[be.Code]
	if !ok {
		return nil
	}
	code := string(be.Code)
	if be.Code == booking.CodeNotFound {
		code = codeNotFound
	}
	p := problem(status, code, be.Message)
	for _, f := range be.Fields {
		p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Code: f.Code, Message: f.Message})
	}
	return p
}
