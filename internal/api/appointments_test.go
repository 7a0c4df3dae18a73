package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"herolink/internal/booking"
)

// reserve holds group A's first slot and returns the appointment's id.
func (b *testBundle) reserve(t *testing.T) string {
	t.Helper()
	res := b.post(t, "/v1/appointments", `{"slot_id":"`+b.slotOf(b.groupA)+`","description":"Sore throat"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("reserve: %d %s", res.status, res.body)
	}
	return res.json(t)["id"].(string)
}

func TestReservingASlotAnswers201WithTheIDAndReservedUntil(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.post(t, "/v1/appointments", `{"slot_id":"`+b.slotOf(b.groupA)+`","appointment_type_id":"at_1","description":"Sore throat","comment":"prefers mornings"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("%d %s", res.status, res.body)
	}
	m := res.json(t)
	if m["id"] == "" || m["reserved_until"] != "2026-03-02T09:15:00Z" || m["state"] != "reserved" || m["description"] != "Sore throat" ||
		m["patient_id"] != nil || m["failure"] != nil || res.header.Get("Location") != "/v1/appointments/"+m["id"].(string) {
		t.Fatalf("%v %v", m, res.header)
	}
	// The same slot again is the booking core's 409.
	mustProblem(t, b.post(t, "/v1/appointments", `{"slot_id":"`+b.slotOf(b.groupA)+`"}`), http.StatusConflict, "slot_unavailable")
}

func TestReservingValidatesTheBodyBeforeTheBookingCore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"slot_id"}},
		{`{"slot_id":""}`, []string{"slot_id"}},
		{`{"slot_id":"` + strings.Repeat("s", 101) + `"}`, []string{"slot_id"}},
		{`{"slot_id":"slt_1_1","description":"` + strings.Repeat("é", 101) + `"}`, []string{"description"}},
		{`{"slot_id":"slt_1_1","comment":"` + strings.Repeat("c", 501) + `"}`, []string{"comment"}},
		{`{"description":"` + strings.Repeat("d", 101) + `","comment":"` + strings.Repeat("c", 501) + `"}`, []string{"slot_id", "description", "comment"}},
	} {
		for _, r := range []req{{method: "POST", path: "/v1/appointments"}, {method: "PUT", path: "/v1/appointments/apt_1"}} {
			r.body = tc.body
			m := mustProblem(t, b.send(t, r), http.StatusUnprocessableEntity, "validation_failed")
			if !slices.Equal(fieldsOf(m), tc.fields) {
				t.Fatalf("%s %s: %v, want %v", r.method, tc.body, fieldsOf(m), tc.fields)
			}
		}
	}
	// 100 characters (not bytes) is fine.
	if res := b.post(t, "/v1/appointments", `{"slot_id":"`+b.slotOf(b.groupA)+`","description":"`+strings.Repeat("é", 100)+`"}`); res.status != http.StatusCreated {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if n := b.booking.count("Reserve"); n != 1 {
		t.Fatalf("the booking core was asked %d times", n)
	}
}

func TestUpdatingAHoldAnswersTheAppointment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	res := b.send(t, req{method: "PUT", path: "/v1/appointments/" + id, body: `{"slot_id":"` + b.slotOf(b.groupA) + `","description":"Cough"}`})
	if res.status != http.StatusOK || res.json(t)["description"] != "Cough" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	mustProblem(t, b.send(t, req{method: "PUT", path: "/v1/appointments/apt_999", body: `{"slot_id":"x"}`}), http.StatusNotFound, "not_found")
}

