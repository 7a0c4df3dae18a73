package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"herolink/internal/api/apikey"
)

// everyRoute is one request to each operation, valid in shape, for checks every route must pass.
var everyRoute = []req{
	{method: "GET", path: "/v1/appointment_types"},
	{method: "GET", path: "/v1/locations"},
	{method: "GET", path: "/v1/practitioners"},
	{method: "GET", path: "/v1/slots?start_date=2026-03-03&end_date=2026-03-04"},
	{method: "GET", path: "/v1/slots/slt_1_1"},
	{method: "POST", path: "/v1/appointments", body: `{"slot_id":"slt_1_1"}`},
	{method: "GET", path: "/v1/appointments/apt_1"},
	{method: "PUT", path: "/v1/appointments/apt_1", body: `{"slot_id":"slt_1_1"}`},
	{method: "POST", path: "/v1/appointments/apt_1/book", body: `{"patient_id":"pat_1"}`},
	{method: "PATCH", path: "/v1/appointments/apt_1/cancel", body: `{}`},
	{method: "POST", path: "/v1/appointments/apt_1/reschedule", body: `{"slot_id":"slt_1_2"}`},
	{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01"}`},
	{method: "GET", path: "/v1/patients/pat_1"},
	{method: "GET", path: "/v1/patients/pat_1/ehr/candidates"},
	{method: "GET", path: "/v1/webhooks"},
	{method: "POST", path: "/v1/webhooks", body: `{"url":"https://partner.example/hooks","event_types":["appointment.booked"]}`},
	{method: "GET", path: "/v1/webhooks/whk_1"},
	{method: "DELETE", path: "/v1/webhooks/whk_1"},
	{method: "POST", path: "/v1/webhooks/whk_1/rotate", body: `{}`},
	{method: "GET", path: "/v1/booking_links"},
	{method: "POST", path: "/v1/booking_links", body: linkBody},
	{method: "GET", path: "/v1/booking_links/bkl_1"},
	{method: "DELETE", path: "/v1/booking_links/bkl_1"},
}

func with(r req, header map[string]string) req {
	r.header = header
	return r
}

func TestEveryRouteRefusesARequestWithoutAnAPIKeyNamingTheHeader(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range everyRoute {
		res := b.send(t, with(r, map[string]string{"x-api-key": ""}))
		m := mustProblem(t, res, http.StatusUnauthorized, "missing_credentials")
		if !strings.Contains(m["detail"].(string), "x-api-key") || res.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s %s: %s %v", r.method, r.path, res.body, res.header)
		}
	}
	if b.booking.count("Reserve") != 0 {
		t.Fatal("the booking core was called without credentials")
	}
}

func TestEveryRouteRefusesARequestWithoutAPracticeGroupNamingTheHeader(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range everyRoute {
		res := b.send(t, with(r, map[string]string{"x-practice-group-id": ""}))
		m := mustProblem(t, res, http.StatusUnauthorized, "missing_credentials")
		if !strings.Contains(m["detail"].(string), "x-practice-group-id") {
			t.Fatalf("%s %s: %s", r.method, r.path, res.body)
		}
	}
}

func TestEveryRouteRefusesAnUnknownAPIKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range everyRoute {
		res := b.send(t, with(r, map[string]string{"x-api-key": "hlk_live_" + strings.Repeat("x", 43)}))
		mustProblem(t, res, http.StatusUnauthorized, "invalid_api_key")
	}
}

func TestAKeyUsedForAnotherPracticeGroupIsForbidden(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range everyRoute {
		// Group A's key on group B's resources, and group B's key claiming group A.
		mustProblem(t, b.send(t, with(r, map[string]string{"x-practice-group-id": b.groupB})), http.StatusForbidden, "practice_group_forbidden")
		mustProblem(t, b.send(t, with(r, map[string]string{"x-api-key": b.keyB})), http.StatusForbidden, "practice_group_forbidden")
	}
	for m, n := range b.booking.calls {
		t.Fatalf("the booking core was called (%s ×%d) for a forbidden group", m, n)
	}
}

