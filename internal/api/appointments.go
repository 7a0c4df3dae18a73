package api

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"herolink/internal/booking"
)

// Limits on free text, as GP Connect has them.
const (
	maxDescription = 100
	maxComment     = 500
	maxReason      = 500
)

type failureJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type appointmentJSON struct {
	ID                string       `json:"id"`
	Reference         string       `json:"reference"`
	State             string       `json:"state"`
	PracticeID        string       `json:"practice_id"`
	SlotID            string       `json:"slot_id"`
	Start             string       `json:"start"`
	End               string       `json:"end"`
	AppointmentTypeID *string      `json:"appointment_type_id"`
	LocationID        *string      `json:"location_id"`
	PractitionerIDs   []string     `json:"practitioner_ids"`
	ReservedUntil     *string      `json:"reserved_until"`
	Description       string       `json:"description"`
	Comment           string       `json:"comment"`
	PatientID         *string      `json:"patient_id"`
	EMISReference     *string      `json:"emis_reference"`
	Failure           *failureJSON `json:"failure"`
	PlaceholderReason *string      `json:"placeholder_reason"`
	Alternatives      []string     `json:"alternatives"`
	RescheduledFrom   *string      `json:"rescheduled_from"`
	RescheduledTo     *string      `json:"rescheduled_to"`
	CancelledBy       *string      `json:"cancelled_by"`
	CancelReason      *string      `json:"cancel_reason"`
	CreatedAt         string       `json:"created_at"`
	UpdatedAt         string       `json:"updated_at"`
}

// placeholderReasons are the codes a placeholder's partner may be told: none names another record.
var placeholderReasons = map[string]bool{booking.LinkNoUniqueMatch: true, booking.LinkDetailsIncomplete: true,
	booking.LinkPracticeUnavailable: true, booking.PlaceholderLinkedRecordChanged: true}

// partnerPlaceholderReason passes on only a code this layer knows to be safe, whatever the
// booking core says: a matching rule's own name ("nhs_number_dob_mismatch") would tell a partner
// what the register holds.
func partnerPlaceholderReason(r string) string {
	if r == "" || placeholderReasons[r] {
		return r
	}
	return booking.LinkNoUniqueMatch
}

func toAppointmentJSON(a booking.Appointment) appointmentJSON {
	out := appointmentJSON{ID: a.ID, Reference: a.Reference, State: string(a.State), PracticeID: practiceID(a.PracticeID),
		SlotID: a.SlotID, Start: mustTime(a.StartAt), End: mustTime(a.EndAt), AppointmentTypeID: str(a.AppointmentTypeID),
		LocationID: str(a.LocationID), PractitionerIDs: a.PractitionerIDs, ReservedUntil: formatTime(a.ReservedUntil),
		Description: a.Description, Comment: a.Comment, PatientID: str(a.PatientID), EMISReference: str(a.EMISReference),
		PlaceholderReason: str(partnerPlaceholderReason(a.PlaceholderReason)), Alternatives: a.Alternatives, RescheduledFrom: str(a.RescheduledFrom), RescheduledTo: str(a.RescheduledTo),
		CancelledBy: str(a.CancelledBy), CancelReason: str(a.CancelReason), CreatedAt: mustTime(a.CreatedAt),
		UpdatedAt: mustTime(a.UpdatedAt)}
	if out.PractitionerIDs == nil {
		out.PractitionerIDs = []string{}
	}
	if out.Alternatives == nil {
		out.Alternatives = []string{}
	}
	if a.State == booking.StateFailed || a.FailureCode != "" {
		out.Failure = &failureJSON{Code: a.FailureCode, Message: a.FailureMessage}
	}
	return out
}

// reserveBody is POST /v1/appointments and PUT /v1/appointments/{id}.
type reserveBody struct {
	SlotID            *string `json:"slot_id"`
	AppointmentTypeID *string `json:"appointment_type_id"`
	Description       *string `json:"description"`
	Comment           *string `json:"comment"`
}

// rescheduleBody is POST /v1/appointments/{id}/reschedule.
type rescheduleBody struct {
	SlotID            *string `json:"slot_id"`
	AppointmentTypeID *string `json:"appointment_type_id"`
}

type cancelBody struct {
	Reason *string `json:"reason"`
}

// textField checks an optional free-text field's length in characters.
func textField(fields []FieldProblem, name string, v *string, max int) []FieldProblem {
	if v != nil && utf8.RuneCountInString(*v) > max {
		fields = append(fields, FieldProblem{Field: name, Code: "too_long", Message: name + " must be at most " + strconv.Itoa(max) + " characters"})
	}
	return fields
}

