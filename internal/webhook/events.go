package webhook

import (
	"encoding/json"
	"strconv"
	"time"

	"herolink/internal/store"
)

// The webhook event types a partner can subscribe to.
const (
	TypeConfirmed          = "appointment.confirmed"
	TypeBooked             = "appointment.booked"
	TypePlaceholderCreated = "appointment.placeholder_created"
	TypeReconciled         = "appointment.reconciled"
	TypeFailed             = "appointment.failed"
	TypeCancelled          = "appointment.cancelled"
	TypeRescheduled        = "appointment.rescheduled"
	TypePlaceholderOverdue = "appointment.placeholder_overdue"
	TypeConnectionStatus   = "connection.status_changed"
)

// EventTypes lists every type, in the order the API documents them.
var EventTypes = []string{TypeConfirmed, TypeBooked, TypePlaceholderCreated, TypeReconciled, TypeFailed,
	TypeCancelled, TypeRescheduled, TypePlaceholderOverdue, TypeConnectionStatus}

// Where a change was made: by herolink (a partner, staff, the write-back) or in EMIS by the
// practice (seen by the sync).
const (
	SourceHerolink = "herolink"
	SourceEMIS     = "emis"
)

// delivered is what one internal appointment event becomes for partners.
type delivered struct {
	Type   string
	State  string // the appointment's state once the event happened
	Source string
}

// classify maps an internal appointment event (appointment_events.event, detail) to the
// webhook it makes; ok is false for the internal events partners are not sent (reserved,
// hold_moved, link_requested, patient_linked, reschedule_failed, booked_in_emis ...).
// appointment.cancelled_in_emis is not sent either: the write-back records it when herolink's
// own cancellation (already sent as appointment.cancelled) has been written into EMIS; a
// cancellation made by reception arrives as appointment.cancelled with detail "emis".
func classify(event, detail string) (delivered, bool) {
	switch event {
	case "appointment.confirming":
		return delivered{TypeConfirmed, "confirming", SourceHerolink}, true
	case "appointment.confirmed":
		switch detail {
		case "appointment":
			return delivered{TypeBooked, "booked", SourceHerolink}, true
		case "placeholder":
			return delivered{TypePlaceholderCreated, "placeholder", SourceHerolink}, true
		}
	case "appointment.reconciled":
		if detail == "booked_in_emis" {
			return delivered{TypeReconciled, "booked", SourceEMIS}, true
		}
		return delivered{TypeReconciled, "booked", SourceHerolink}, true
	case "appointment.failed":
		return delivered{TypeFailed, "failed", SourceHerolink}, true
	case "appointment.cancelled":
		if detail == "emis" {
			return delivered{TypeCancelled, "cancelled", SourceEMIS}, true
		}
		return delivered{TypeCancelled, "cancelled", SourceHerolink}, true
	case "appointment.rescheduled":
		return delivered{TypeRescheduled, "cancelled", SourceHerolink}, true
	case "appointment.moved_in_emis":
		return delivered{TypeRescheduled, "booked", SourceEMIS}, true
	case "appointment.placeholder_overdue":
		return delivered{TypePlaceholderOverdue, "placeholder", SourceHerolink}, true
	}
	return delivered{}, false
}

// Payload is a thin Standard Webhooks body.
type Payload struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      Data   `json:"data"`
}

// Data carries only what the owning partner already knows: its appointment's id, reference
// and time, the state, where the change was made. Never patient details or EMIS numbers.
type Data struct {
	ID              string `json:"id"`
	PracticeGroupID string `json:"practice_group_id"`
	PracticeID      string `json:"practice_id"`
	State           string `json:"state"`
	Source          string `json:"source"`
	Reference       string `json:"reference,omitempty"`
	Start           string `json:"start,omitempty"`
	RescheduledTo   string `json:"rescheduled_to,omitempty"`
	FailureCode     string `json:"failure_code,omitempty"`
	ReconciledBy    string `json:"reconciled_by,omitempty"`
	PreviousState   string `json:"previous_state,omitempty"`
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// appointmentPayload is the body for one appointment event, or ok false when the event is
// not delivered.
func appointmentPayload(e store.OutboxAppointmentEvent) (typ string, body []byte, ok bool) {
	d, ok := classify(e.Event, e.Detail)
	if !ok {
		return "", nil, false
	}
	data := Data{ID: e.AppointmentID, PracticeGroupID: e.PracticeGroupID, PracticeID: strconv.FormatInt(e.PracticeID, 10),
		State: d.State, Source: d.Source, Reference: e.Reference, Start: stamp(e.StartAt)}
	switch e.Event {
	case "appointment.rescheduled":
		data.RescheduledTo = e.Detail // the new appointment's id: the partner's own
	case "appointment.moved_in_emis":
		if t, err := time.Parse(time.RFC3339, e.Detail); err == nil {
			data.Start = stamp(t) // where reception moved it
		}
	case "appointment.failed":
		data.FailureCode = e.Detail
	case "appointment.reconciled":
		data.ReconciledBy = e.Detail
	}
	body, _ = json.Marshal(Payload{Type: d.Type, Timestamp: stamp(e.At), Data: data})
	return d.Type, body, true
}

// connectionPayload is the body for a practice's connection status changing; ok is false when
// the status did not change (only its reason did).
func connectionPayload(e store.OutboxHealthEvent) ([]byte, bool) {
	if e.Status == e.Previous {
		return nil, false
	}
	pid := strconv.FormatInt(e.PracticeID, 10)
	body, _ := json.Marshal(Payload{Type: TypeConnectionStatus, Timestamp: stamp(e.At),
		Data: Data{ID: pid, PracticeGroupID: e.PracticeGroupID, PracticeID: pid, State: e.Status,
			Source: SourceHerolink, PreviousState: e.Previous}})
	return body, true
}
