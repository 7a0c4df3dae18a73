package emis

import (
	"context"
	"errors"
	"fmt"
)

// Method names of the Partner API.
const (
	MethodInitializeWithID            = "InitializeWithID"
	MethodLogon                       = "Logon"
	MethodLogout                      = "Logout"
	MethodGetOrganisation             = "GetOrganisation"
	MethodGetCurrentUser              = "GetCurrentUser"
	MethodGetAppointmentConfiguration = "GetAppointmentConfiguration"
	MethodGetAppointmentSessions      = "GetAppointmentSessions"
	MethodGetSlotsForSession          = "GetSlotsForSession"
	MethodBookAppointment             = "BookAppointment"
	MethodCancelAppointment           = "CancelAppointment"
	MethodSetAppointmentStatus        = "SetAppointmentStatus"
	MethodSetSlotType                 = "SetSlotType"
	MethodGetMatchedPatient           = "GetMatchedPatient"
	MethodGetPatientAppointments      = "GetPatientAppointments"
	MethodGetPatientDemographics      = "GetPatientDemographics"
)

// Methods lists every Partner API method, in the order of the protocol table.
var Methods = []string{
	MethodInitializeWithID, MethodLogon, MethodLogout, MethodGetOrganisation, MethodGetCurrentUser,
	MethodGetAppointmentConfiguration, MethodGetAppointmentSessions, MethodGetSlotsForSession,
	MethodBookAppointment, MethodCancelAppointment, MethodSetAppointmentStatus, MethodSetSlotType,
	MethodGetMatchedPatient, MethodGetPatientAppointments, MethodGetPatientDemographics,
}

// Outcome is the integer every Partner API call answers. Its meaning depends on the method:
// 2 is "expired" for Logon, "organisation not found" for InitializeWithID and "access denied"
// for data calls.
type Outcome int

// Outcome codes. The names follow the meaning for data calls; logon-specific meanings have their
// own names with the same values.
const (
	OutcomeSuccess           Outcome = 1
	OutcomeTechnicalError    Outcome = -1
	OutcomeNotLoggedOn       Outcome = -2
	OutcomeAccessDenied      Outcome = 2
	OutcomeNothingToReturn   Outcome = 3
	OutcomeNotFound          Outcome = 5
	OutcomeSlotBooked        Outcome = 6
	OutcomePatientNotFound   Outcome = 7
	OutcomeSlotNotBookable   Outcome = 8
	OutcomeSlotNotBooked     Outcome = 9
	OutcomeOrgNotFound       Outcome = 2 // InitializeWithID
	OutcomeUnmatchedSupplier Outcome = 3 // InitializeWithID
	OutcomeLogonExpired      Outcome = 2 // Logon
	OutcomeLogonUnsuccessful Outcome = 3 // Logon
	OutcomeLogonNoAccess     Outcome = 4 // Logon
)

// Sentinel errors that an *OutcomeError matches with errors.Is, so callers branch on meaning
// rather than on method-dependent numbers.
var (
	ErrTechnical         = errors.New("emis: technical error")
	ErrNotLoggedOn       = errors.New("emis: not logged on")
	ErrOrgNotFound       = errors.New("emis: organisation not found")
	ErrUnmatchedSupplier = errors.New("emis: unmatched supplier id")
	ErrLogonExpired      = errors.New("emis: logon expired")
	ErrLogonUnsuccessful = errors.New("emis: logon unsuccessful")
	ErrNoProductAccess   = errors.New("emis: login has no access to this product")
	ErrAccessDenied      = errors.New("emis: access denied")
	ErrNothingToReturn   = errors.New("emis: nothing to return")
	ErrNotFound          = errors.New("emis: not found")
	ErrSlotBooked        = errors.New("emis: slot already booked")
	ErrPatientNotFound   = errors.New("emis: patient not found")
	ErrSlotNotBookable   = errors.New("emis: slot not bookable")
	ErrSlotNotBooked     = errors.New("emis: slot not booked")
	ErrUnknownOutcome    = errors.New("emis: unknown outcome")
)

// OutcomeError is a Partner API answer whose outcome is not success. Text is EMIS's own error
// text: a hint only, since a real EMIS may be less precise than the sandbox.
type OutcomeError struct {
	Method  string
	Outcome Outcome
	Text    string
}

func (e *OutcomeError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("emis: %s answered outcome %d (%s)", e.Method, e.Outcome, e.Meaning())
	}
	return fmt.Sprintf("emis: %s answered outcome %d (%s): %s", e.Method, e.Outcome, e.Meaning(), e.Text)
}

// Meaning says in words what the outcome means for this method.
func (e *OutcomeError) Meaning() string {
	if err := e.sentinel(); err != nil {
		return err.Error()[len("emis: "):]
	}
	return "unknown outcome"
}

// Is lets errors.Is(err, ErrSlotBooked) and friends work on an *OutcomeError.
func (e *OutcomeError) Is(target error) bool {
	s := e.sentinel()
	return s != nil && s == target
}

func (e *OutcomeError) sentinel() error {
	return Classify(e.Method, e.Outcome)
}

// Classify maps a method's outcome to its sentinel error; nil for success.
func Classify(method string, o Outcome) error {
	switch o {
	case OutcomeSuccess:
		return nil
	case OutcomeTechnicalError:
		return ErrTechnical
	case OutcomeNotLoggedOn:
		return ErrNotLoggedOn
	}
	switch method {
	case MethodInitializeWithID:
		switch o {
		case OutcomeOrgNotFound:
			return ErrOrgNotFound
		case OutcomeUnmatchedSupplier:
			return ErrUnmatchedSupplier
		}
	case MethodLogon:
		switch o {
		case OutcomeLogonExpired:
			return ErrLogonExpired
		case OutcomeLogonUnsuccessful:
			return ErrLogonUnsuccessful
		case OutcomeLogonNoAccess:
			return ErrNoProductAccess
		}
	default:
		switch o {
		case OutcomeAccessDenied:
			return ErrAccessDenied
		case OutcomeNothingToReturn:
			return ErrNothingToReturn
		case OutcomeNotFound:
			return ErrNotFound
		case OutcomeSlotBooked:
			return ErrSlotBooked
		case OutcomePatientNotFound:
			return ErrPatientNotFound
		case OutcomeSlotNotBookable:
			return ErrSlotNotBookable
		case OutcomeSlotNotBooked:
			return ErrSlotNotBooked
		}
	}
	return ErrUnknownOutcome
}

// TransportError is a call that got no envelope: a connection failure, a timeout, an HTTP status
// other than 200, or a body that is not an envelope. Whether a write was applied is unknown.
type TransportError struct {
	Method     string
	StatusCode int // 0 when no HTTP answer arrived
	Err        error
}

func (e *TransportError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("emis: %s: HTTP %d: %v", e.Method, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("emis: %s: %v", e.Method, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time, in which case a write may or may not have
// landed and must be read back before it is retried.
func (e *TransportError) Timeout() bool {
	var t interface{ Timeout() bool }
	if errors.As(e.Err, &t) && t.Timeout() {
		return true
	}
	return errors.Is(e.Err, context.DeadlineExceeded)
}