func TestBookingAHoldAnswers202Confirming(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	res := b.post(t, "/v1/appointments/"+id+"/book", `{"patient":{"nhs_number":"999 000 0018","family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01","email":"d@example.org","phone":"07700 900000"}}`)
	if res.status != http.StatusAccepted {
		t.Fatalf("%d %s", res.status, res.body)
	}
	m := res.json(t)
	if m["state"] != "confirming" || m["patient_id"] == nil || m["id"] != id {
		t.Fatalf("%v", m)
	}
	// Booking it again is the core's 409; with a registered patient's id it works.
	mustProblem(t, b.post(t, "/v1/appointments/"+id+"/book", `{"patient_id":"`+m["patient_id"].(string)+`"}`), http.StatusConflict, "invalid_state")
	id2 := b.post(t, "/v1/appointments", `{"slot_id":"`+b.booking.slots[b.groupA][1].ID+`"}`).json(t)["id"].(string)
	res = b.post(t, "/v1/appointments/"+id2+"/book", `{"patient_id":"`+m["patient_id"].(string)+`"}`)
	if res.status != http.StatusAccepted {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestBookingNeedsEitherAPatientIDOrThePatientsDetails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"patient_id"}},
		{`{"patient_id":""}`, []string{"patient_id"}},
		{`{"patient_id":"pat_1","patient":{"family_name":"Demo"}}`, []string{"patient"}},
		{`{"patient":{"date_of_birth":"01/01/1950"}}`, []string{"patient.date_of_birth"}},
		{`{"patient":{"email":"not-an-address","family_name":"` + strings.Repeat("f", 101) + `"}}`, []string{"patient.family_name", "patient.email"}},
	} {
		m := mustProblem(t, b.post(t, "/v1/appointments/apt_1/book", tc.body), http.StatusUnprocessableEntity, "validation_failed")
		if !slices.Equal(fieldsOf(m), tc.fields) {
			t.Fatalf("%s: %v, want %v", tc.body, fieldsOf(m), tc.fields)
		}
	}
	// A patient id the group does not have is the core's validation failure, fields and all.
	id := b.reserve(t)
	m := mustProblem(t, b.post(t, "/v1/appointments/"+id+"/book", `{"patient_id":"pat_nobody"}`), http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fieldsOf(m), []string{"patient_id"}) {
		t.Fatalf("%v", m)
	}
}

func TestGettingAnAppointmentShowsEveryField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	res := b.get(t, "/v1/appointments/"+id)
	m := res.json(t)
	for _, k := range []string{"id", "reference", "state", "slot_id", "start", "end", "appointment_type_id", "location_id",
		"practitioner_ids", "reserved_until", "patient_id", "emis_reference", "failure", "alternatives", "rescheduled_from",
		"rescheduled_to", "cancelled_by", "cancel_reason", "created_at", "updated_at"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, res.body)
		}
	}
	mustProblem(t, b.get(t, "/v1/appointments/apt_missing"), http.StatusNotFound, "not_found")
}

func TestAFailedAppointmentShowsItsFailureAndAlternatives(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	b.booking.mu.Lock()
	a := &b.booking.appointments[id].a
	a.State, a.FailureCode, a.FailureMessage, a.Alternatives = booking.StateFailed, "slot_taken", "Reception booked the slot meanwhile.", []string{"slt_1_2"}
	b.booking.mu.Unlock()
	m := b.get(t, "/v1/appointments/"+id).json(t)
	f, _ := m["failure"].(map[string]any)
	if m["state"] != "failed" || f["code"] != "slot_taken" || f["message"] == "" || m["alternatives"].([]any)[0] != "slt_1_2" {
		t.Fatalf("%v", m)
	}
}

func TestCancellingAnswersTheCancelledAppointmentAndNeverOverridesThePolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	res := b.send(t, req{method: "PATCH", path: "/v1/appointments/" + id + "/cancel", body: `{"reason":"Feeling better"}`})
	m := res.json(t)
	if res.status != http.StatusOK || m["state"] != "cancelled" || m["cancel_reason"] != "Feeling better" || m["cancelled_by"] != "partner" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	// An empty body is a cancellation without a reason (the fake refuses Staff: true with a 500).
	id2 := b.post(t, "/v1/appointments", `{"slot_id":"`+b.booking.slots[b.groupA][1].ID+`"}`).json(t)["id"].(string)
	if res := b.send(t, req{method: "PATCH", path: "/v1/appointments/" + id2 + "/cancel"}); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	b.booking.failNext("Cancel", refuse(booking.CodeCancellationWindow, "the practice does not allow online changes within 24h"))
	mustProblem(t, b.send(t, req{method: "PATCH", path: "/v1/appointments/" + id + "/cancel", body: `{}`}), http.StatusConflict, "cancellation_window_closed")
	m = mustProblem(t, b.send(t, req{method: "PATCH", path: "/v1/appointments/" + id + "/cancel", body: `{"reason":"` + strings.Repeat("r", 501) + `"}`}),
		http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fieldsOf(m), []string{"reason"}) {
		t.Fatalf("%v", m)
	}
}

