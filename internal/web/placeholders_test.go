package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"herolink/internal/store"
)

type problemResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// problemCall sends JSON as an API caller does and reads a JSON or problem+json answer.
func (c *client) problemCall(method, path, body string, header http.Header) problemResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.b.web.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := problemResponse{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusForbidden || strings.HasPrefix(ct, "application/problem+json") {
		if ct != "application/problem+json" {
			c.t.Fatalf("%s %s answered %d with %q, not a problem:\n%s", method, path, r.status, ct, r.raw)
		}
	}
	_ = json.Unmarshal(data, &r.body)
	return r
}

func (r problemResponse) wantProblem(t *testing.T, status int, code string) problemResponse {
	t.Helper()
	if r.status != status || r.body["code"] != code || r.body["type"] != "urn:herolink:problem:"+code {
		t.Fatalf("answered %d, want %d with code %s:\n%s", r.status, status, code, r.raw)
	}
	return r
}

func TestPlaceholdersJSONListsWaitingPlaceholdersAndOnlyThePracticesStaffSeePatients(t *testing.T) {
	b := setup(t)
	pid, a := b.withPlaceholder(t)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/placeholders"

	staffC := b.signedIn(t, "reception", store.RolePractice, pid)
	r := staffC.problemCall("GET", path, "", nil)
	items, _ := r.body["data"].([]any)
	if r.status != 200 || len(items) != 1 || r.body["count"] != float64(1) {
		t.Fatalf("list: %d\n%s", r.status, r.raw)
	}
	it := items[0].(map[string]any)
	pat, _ := it["patient"].(map[string]any)
	if it["reference"] != a.Reference || it["start_at"] == "" || pat["family_name"] != "Quill-Unknown" || pat["date_of_birth"] != "1979-11-30" {
		t.Fatalf("placeholder = %v", it)
	}

	support := b.signedIn(t, "helpdesk", store.RoleSupport, 0)
	r = support.problemCall("GET", path, "", nil)
	if r.status != 200 || !strings.Contains(r.raw, a.Reference) {
		t.Fatalf("support list: %d\n%s", r.status, r.raw)
	}
	for _, secret := range []string{"Rosa", "Quill", "1979-11-30", "patient"} {
		if strings.Contains(r.raw, secret) {
			t.Fatalf("support sees %q: %s", secret, r.raw)
		}
	}

	other, err := b.store.EnsurePractice(context.Background(), "B99999", 99999, "Elsewhere Surgery")
	if err != nil {
		t.Fatal(err)
	}
	b.signedIn(t, "elsewhere", store.RolePractice, other.ID).problemCall("GET", path, "", nil).wantProblem(t, 403, "forbidden")
	b.client(t).problemCall("GET", path, "", nil).wantProblem(t, 401, "unauthenticated")
}

