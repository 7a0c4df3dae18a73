package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
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
	link := m["links"].([]any)[0].(map[string]any)
	if link["emis_number"] != "533" || link["rule"] == "" {
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

func TestCandidatesShowTheVerdictAndOnlyWhatTheSearchReturned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.register(t)
	res := b.get(t, "/v1/patients/"+id+"/ehr/candidates")
	m := res.json(t)
	if res.status != http.StatusOK || m["outcome"] != "linked" || m["emis_number"] != "533" || m["patient_id"] != id || m["rule"] == "" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	cands := m["candidates"].([]any)
	first := cands[0].(map[string]any)
	agreement := first["agreement"].(map[string]any)
	if len(cands) != 2 || first["emis_number"] != "533" || first["matched"] != true || agreement["date_of_birth"] != "agrees" ||
		first["nhs_number"] != "9990000018" || first["first_names"] != "Dorothy" {
		t.Fatalf("%s", res.body)
	}
	if strings.Contains(string(res.body), "LS1 1AB") {
		t.Fatalf("a candidate's postcode is revealed: %s", res.body)
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
