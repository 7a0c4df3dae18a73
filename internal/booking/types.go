package booking

import (
	"time"

	"herolink/internal/matching"
)

// State is where an appointment is in its life. See the state machine in
// internal/store/migrations/0005_booking.sql.
type State string

// The states a partner sees.
const (
	StateReserved    State = "reserved"    // a hold: nobody else can reserve the slot until reserved_until
	StateExpired     State = "expired"     // the hold ran out before it was confirmed
	StateConfirming  State = "confirming"  // confirmed by the partner; being written into EMIS
	StateBooked      State = "booked"      // an EMIS appointment against the matched patient
	StatePlaceholder State = "placeholder" // the time is reserved in EMIS with the unregistered type
	StateFailed      State = "failed"      // EMIS refused (slot taken meanwhile); alternatives offered
	StateCancelled   State = "cancelled"
)

// Live says whether the appointment still holds its slot.
func (s State) Live() bool {
	return s == StateReserved || s == StateConfirming || s == StateBooked || s == StatePlaceholder
}

// Appointment is a hold or a booking as partners see it.
type Appointment struct {
	ID                string
	Reference         string // HL-..., also written into EMIS's notes
	PracticeGroupID   string
	PracticeID        int64
	SlotID            string // the public slot id
	StartAt           time.Time
	EndAt             time.Time
	AppointmentTypeID string // "" when the slot type has no published appointment type
	LocationID        string
	PractitionerIDs   []string
	State             State
	ReservedUntil     time.Time
	Description       string
	Comment           string
	PatientID         string // herolink patient, once confirmed
	EMISReference     string // the EMIS slot (appointment) reference once written
	FailureCode       string // e.g. slot_taken
	FailureMessage    string
	PlaceholderReason string   // for a placeholder: why the patient is not linked (placeholderreason.go), naming no other record
	Alternatives      []string // public slot ids offered after a failure
	RescheduledFrom   string
	RescheduledTo     string
	CancelledBy       string
	CancelReason      string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Slot is a free, bookable slot as partners see it.
type Slot struct {
	ID                string
	PracticeID        int64
	StartAt           time.Time
	EndAt             time.Time
	AppointmentTypeID string
	LocationID        string
	PractitionerIDs   []string
}

// SlotQuery filters GET /v1/slots. From and To are dates (Europe/London) inclusive.
type SlotQuery struct {
	From, To          time.Time
	LocationID        string
	PractitionerID    string
	AppointmentTypeID string
	Cursor            string // opaque, from a previous page
	Limit             int    // 1..500, default 100
}

// SlotPage is one page of slots.
type SlotPage struct {
	Slots      []Slot
	NextCursor string // "" on the last page
}

// AppointmentType, Location and Practitioner are the practice group's published records.
type AppointmentType struct {
	ID              string
	PracticeID      int64
	Name            string
	DurationMinutes int
	Channel         string
}

// Location is a site where appointments happen.
type Location struct {
	ID         string
	PracticeID int64
	Name       string
}

// Practitioner is a clinician whose slots can be booked.
type Practitioner struct {
	ID         string
	PracticeID int64
	Name       string
}

// ReserveRequest asks for a hold (POST /v1/appointments) or edits one (PUT).
type ReserveRequest struct {
	SlotID            string
	AppointmentTypeID string // optional; must match the slot's type when given
	Description       string // at most 100 characters
	Comment           string // at most 500 characters
}

// PatientInput is who the booking is for: a registered herolink patient id, or demographics.
type PatientInput struct {
	PatientID    string
	Demographics matching.Demographics
	Email        string
	Phone        string
}

// Patient is a patient a partner registered.
type Patient struct {
	ID              string
	PracticeGroupID string
	Demographics    matching.Demographics
	Email           string
	Phone           string
	Links           []PatientLink
	CreatedAt       time.Time
}

// PatientLink is the EMIS record a patient is linked to at one practice.
type PatientLink struct {
	PracticeID    int64
	EMISPatientID int64
	Rule          string
	LinkedAt      time.Time
}

// LinkCheck is GET /v1/patients/{id}/ehr/candidates: whether herolink could link the patient
// at one practice. It holds nothing about any EMIS record, so it can never reveal one.
type LinkCheck struct {
	PracticeID int64
	Linked     bool
	Reason     string // when not linked: LinkNoUniqueMatch, LinkDetailsIncomplete or LinkPracticeUnavailable
}

// CancelRequest says who cancels and why. Staff may override the cancellation policy.
type CancelRequest struct {
	Reason string
	Staff  bool
	Actor  string
}
