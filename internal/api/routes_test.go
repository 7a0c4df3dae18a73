package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herolink/internal/api"
)

func TestUnknownRoutesUnderV1AnswerProblemNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/v1/", "/v1/nothing", "/v1/appointments/apt_1/teleport", "/v1/slots/slt_1_1/extra"} {
		mustProblem(t, b.get(t, path), http.StatusNotFound, "not_found")
	}
}

func TestWrongMethodsAnswerProblemMethodNotAllowedWithAllow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/slots", "GET"},
		{"POST", "/v1/slots/slt_1_1", "GET"},
		{"GET", "/v1/appointments", "POST"},
		{"DELETE", "/v1/appointments/apt_1", "GET, PUT"},
		{"GET", "/v1/appointments/apt_1/book", "POST"},
		{"POST", "/v1/appointments/apt_1/cancel", "PATCH"},
		{"GET", "/v1/patients/register", "POST"},
		{"POST", "/openapi.json", "GET, HEAD"},
	} {
		res := b.send(t, req{method: tc.method, path: tc.path})
		mustProblem(t, res, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := res.header.Get("Allow"); got != tc.allow {
			t.Fatalf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestTheOpenAPIDocumentIsServedAndIsValidOpenAPI31(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("%q %v", doc.OpenAPI, err)
	}
	if _, err := spec(); err != nil {
		t.Fatalf("kin-openapi refuses the document: %v", err)
	}
	// Every operation served is documented (and every documented one is in everyRoute).
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		if path == "/openapi.json" {
			continue
		}
		for m := range ops {
			if m != "parameters" {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	for _, r := range everyRoute {
		p, _, _ := strings.Cut(r.path, "?")
		for _, id := range []string{"slt_1_1", "apt_1", "pat_1", "whk_1", "bkl_1"} {
			p = strings.Replace(p, id, "{id}", 1)
		}
		if !documented[r.method+" "+p] {
			t.Errorf("%s %s is served but not documented", r.method, p)
		}
		delete(documented, r.method+" "+p)
	}
	for op := range documented {
		t.Errorf("%s is documented but not exercised by everyRoute", op)
	}
	if !strings.Contains(string(api.OpenAPI()), "never carries another person's identifiers") {
		t.Error("the link check must say that it reveals nothing of the register")
	}
}

func TestAnswersAreNotCachedAndNotSniffed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, res := range []response{b.get(t, "/v1/locations"), b.get(t, "/v1/nope")} {
		if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%v", res.header)
		}
	}
}

func TestListsAreDataAndCountWithoutACursor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		path string
		n    int
	}{{"/v1/appointment_types", 1}, {"/v1/locations", 1}, {"/v1/practitioners", 0}} {
		res := b.get(t, tc.path)
		m := res.json(t)
		data, ok := m["data"].([]any)
		if res.status != http.StatusOK || !ok || len(data) != tc.n || m["count"] != float64(tc.n) {
			t.Fatalf("%s: %s", tc.path, res.body)
		}
		if _, has := m["next_cursor"]; has {
			t.Fatalf("%s: a list that is not paged has a cursor: %s", tc.path, res.body)
		}
	}
	at := b.get(t, "/v1/appointment_types").json(t)["data"].([]any)[0].(map[string]any)
	if at["id"] != "at_1" || at["duration_minutes"] != float64(10) || at["channel"] != "in_person" || at["practice_id"] == "" {
		t.Fatalf("%v", at)
	}
}

func TestRoutesWithoutParametersRefuseQueryParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/v1/locations?x=1", "/v1/appointment_types?limit=5", "/v1/practitioners?%zz", "/v1/slots/slt_1_1?a=b"} {
		mustProblem(t, b.get(t, path), http.StatusUnprocessableEntity, "validation_failed")
	}
}