func TestAKeyWithoutTheBookingScopeIsForbiddenEverywhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, r := range everyRoute {
		m := mustProblem(t, b.send(t, with(r, map[string]string{"x-api-key": b.keyNoScope})), http.StatusForbidden, "insufficient_scope")
		if !strings.Contains(m["detail"].(string), "booking") {
			t.Fatalf("detail does not name the scope: %v", m)
		}
	}
}

func TestAGroupCannotSeeAnotherGroupsAppointmentOrPatient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Group B reserves and registers; group A asks for them by id.
	resB := b.send(t, req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupB) + `"}`,
		header: map[string]string{"x-api-key": b.keyB, "x-practice-group-id": b.groupB}})
	if resB.status != http.StatusCreated {
		t.Fatalf("group B reserve: %d %s", resB.status, resB.body)
	}
	id := resB.json(t)["id"].(string)
	mustProblem(t, b.get(t, "/v1/appointments/"+id), http.StatusNotFound, "not_found")
	mustProblem(t, b.send(t, req{method: "PATCH", path: "/v1/appointments/" + id + "/cancel"}), http.StatusNotFound, "not_found")
	mustProblem(t, b.post(t, "/v1/appointments/"+id+"/book", `{"patient_id":"pat_x"}`), http.StatusNotFound, "not_found")
	// Group A cannot reserve group B's slot either.
	mustProblem(t, b.post(t, "/v1/appointments", `{"slot_id":"`+b.slotOf(b.groupB)+`"}`), http.StatusNotFound, "not_found")
	pat := b.send(t, req{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Derek","date_of_birth":"1951-02-02"}`,
		header: map[string]string{"x-api-key": b.keyB, "x-practice-group-id": b.groupB}}).json(t)["id"].(string)
	mustProblem(t, b.get(t, "/v1/patients/"+pat), http.StatusNotFound, "not_found")
	mustProblem(t, b.get(t, "/v1/patients/"+pat+"/ehr/candidates"), http.StatusNotFound, "not_found")
}

// slotOf is the first slot of a group's fake diary.
func (b *testBundle) slotOf(group string) string { return b.booking.slots[group][0].ID }

func TestARotatedKeyIsRefusedAtOnceAndItsReplacementWorks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if res := b.get(t, "/v1/locations"); res.status != http.StatusOK { // the key is now cached
		t.Fatalf("%d %s", res.status, res.body)
	}
	next, err := b.keys.Rotate(context.Background(), apikey.Actor{Name: "alice"}, b.groupA, b.keyAID)
	if err != nil {
		t.Fatal(err)
	}
	mustProblem(t, b.get(t, "/v1/locations"), http.StatusUnauthorized, "invalid_api_key")
	res := b.send(t, req{method: "GET", path: "/v1/locations", header: map[string]string{"x-api-key": next.Secret}})
	if res.status != http.StatusOK {
		t.Fatalf("new key: %d %s", res.status, res.body)
	}
}

func TestARevokedKeyIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if res := b.get(t, "/v1/locations"); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if err := b.keys.Revoke(context.Background(), apikey.Actor{Name: "alice"}, b.groupA, b.keyAID); err != nil {
		t.Fatal(err)
	}
	mustProblem(t, b.get(t, "/v1/locations"), http.StatusUnauthorized, "invalid_api_key")
	// Other keys of the group are untouched.
	if res := b.send(t, req{method: "GET", path: "/v1/locations", header: map[string]string{"x-api-key": b.keyA2}}); res.status != http.StatusOK {
		t.Fatalf("other key: %d", res.status)
	}
}

func TestTheKeyNeverAppearsInAnswersOrLogs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.booking.failNext("Locations", errBoom)
	res := b.get(t, "/v1/locations")
	mustProblem(t, res, http.StatusInternalServerError, "internal_error")
	if strings.Contains(string(res.body), "fire") {
		t.Fatalf("the answer tells the internal error: %s", res.body)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "database on fire") {
		t.Fatalf("the error was not logged:\n%s", logs)
	}
	for _, k := range []string{b.keyA, b.keyA[len("hlk_live_"):]} {
		if strings.Contains(logs, k) || strings.Contains(string(res.body), k) {
			t.Fatal("the API key leaked")
		}
	}
}
