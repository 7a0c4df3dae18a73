package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// bodyRoutes are the operations that take a JSON body.
var bodyRoutes = []req{
	{method: "POST", path: "/v1/appointments"},
	{method: "PUT", path: "/v1/appointments/apt_1"},
	{method: "POST", path: "/v1/appointments/apt_1/book"},
	{method: "PATCH", path: "/v1/appointments/apt_1/cancel"},
	{method: "POST", path: "/v1/appointments/apt_1/reschedule"},
	{method: "POST", path: "/v1/patients/register"},
}

func TestBodiesMustBeJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range bodyRoutes {
		r.body = `slot_id=slt_1_1`
		r.header = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		mustProblem(t, b.send(t, r), http.StatusUnsupportedMediaType, "unsupported_media_type")
		r.header = map[string]string{"Content-Type": ""}
		mustProblem(t, b.send(t, r), http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	// application/json with charset=utf-8 is JSON (+json types are not: see contract_test.go).
	r := req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1"}`,
		header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
	if res := b.send(t, r); res.status != http.StatusCreated {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestBodiesOver64KiBAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := `{"slot_id":"slt_1_1","comment":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, r := range bodyRoutes {
		r.body = big
		mustProblem(t, b.send(t, r), http.StatusRequestEntityTooLarge, "request_too_large")
	}
}

func TestMalformedJSONIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, body := range []string{`{`, `{"slot_id":}`, `[]`, `"slt_1_1"`, `null`, `{"slot_id":"a"} {}`, `{"slot_id":"a"}x`, "{\"slot_id\":\"\xff\"}"} {
		for _, r := range bodyRoutes {
			r.body = body
			mustProblem(t, b.send(t, r), http.StatusBadRequest, "invalid_json")
		}
	}
}

func TestEmptyBodiesAreRefusedExceptForCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range bodyRoutes {
		res := b.send(t, r)
		if r.method == "PATCH" {
			mustProblem(t, res, http.StatusNotFound, "not_found") // read as {}: the fake has no apt_1
			continue
		}
		mustProblem(t, res, http.StatusBadRequest, "invalid_json")
	}
}

func TestUnknownFieldsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		r     req
		field string
	}{
		{req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1","slotId":"x"}`}, "slotId"},
		{req{method: "POST", path: "/v1/appointments", body: `{"SLOT_ID":"slt_1_1"}`}, "SLOT_ID"}, // names match exactly
		{req{method: "PUT", path: "/v1/appointments/apt_1", body: `{"slot_id":"slt_1_1","patient":{}}`}, "patient"},
		{req{method: "POST", path: "/v1/appointments/apt_1/book", body: `{"patient":{"family_name":"Demo","surname":"Demo"}}`}, "patient.surname"},
		{req{method: "PATCH", path: "/v1/appointments/apt_1/cancel", body: `{"why":"x"}`}, "why"},
		{req{method: "POST", path: "/v1/appointments/apt_1/reschedule", body: `{"slot_id":"slt_1_2","description":"x"}`}, "description"},
		{req{method: "POST", path: "/v1/patients/register", body: `{"nhs":"9990000018"}`}, "nhs"},
	} {
		m := mustProblem(t, b.send(t, tc.r), http.StatusBadRequest, "invalid_json")
		if !slices.Equal(fieldsOf(m), []string{tc.field}) || !strings.Contains(m["detail"].(string), tc.field) {
			t.Fatalf("%s: %v", tc.r.body, m)
		}
	}
}

func TestFieldsGivenTwiceOrOfTheWrongTypeAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ body, field string }{
		{`{"slot_id":"slt_1_1","slot_id":"slt_1_2"}`, "slot_id"},
		{`{"slot_id":12}`, "slot_id"},
		{`{"slot_id":"slt_1_1","description":["a"]}`, "description"},
	} {
		m := mustProblem(t, b.post(t, "/v1/appointments", tc.body), http.StatusBadRequest, "invalid_json")
		if !slices.Equal(fieldsOf(m), []string{tc.field}) {
			t.Fatalf("%s: %v", tc.body, m)
		}
	}
	m := mustProblem(t, b.post(t, "/v1/appointments/apt_1/book", `{"patient":{"date_of_birth":19500101}}`), http.StatusBadRequest, "invalid_json")
	if !slices.Equal(fieldsOf(m), []string{"patient.date_of_birth"}) {
		t.Fatalf("%v", m)
	}
	if b.booking.count("Reserve")+b.booking.count("Book") != 0 {
		t.Fatal("the booking core saw a malformed request")
	}
}