func TestReschedulingAnswers202WithTheNewAppointment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.reserve(t)
	res := b.post(t, "/v1/appointments/"+id+"/reschedule", `{"slot_id":"`+b.booking.slots[b.groupA][2].ID+`","appointment_type_id":"at_1"}`)
	m := res.json(t)
	if res.status != http.StatusAccepted || m["id"] == id || m["rescheduled_from"] != id || res.header.Get("Location") != "/v1/appointments/"+m["id"].(string) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if old := b.get(t, "/v1/appointments/"+id).json(t); old["rescheduled_to"] != m["id"] {
		t.Fatalf("%v", old)
	}
	m = mustProblem(t, b.post(t, "/v1/appointments/"+id+"/reschedule", `{}`), http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fieldsOf(m), []string{"slot_id"}) {
		t.Fatalf("%v", m)
	}
}

// Every refusal of the booking core, on every route that calls it, answers its status and code.
// A route is not made to answer what its booking call never returns (a list is never "not
// found", a read never conflicts): the document does not declare those answers, and a contract
// tester holds the API to every answer it declares.
func TestBookingRefusalsMapToTheirStatusAndCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	never := map[string][]int{
		"AppointmentTypes": {http.StatusNotFound, http.StatusConflict},
		"Locations":        {http.StatusNotFound, http.StatusConflict},
		"Practitioners":    {http.StatusNotFound, http.StatusConflict},
		"Slots":            {http.StatusNotFound, http.StatusConflict},
		"Appointment":      {http.StatusConflict},
		"Patient":          {http.StatusConflict},
		"PatientLinkCheck": {http.StatusConflict},
		"RegisterPatient":  {http.StatusNotFound},
	}
	methods := map[string]req{
		"AppointmentTypes": {method: "GET", path: "/v1/appointment_types"},
		"Locations":        {method: "GET", path: "/v1/locations"},
		"Practitioners":    {method: "GET", path: "/v1/practitioners"},
		"Slots":            {method: "GET", path: "/v1/slots?start_date=2026-03-03&end_date=2026-03-04"},
		"Slot":             {method: "GET", path: "/v1/slots/slt_1_1"},
		"Reserve":          {method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1"}`},
		"Appointment":      {method: "GET", path: "/v1/appointments/apt_1"},
		"UpdateHold":       {method: "PUT", path: "/v1/appointments/apt_1", body: `{"slot_id":"slt_1_1"}`},
		"Book":             {method: "POST", path: "/v1/appointments/apt_1/book", body: `{"patient_id":"pat_1"}`},
		"Cancel":           {method: "PATCH", path: "/v1/appointments/apt_1/cancel", body: `{}`},
		"Reschedule":       {method: "POST", path: "/v1/appointments/apt_1/reschedule", body: `{"slot_id":"slt_1_2"}`},
		"RegisterPatient":  {method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01"}`},
		"Patient":          {method: "GET", path: "/v1/patients/pat_1"},
		"PatientLinkCheck": {method: "GET", path: "/v1/patients/pat_1/ehr/candidates?practice_id=1"},
	}
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{refuse(booking.CodeNotFound, "no such thing"), http.StatusNotFound, "not_found"},
		{refuse(booking.CodeInvalid, "bad", booking.FieldError{Field: "slot_id", Code: "x", Message: "bad"}), http.StatusUnprocessableEntity, "validation_failed"},
		{refuse(booking.CodeSlotUnavailable, "taken"), http.StatusConflict, "slot_unavailable"},
		{refuse(booking.CodeHoldExpired, "ran out"), http.StatusConflict, "hold_expired"},
		{refuse(booking.CodeInvalidState, "booked"), http.StatusConflict, "invalid_state"},
		{refuse(booking.CodeCancellationWindow, "too late"), http.StatusConflict, "cancellation_window_closed"},
		{refuse(booking.CodePracticeNotReady, "not connected"), http.StatusConflict, "practice_not_ready"},
		{refuse(booking.CodePracticeUnavailable, "cannot take online bookings just now"), http.StatusConflict, "practice_unavailable"},
		{refuse("something_new", "a code this API does not know"), http.StatusInternalServerError, "internal_error"},
		{errBoom, http.StatusInternalServerError, "internal_error"},
	} {
		for method, r := range methods {
			if slices.Contains(never[method], tc.status) {
				continue
			}
			b.booking.failNext(method, tc.err)
			m := mustProblem(t, b.send(t, r), tc.status, tc.code)
			if tc.status < 500 && !strings.Contains(m["detail"].(string), tc.err.(*booking.Error).Message) {
				t.Fatalf("%s: detail %q", method, m["detail"])
			}
			if tc.code == "validation_failed" && !slices.Equal(fieldsOf(m), []string{"slot_id"}) {
				t.Fatalf("%s: %v", method, m)
			}
		}
	}
}