func TestPlaceholderLinkJSONRefusesUnknownNumbersAndUnconfirmedMismatchesAndAuditsConfirmations(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pid, a := b.withPlaceholder(t)
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	link := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/placeholders/" + a.ID + "/link"
	unchanged := func() {
		t.Helper()
		row, err := b.store.Appointment(ctx, b.store.DBQ(), a.ID)
		if err != nil || row.EMISPatientID != 0 || row.MatchRule == "staff" || row.State != "placeholder" {
			t.Fatalf("a refused link changed the booking: %+v, %v", row, err)
		}
	}

	c.problemCall("POST", link, `{"emis_number": 987654321}`, nil).wantProblem(t, 422, "emis_record_not_found")
	unchanged()

	// Demo Dorothy (EMIS number 9001) is somebody else.
	r := c.problemCall("POST", link, `{"emis_number": 9001}`, nil).wantProblem(t, 409, "demographics_mismatch")
	typed, _ := r.body["typed"].(map[string]any)
	record, _ := r.body["record"].(map[string]any)
	if typed["family_name"] != "Quill-Unknown" || record["family_name"] != "Demo" || record["date_of_birth"] != "1948-04-12" ||
		record["nhs_number"] == nil || !strings.Contains(r.raw, "date_of_birth") {
		t.Fatalf("the mismatch does not show both sets of details:\n%s", r.raw)
	}
	unchanged()

	c.problemCall("POST", link, `{"emis_number": 9001, "confirm_mismatch": true}`, nil).wantProblem(t, 422, "validation_failed")
	c.problemCall("POST", link, `{"emis_number": "9001"}`, nil).wantProblem(t, 400, "invalid_json")
	c.problemCall("POST", link, `{"emis_number": 9001, "extra": 1}`, nil).wantProblem(t, 400, "invalid_json")
	c.problemCall("POST", link, `{}`, nil).wantProblem(t, 422, "validation_failed")
	unchanged()

	// Support cannot link: the record's details are the practice's to see.
	b.signedIn(t, "helpdesk", store.RoleSupport, 0).problemCall("POST", link, `{"emis_number": 9001, "confirm_mismatch": true, "reason": "x"}`, nil).
		wantProblem(t, 403, "forbidden")
	unchanged()

	// A browser on another site cannot make a signed-in member of staff link (CSRF).
	cross := c.problemCall("POST", link, `{"emis_number": 9001, "confirm_mismatch": true, "reason": "forged"}`,
		http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	if cross.status != http.StatusForbidden {
		t.Fatalf("a cross-site JSON post answered %d", cross.status)
	}
	unchanged()

	r = c.problemCall("POST", link, `{"emis_number": 9001, "confirm_mismatch": true, "reason": "married; confirmed with the patient by phone"}`, nil)
	if r.status != http.StatusAccepted || r.body["status"] != "linking" || r.body["reference"] != a.Reference {
		t.Fatalf("confirmed link: %d\n%s", r.status, r.raw)
	}
	audit, _ := b.store.ListAudit(ctx, pid, 5)
	if len(audit) == 0 || audit[0].Action != "placeholder_link_mismatch_confirmed" || audit[0].Actor != "reception" ||
		!strings.Contains(audit[0].Detail, "married; confirmed with the patient by phone") {
		t.Fatalf("audit = %+v", audit)
	}
}

func TestBookingsPageShowsTheEMISRecordBesideWhatThePatientTypedAndNeedsAReasonWhenTheyDiffer(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pid, a := b.withPlaceholder(t)
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	link := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings/" + a.ID + "/link"
	check := c.post(link, map[string][]string{"emis_number": {"9001"}})
	for _, want := range []string{"Is EMIS number 9001 this patient?", "Quill-Unknown", "Demo", "1948-04-12", "1979-11-30", "Differs", "This record is the patient"} {
		if !strings.Contains(check.body, want) {
			t.Fatalf("the record check lacks %q:\n%s", want, check.body)
		}
	}
	refused := c.post(link, map[string][]string{"emis_number": {"9001"}, "step": {"link"}})
	if refused.status != http.StatusConflict || !strings.Contains(refused.body, "tick the box and say why") {
		t.Fatalf("unconfirmed: %d\n%s", refused.status, refused.body)
	}
	noReason := c.post(link, map[string][]string{"emis_number": {"9001"}, "step": {"link"}, "confirm_mismatch": {"yes"}})
	if noReason.status != http.StatusUnprocessableEntity || !strings.Contains(noReason.body, "Say why this record is the patient") {
		t.Fatalf("no reason: %d\n%s", noReason.status, noReason.body)
	}
	if row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID); row.EMISPatientID != 0 {
		t.Fatalf("a refused link changed the booking: %+v", row)
	}
	done := c.post(link, map[string][]string{"emis_number": {"9001"}, "step": {"link"}, "confirm_mismatch": {"yes"}, "reason": {"name changed at marriage"}})
	if done.status != http.StatusOK || !strings.Contains(done.body, "It shows as booked once EMIS holds the appointment") {
		t.Fatalf("confirmed: %d\n%s", done.status, done.body)
	}
	unknown := c.post("/admin/practices/"+strconv.FormatInt(pid, 10)+"/bookings/"+a.ID+"/link", map[string][]string{"emis_number": {"987654321"}})
	if unknown.status == http.StatusOK {
		t.Fatalf("an unknown number after linking: %d", unknown.status)
	}
}
