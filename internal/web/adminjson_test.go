package web

import (
	"net/http"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// A method an admin JSON endpoint does not answer is refused in the partner API's shape: 405,
// application/problem+json, the code, and Allow saying what it does answer. The endpoints' own
// methods are untouched.
func TestAdminJSONEndpointsRefuseOtherMethodsAsProblems(t *testing.T) {
	b := setup(t)
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "pm", store.RolePractice, pid)
	p := practicePath(pid)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPut, p + "/practitioners", "GET, POST"},
		{http.MethodGet, p + "/locations/1", "PATCH, DELETE"},
		{http.MethodPost, p + "/slot-types", "GET"},
		{http.MethodDelete, p + "/appointment-types/1", "GET, PATCH"},
		{http.MethodPost, p + "/readiness", "GET"},
		{http.MethodGet, p + "/placeholders/threshold", "PUT"},
		{http.MethodGet, p + "/placeholders/apt_x/link", "POST"},
	} {
		r := c.problemCall(tc.method, tc.path, "", nil)
		r.wantProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := r.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if !strings.Contains(r.body["detail"].(string), tc.method) {
			t.Errorf("%s %s: the detail does not name the method: %v", tc.method, tc.path, r.body["detail"])
		}
	}
	if r := c.call(http.MethodGet, p+"/practitioners", nil); r.status != http.StatusOK {
		t.Fatalf("GET practitioners: %d %s", r.status, r.raw)
	}
	if r := c.call(http.MethodGet, p+"/readiness", nil); r.status != http.StatusOK {
		t.Fatalf("GET readiness: %d %s", r.status, r.raw)
	}
}
