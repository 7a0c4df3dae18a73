package booking

import (
	"errors"
	"fmt"
)

// Code is a stable machine code for a refusal; the partner API puts it in problem+json.
type Code string

// The refusals callers branch on.
const (
	CodeNotFound           Code = "not_found"         // no such slot, appointment or patient in this practice group
	CodeInvalid            Code = "validation_failed" // the request is malformed; Fields says where
	CodeSlotUnavailable    Code = "slot_unavailable"  // booked, held, blocked, in the past or gone
	CodeHoldExpired        Code = "hold_expired"      // the hold ran out before confirmation
	CodeInvalidState       Code = "invalid_state"     // e.g. editing a confirmed booking
	CodeCancellationWindow Code = "cancellation_window_closed"
	CodePracticeNotReady   Code = "practice_not_ready" // not connected, or no unregistered slot type
)

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// Error is a refusal with a code, a human message and, for validation, the fields at fault.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string { return fmt.Sprintf("booking: %s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, &Error{Code: c}) match by code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

func refuse(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the refusal's code, or "" for an unexpected error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