func idField(fields []FieldProblem, name string, v *string, required bool) []FieldProblem {
	switch {
	case v == nil || *v == "":
		if required {
			fields = append(fields, FieldProblem{Field: name, Code: "required", Message: name + " is required"})
		}
	case len(*v) > maxIDLength:
		fields = append(fields, FieldProblem{Field: name, Code: "invalid", Message: name + " is not an id herolink gives"})
	}
	return fields
}

func decodeReserve(data []byte) (booking.ReserveRequest, *Problem) {
	var b reserveBody
	if p := decodeBody(data, &b, false); p != nil {
		return booking.ReserveRequest{}, p
	}
	var fields []FieldProblem
	fields = idField(fields, "slot_id", b.SlotID, true)
	fields = idField(fields, "appointment_type_id", b.AppointmentTypeID, false)
	fields = textField(fields, "description", b.Description, maxDescription)
	fields = textField(fields, "comment", b.Comment, maxComment)
	if len(fields) > 0 {
		return booking.ReserveRequest{}, invalid("The appointment is not valid: see errors.", fields...)
	}
	return booking.ReserveRequest{SlotID: *b.SlotID, AppointmentTypeID: deref(b.AppointmentTypeID),
		Description: deref(b.Description), Comment: deref(b.Comment)}, nil
}

// reserve is POST /v1/appointments: a hold on a slot until reserved_until.
func (s *server) reserve(w http.ResponseWriter, r *http.Request, c *call) error {
	req, p := decodeReserve(c.body)
	if p != nil {
		return p
	}
	a, err := s.cfg.Booking.Reserve(r.Context(), c.group, c.key.Owner, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/appointments/"+a.ID)
	return writeJSON(w, http.StatusCreated, toAppointmentJSON(a))
}

// updateHold is PUT /v1/appointments/{id}: the same body, on a hold not yet confirmed.
func (s *server) updateHold(w http.ResponseWriter, r *http.Request, c *call) error {
	req, p := decodeReserve(c.body)
	if p != nil {
		return p
	}
	a, err := s.cfg.Booking.UpdateHold(r.Context(), c.group, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAppointmentJSON(a))
}

func (s *server) appointment(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	a, err := s.cfg.Booking.Appointment(r.Context(), c.group, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAppointmentJSON(a))
}

// book is POST /v1/appointments/{id}/book: confirms a hold for a patient; EMIS is written
// afterwards, so the answer is 202 with the appointment confirming.
func (s *server) book(w http.ResponseWriter, r *http.Request, c *call) error {
	in, p := decodeBook(c.body)
	if p != nil {
		return p
	}
	a, err := s.cfg.Booking.Book(r.Context(), c.group, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, toAppointmentJSON(a))
}

// cancel is PATCH /v1/appointments/{id}/cancel. Partners are held to the practice's
// cancellation policy (409 cancellation_window_closed).
func (s *server) cancel(w http.ResponseWriter, r *http.Request, c *call) error {
	var b cancelBody
	if p := decodeBody(c.body, &b, true); p != nil {
		return p
	}
	if fields := textField(nil, "reason", b.Reason, maxReason); len(fields) > 0 {
		return invalid("The cancellation is not valid: see errors.", fields...)
	}
	a, err := s.cfg.Booking.Cancel(r.Context(), c.group, r.PathValue("id"),
		booking.CancelRequest{Reason: deref(b.Reason), Actor: "partner:" + c.key.ID})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAppointmentJSON(a))
}

// reschedule is POST /v1/appointments/{id}/reschedule: 202 with the new appointment, whose
// rescheduled_from is the old one.
func (s *server) reschedule(w http.ResponseWriter, r *http.Request, c *call) error {
	var b rescheduleBody
	if p := decodeBody(c.body, &b, false); p != nil {
		return p
	}
	var fields []FieldProblem
	fields = idField(fields, "slot_id", b.SlotID, true)
	fields = idField(fields, "appointment_type_id", b.AppointmentTypeID, false)
	if len(fields) > 0 {
		return invalid("The reschedule is not valid: see errors.", fields...)
	}
	a, err := s.cfg.Booking.Reschedule(r.Context(), c.group, r.PathValue("id"),
		booking.ReserveRequest{SlotID: *b.SlotID, AppointmentTypeID: deref(b.AppointmentTypeID)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/appointments/"+a.ID)
	return writeJSON(w, http.StatusAccepted, toAppointmentJSON(a))
}
