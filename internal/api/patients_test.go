package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func (b *testBundle) register(t *testing.T) string {
	t.Helper()
	res := b.post(t, "/v1/patients/register", `{"nhs_number":"9990000018","family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01","postcode":"LS1 1AA","email":"d@example.org","phone":"07700900000"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("register: %d %s", res.status, res.body)
	}
	return res.json(t)["id"].(string)
}

func TestRegisteringAPatientAnswers201AndThePatientCanBeRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.register(t)
	res := b.get(t, "/v1/patients/"+id)
	m := res.json(t)
	if res.status != http.StatusOK || m["family_name"] != "Demo" || m["date_of_birth"] != "1950-01-01" || m["email"] != "d@example.org" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	// The link is said, never the EMIS number: the partner did not send it.
	link := m["links"].([]any)[0].(map[string]any)
	if _, has := link["emis_number"]; has || link["rule"] != "matched" || strings.Contains(string(res.body), "533") {
		t.Fatalf("%v", link)
	}
	mustProblem(t, b.get(t, "/v1/patients/pat_missing"), http.StatusNotFound, "not_found")
}

func TestRegisteringRefusesDetailsMatchingCannotUse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Shape problems are the API's; whether the details identify a patient is matching's.
	m := mustProblem(t, b.post(t, "/v1/patients/register", `{"date_of_birth":"1950-13-01"}`), http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fieldsOf(m), []string{"date_of_birth"}) {
		t.Fatalf("%v", m)
	}
	m = mustProblem(t, b.post(t, "/v1/patients/register", `{"nhs_number":"9990000019","date_of_birth":"1950-01-01"}`), http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Contains(fieldsOf(m), "nhs_number") || strings.Contains(string(m["detail"].(string)), "9990000019") {
		t.Fatalf("%v", m)
	}
}

func TestALinkCheckSaysOnlyLinkedOrNotWithAReasonCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.register(t)
	res := b.get(t, "/v1/patients/"+id+"/ehr/candidates")
	m := res.json(t)
	if res.status != http.StatusOK || m["outcome"] != "linked" || m["reason"] != nil || m["patient_id"] != id || m["detail"] == "" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	for _, leak := range []string{"533", "534", "candidates", "emis_number", "Derek", "rule"} {
		if strings.Contains(string(res.body), leak) {
			t.Fatalf("the answer reveals %q: %s", leak, res.body)
		}
	}
	other := b.post(t, "/v1/patients/register", `{"family_name":"Nobody","given_name":"Nobody","date_of_birth":"1950-01-01"}`).json(t)["id"].(string)
	m = b.get(t, "/v1/patients/"+other+"/ehr/candidates").json(t)
	if m["outcome"] != "not_linked" || m["reason"] != "no_unique_match" {
		t.Fatalf("%v", m)
	}
	for _, q := range []string{"?practice_id=0", "?practice_id=abc", "?practice_id=1&practice_id=2", "?practice=1"} {
		mustProblem(t, b.get(t, "/v1/patients/"+id+"/ehr/candidates"+q), http.StatusUnprocessableEntity, "validation_failed")
	}
	// A practice outside the group is the core's refusal.
	m = mustProblem(t, b.get(t, "/v1/patients/"+id+"/ehr/candidates?practice_id=999999"), http.StatusUnprocessableEntity, "validation_failed")
	if !slices.Equal(fieldsOf(m), []string{"practice_id"}) {
		t.Fatalf("%v", m)
	}
}

func TestPatientLinkChecksAreLimitedPerPartnerMoreStrictlyThanOtherCalls(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{rate: 1000, burst: 1000, lookupRate: 0.1, lookupBurst: 2}) // a look-up every 10 s
	id := b.register(t)
	for range 2 {
		if res := b.get(t, "/v1/patients/"+id+"/ehr/candidates"); res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}
	res := b.get(t, "/v1/patients/"+id+"/ehr/candidates")
	mustProblem(t, res, http.StatusTooManyRequests, "rate_limited")
	if got := res.header.Get("Retry-After"); got != "10" {
		t.Fatalf("Retry-After %q", got)
	}
	if n := b.booking.count("PatientLinkCheck"); n != 2 {
		t.Fatalf("the register was searched %d times", n)
	}
	// Other calls of the same key go on; another partner has its own budget.
	if res := b.get(t, "/v1/patients/"+id); res.status != http.StatusOK {
		t.Fatalf("%d", res.status)
	}
	other := b.send(t, req{method: "POST", path: "/v1/patients/register", body: `{"family_name":"Demo","given_name":"Dorothy","date_of_birth":"1950-01-01"}`,
		header: map[string]string{"x-api-key": b.keyA2}}).json(t)["id"].(string)
	if res := b.send(t, req{method: "GET", path: "/v1/patients/" + other + "/ehr/candidates", header: map[string]string{"x-api-key": b.keyA2}}); res.status != http.StatusOK {
		t.Fatalf("another partner: %d %s", res.status, res.body)
	}
	b.clock.Add(10 * time.Second)
	if res := b.get(t, "/v1/patients/"+id+"/ehr/candidates"); res.status != http.StatusOK {
		t.Fatalf("after waiting: %d", res.status)
	}
}
