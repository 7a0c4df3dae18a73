package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// jsonResponse is a JSON endpoint's answer, decoded.
type jsonResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends a JSON request (body nil: none; a string: sent as it is) as the JSON endpoints'
// callers do: no Origin header, Accept and Content-Type JSON.
func (c *client) call(method, path string, body any) jsonResponse {
	c.t.Helper()
	var payload string
	switch b := body.(type) {
	case nil:
	case string:
		payload = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		payload = string(data)
	}
	req, err := http.NewRequest(method, c.b.web.URL+path, strings.NewReader(payload))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := jsonResponse{status: resp.StatusCode, header: resp.Header, raw: string(data)}
	if r.raw != "" {
		want := "application/json"
		if r.status >= 400 {
			want = "application/problem+json"
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			c.t.Fatalf("%s %s answered %d %s, not JSON:\n%s", method, path, r.status, resp.Header.Get("Content-Type"), r.raw)
		}
		if err := json.Unmarshal([]byte(r.raw), &r.body); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, r.raw)
		}
	}
	return r
}

// want fails unless the answer has that status (and, for errors, that field and words).
func (r jsonResponse) want(t *testing.T, status int, field string, says ...string) jsonResponse {
	t.Helper()
	if r.status != status {
		t.Fatalf("answered %d, want %d:\n%s", r.status, status, r.raw)
	}
	if status >= 400 {
		r.wantProblem(t)
		got := ""
		if errs, _ := r.body["errors"].([]any); len(errs) > 0 {
			got, _ = errs[0].(map[string]any)["field"].(string)
		}
		if got != field {
			t.Fatalf("error field %q, want %q:\n%s", got, field, r.raw)
		}
		msg, _ := r.body["detail"].(string)
		for _, s := range says {
			if !strings.Contains(msg, s) {
				t.Fatalf("the error %q does not say %q", msg, s)
			}
		}
	}
	return r
}

// wantProblem fails unless an error answer has the partner API's problem+json members.
func (r jsonResponse) wantProblem(t *testing.T) {
	t.Helper()
	typ, _ := r.body["type"].(string)
	title, _ := r.body["title"].(string)
	code, _ := r.body["code"].(string)
	if !strings.HasPrefix(typ, "urn:herolink:problem:") || title == "" || code == "" || r.num("status") != int64(r.status) {
		t.Fatalf("not a problem with type, title, status and code:\n%s", r.raw)
	}
}

func (r jsonResponse) num(key string) int64 {
	f, _ := r.body[key].(float64)
	return int64(f)
}

func (r jsonResponse) data(t *testing.T) []map[string]any {
	t.Helper()
	items, ok := r.body["data"].([]any)
	if !ok {
		t.Fatalf("no data list:\n%s", r.raw)
	}
	if int(r.num("count")) != len(items) {
		t.Fatalf("count %d for %d items", r.num("count"), len(items))
	}
	var out []map[string]any
	for _, it := range items {
		out = append(out, it.(map[string]any))
	}
	return out
}

func mapPath(id int64, rest string) string { return practicePath(id) + rest }

// mappingState is everything a change could touch, to prove a refused one touched nothing.
func (b *testBundle) mappingState(t *testing.T, practiceID int64) string {
	t.Helper()
	ctx := context.Background()
	prs, err := b.store.Practitioners(ctx, practiceID)
	if err != nil {
		t.Fatal(err)
	}
	locs, _ := b.store.Locations(ctx, practiceID)
	types, _ := b.store.EMISSlotTypes(ctx, practiceID)
	ats, _ := b.store.AppointmentTypes(ctx, practiceID)
	audit, _ := b.store.ListAudit(ctx, practiceID, 1000)
	for i := range types {
		types[i].ReadAt = types[i].ReadAt.UTC()
	}
	return fmt.Sprintf("%+v\n%+v\n%+v\n%+v\n%d", prs, locs, types, ats, len(audit))
}

func TestMappingJSONEndpointsAnswerWithTheirStatusCodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	holders, sites := b.demo.ListHolders(), b.demo.ListSites()
	h1, h2 := holders[0], holders[1]

	r := c.call(http.MethodPost, mapPath(id, "/mapping/refresh"), nil).want(t, http.StatusOK, "")
	if r.num("sites") != 2 || r.num("session_holders") != 8 || r.num("slot_types") != 6 {
		t.Fatalf("refresh: %s", r.raw)
	}
	types := c.call(http.MethodGet, mapPath(id, "/slot-types"), nil).want(t, http.StatusOK, "").data(t)
	if len(types) != 6 || types[5]["proposed_unregistered"] != true || types[0]["proposed_unregistered"] != false || types[0]["feature"] != "unset" {
		t.Fatalf("slot types: %v", types)
	}
	if got := c.call(http.MethodGet, mapPath(id, "/practitioners"), nil).want(t, http.StatusOK, ""); !strings.Contains(got.raw, `"data":[]`) {
		t.Fatalf("an empty list is [], not null: %s", got.raw)
	}

	// Practitioners: created, 1:1 conflict (409), bad input (422), unknown (404).
	r = c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "Dr Sarah Ahmed", "emis_holder_id": h1.ID}).want(t, http.StatusCreated, "")
	ahmed := r.num("id")
	if r.body["emis_holder_name"] != h1.DisplayName() || r.header.Get("Location") != mapPath(id, fmt.Sprintf("/practitioners/%d", ahmed)) {
		t.Fatalf("created: %s %v", r.raw, r.header)
	}
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "Dr S Ahmed", "emis_holder_id": h1.ID}).
		want(t, http.StatusConflict, "emis_holder_id", "Dr S Ahmed", "Dr Sarah Ahmed", h1.DisplayName())
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": ""}).want(t, http.StatusUnprocessableEntity, "name", "Enter a name")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "X", "colour": "red"}).want(t, http.StatusUnprocessableEntity, "colour")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "X", "emis_holder_id": "201"}).want(t, http.StatusUnprocessableEntity, "emis_holder_id")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "X", "emis_holder_id": -4}).want(t, http.StatusUnprocessableEntity, "emis_holder_id")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "X", "emis_holder_id": 99999}).want(t, http.StatusUnprocessableEntity, "emis_holder_id", "Refresh from EMIS")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), `{"name": "X"`).want(t, http.StatusUnprocessableEntity, "")
	c.call(http.MethodPost, mapPath(id, "/practitioners"), `{"name": "X"} {"name": "Y"}`).want(t, http.StatusUnprocessableEntity, "")

	locum := c.call(http.MethodPost, mapPath(id, "/practitioners"), map[string]any{"name": "Dr Locum", "emis_holder_id": nil}).want(t, http.StatusCreated, "")
	if locum.body["emis_holder_id"] != nil {
		t.Fatalf("platform-only: %s", locum.raw)
	}
	lp := mapPath(id, fmt.Sprintf("/practitioners/%d", locum.num("id")))
	c.call(http.MethodPatch, lp, map[string]any{"emis_holder_id": h1.ID}).want(t, http.StatusConflict, "emis_holder_id", "Dr Locum", "Dr Sarah Ahmed")
	r = c.call(http.MethodPatch, lp, map[string]any{"emis_holder_id": h2.ID}).want(t, http.StatusOK, "")
	if r.num("emis_holder_id") != h2.ID || r.body["name"] != "Dr Locum" {
		t.Fatalf("mapped: %s", r.raw)
	}
	r = c.call(http.MethodPatch, lp, map[string]any{"name": "Dr Locum Two"}).want(t, http.StatusOK, "")
	if r.num("emis_holder_id") != h2.ID || r.body["name"] != "Dr Locum Two" {
		t.Fatalf("a field left out stays as it was: %s", r.raw)
	}
	r = c.call(http.MethodPatch, lp, map[string]any{"emis_holder_id": nil}).want(t, http.StatusOK, "")
	if r.body["emis_holder_id"] != nil || r.body["emis_holder_name"] != nil {
		t.Fatalf("unmapped: %s", r.raw)
	}
	c.call(http.MethodPatch, mapPath(id, "/practitioners/99999"), map[string]any{"name": "Y"}).want(t, http.StatusNotFound, "")
	c.call(http.MethodDelete, lp, nil).want(t, http.StatusNoContent, "")
	c.call(http.MethodDelete, lp, nil).want(t, http.StatusNotFound, "")
	if got := c.call(http.MethodGet, mapPath(id, "/practitioners"), nil).want(t, http.StatusOK, "").data(t); len(got) != 1 {
		t.Fatalf("practitioners: %v", got)
	}

	// Locations the same way.
	r = c.call(http.MethodPost, mapPath(id, "/locations"), map[string]any{"name": "The Surgery", "emis_site_id": sites[0].ID}).want(t, http.StatusCreated, "")
	c.call(http.MethodPost, mapPath(id, "/locations"), map[string]any{"name": "High Street", "emis_site_id": sites[0].ID}).
		want(t, http.StatusConflict, "emis_site_id", "High Street", "The Surgery", sites[0].Name)
	annexe := c.call(http.MethodPost, mapPath(id, "/locations"), map[string]any{"name": "Annexe"}).want(t, http.StatusCreated, "")
	c.call(http.MethodPatch, mapPath(id, fmt.Sprintf("/locations/%d", annexe.num("id"))), map[string]any{"emis_site_id": sites[1].ID}).want(t, http.StatusOK, "")
	c.call(http.MethodPatch, mapPath(id, fmt.Sprintf("/locations/%d", annexe.num("id"))), map[string]any{"name": strings.Repeat("a", 101)}).
		want(t, http.StatusUnprocessableEntity, "name", "100 characters")
	c.call(http.MethodDelete, mapPath(id, "/locations/424242"), nil).want(t, http.StatusNotFound, "")
	if got := c.call(http.MethodGet, mapPath(id, "/locations"), nil).want(t, http.StatusOK, "").data(t); len(got) != 2 {
		t.Fatalf("locations: %v", got)
	}

	// Slot type features.
	c.call(http.MethodPut, mapPath(id, "/slot-types/6/feature"), map[string]any{"feature": "unregistered"}).want(t, http.StatusOK, "")
	c.call(http.MethodPut, mapPath(id, "/slot-types/1/feature"), map[string]any{"feature": "unregistered"}).
		want(t, http.StatusConflict, "feature", `"Hero unregistered patient" already has Unregistered Patient Booking`)
	c.call(http.MethodPut, mapPath(id, "/slot-types/5/feature"), map[string]any{"feature": "bookable"}).want(t, http.StatusUnprocessableEntity, "feature", "not bookable")
	c.call(http.MethodPut, mapPath(id, "/slot-types/1/feature"), map[string]any{"feature": "maybe"}).want(t, http.StatusUnprocessableEntity, "feature")
	c.call(http.MethodPut, mapPath(id, "/slot-types/1/feature"), map[string]any{}).want(t, http.StatusUnprocessableEntity, "feature")
	c.call(http.MethodPut, mapPath(id, "/slot-types/99/feature"), map[string]any{"feature": "bookable"}).want(t, http.StatusNotFound, "")
	c.call(http.MethodPut, mapPath(id, "/slot-types/abc/feature"), map[string]any{"feature": "bookable"}).want(t, http.StatusNotFound, "")
	st := c.call(http.MethodPut, mapPath(id, "/slot-types/3/feature"), map[string]any{"feature": "bookable"}).want(t, http.StatusOK, "")
	atID := st.num("appointment_type_id")
	if st.body["feature"] != "bookable" || atID == 0 {
		t.Fatalf("bookable: %s", st.raw)
	}

	// Appointment types.
	ats := c.call(http.MethodGet, mapPath(id, "/appointment-types"), nil).want(t, http.StatusOK, "").data(t)
	if len(ats) != 1 || ats[0]["name"] != "Telephone consultation" || ats[0]["channel"] != "telephone" || ats[0]["duration_minutes"] != float64(10) || ats[0]["published"] != true {
		t.Fatalf("appointment types: %v", ats)
	}
	ap := mapPath(id, fmt.Sprintf("/appointment-types/%d", atID))
	c.call(http.MethodGet, ap, nil).want(t, http.StatusOK, "")
	c.call(http.MethodPatch, ap, map[string]any{"duration_minutes": 200}).want(t, http.StatusUnprocessableEntity, "duration_minutes", "between 5 and 120")
	c.call(http.MethodPatch, ap, map[string]any{"duration_minutes": "ten"}).want(t, http.StatusUnprocessableEntity, "duration_minutes", "whole number")
	c.call(http.MethodPatch, ap, map[string]any{"channel": "fax"}).want(t, http.StatusUnprocessableEntity, "channel")
	c.call(http.MethodPatch, ap, map[string]any{"name": " "}).want(t, http.StatusUnprocessableEntity, "name")
	r = c.call(http.MethodPatch, ap, map[string]any{"name": "Phone call with a GP", "duration_minutes": 15}).want(t, http.StatusOK, "")
	if r.body["name"] != "Phone call with a GP" || r.num("duration_minutes") != 15 || r.body["channel"] != "telephone" {
		t.Fatalf("renamed: %s", r.raw)
	}
	c.call(http.MethodGet, mapPath(id, "/appointment-types/424242"), nil).want(t, http.StatusNotFound, "")

	// Readiness, import, and the audit trail under the staff user's name.
	rd := c.call(http.MethodGet, mapPath(id, "/readiness"), nil).want(t, http.StatusOK, "")
	items, _ := rd.body["items"].([]any)
	if rd.body["ready"] != false || len(items) != 6 {
		t.Fatalf("readiness: %s", rd.raw)
	}
	var missing []string
	for _, it := range items {
		m := it.(map[string]any)
		if m["done"] == false {
			missing = append(missing, m["key"].(string))
			if m["what_to_do"] == "" {
				t.Fatalf("nothing to do for %v", m)
			}
		}
	}
	if strings.Join(missing, ",") != "first_sync" {
		t.Fatalf("missing %v", missing)
	}
	// Which instance syncs the practice: none until one takes its lease.
	if rd.body["synced_by"] != "" {
		t.Fatalf("synced by %v before any instance took the lease", rd.body["synced_by"])
	}
	if _, err := b.store.SyncLeaseRound(context.Background(), "instance-a", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if rd := c.call(http.MethodGet, mapPath(id, "/readiness"), nil).want(t, http.StatusOK, ""); rd.body["synced_by"] != "instance-a" {
		t.Fatalf("readiness after instance-a took the lease: %s", rd.raw)
	}
	imp := c.call(http.MethodPost, mapPath(id, "/mapping/import"), nil).want(t, http.StatusOK, "")
	if imp.num("practitioners_created") != 7 || imp.num("locations_created") != 0 {
		t.Fatalf("import: %s", imp.raw)
	}
	audit, err := b.store.ListAudit(context.Background(), id, 1)
	if err != nil || len(audit) != 1 || audit[0].Actor != "ada" || audit[0].Action != "mapping.imported" {
		t.Fatalf("audit: %+v %v", audit, err)
	}

	// Without a session: 401 in JSON, not a sign-in page.
	anon := b.client(t)
	anon.call(http.MethodGet, mapPath(id, "/practitioners"), nil).want(t, http.StatusUnauthorized, "", "Sign in")
	anon.call(http.MethodPost, mapPath(id, "/mapping/import"), nil).want(t, http.StatusUnauthorized, "")
	c.call(http.MethodGet, mapPath(999, "/readiness"), nil).want(t, http.StatusNotFound, "")
}

func TestPracticeUsersCannotTouchAnotherPracticesMapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	own := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	other := b.connectDirectly(t, sandbox.GeneratedODS(1), "Herouser", sandbox.GeneratedAPIPassword(1))
	support := b.signedIn(t, "ada", store.RoleSupport, 0)
	support.call(http.MethodPost, mapPath(other, "/mapping/refresh"), nil).want(t, http.StatusOK, "")
	otherPractitioner := support.call(http.MethodPost, mapPath(other, "/practitioners"), map[string]any{"name": "Dr Other"}).want(t, http.StatusCreated, "")
	before := b.mappingState(t, other)

	pm := b.signedIn(t, "pm", store.RolePractice, own)
	pm.call(http.MethodPost, mapPath(own, "/mapping/refresh"), nil).want(t, http.StatusOK, "")
	forbidden := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/practitioners", nil},
		{http.MethodPost, "/practitioners", map[string]any{"name": "Dr Intruder"}},
		{http.MethodPatch, fmt.Sprintf("/practitioners/%d", otherPractitioner.num("id")), map[string]any{"name": "Renamed"}},
		{http.MethodDelete, fmt.Sprintf("/practitioners/%d", otherPractitioner.num("id")), nil},
		{http.MethodGet, "/locations", nil},
		{http.MethodPost, "/locations", map[string]any{"name": "Elsewhere"}},
		{http.MethodGet, "/slot-types", nil},
		{http.MethodPut, "/slot-types/1/feature", map[string]any{"feature": "bookable"}},
		{http.MethodGet, "/appointment-types", nil},
		{http.MethodGet, "/readiness", nil},
		{http.MethodPost, "/mapping/import", nil},
		{http.MethodPost, "/mapping/refresh", nil},
	}
	for _, f := range forbidden {
		pm.call(f.method, mapPath(other, f.path), f.body).want(t, http.StatusForbidden, "", "one practice only")
	}
	// The pages and their forms too.
	if r := pm.get(mapPath(other, "/mapping")); r.status != http.StatusForbidden {
		t.Fatalf("another practice's mapping page: %d", r.status)
	}
	if r := pm.send(http.MethodPost, mapPath(other, "/mapping/practitioners"), url.Values{"name": {"Dr Intruder"}}, nil); r.status != http.StatusForbidden {
		t.Fatalf("another practice's form: %d", r.status)
	}
	if r := pm.send(http.MethodPost, mapPath(other, "/mapping/import"), url.Values{}, nil); r.status != http.StatusForbidden {
		t.Fatalf("another practice's import form: %d", r.status)
	}
	// Nor through their own practice's address: another practice's records are not found there.
	pm.call(http.MethodPatch, mapPath(own, fmt.Sprintf("/practitioners/%d", otherPractitioner.num("id"))), map[string]any{"name": "Renamed"}).
		want(t, http.StatusNotFound, "")
	pm.call(http.MethodDelete, mapPath(own, fmt.Sprintf("/practitioners/%d", otherPractitioner.num("id"))), nil).want(t, http.StatusNotFound, "")
	if after := b.mappingState(t, other); after != before {
		t.Fatalf("another practice's mapping changed:\nbefore %s\nafter  %s", before, after)
	}
	// Their own practice works.
	pm.call(http.MethodGet, mapPath(own, "/readiness"), nil).want(t, http.StatusOK, "")
	pm.call(http.MethodPost, mapPath(own, "/practitioners"), map[string]any{"name": "Dr Own"}).want(t, http.StatusCreated, "")
}

func TestBadInputThroughTheJSONEndpointsChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	c.call(http.MethodPost, mapPath(id, "/mapping/import"), nil).want(t, http.StatusOK, "")
	c.call(http.MethodPut, mapPath(id, "/slot-types/6/feature"), map[string]any{"feature": "unregistered"}).want(t, http.StatusOK, "")
	at := c.call(http.MethodPut, mapPath(id, "/slot-types/1/feature"), map[string]any{"feature": "bookable"}).want(t, http.StatusOK, "").num("appointment_type_id")
	prs := c.call(http.MethodGet, mapPath(id, "/practitioners"), nil).data(t)
	first, second := int64(prs[0]["id"].(float64)), int64(prs[1]["id"].(float64))
	secondHolder := int64(prs[1]["emis_holder_id"].(float64))
	before := b.mappingState(t, id)

	bad := []struct {
		method, path string
		body         any
		status       int
	}{
		// A valid name with a taken holder: neither saved.
		{http.MethodPatch, fmt.Sprintf("/practitioners/%d", first), map[string]any{"name": "New name", "emis_holder_id": secondHolder}, http.StatusConflict},
		// A valid holder with a bad name: neither saved.
		{http.MethodPatch, fmt.Sprintf("/practitioners/%d", second), map[string]any{"name": "", "emis_holder_id": nil}, http.StatusUnprocessableEntity},
		{http.MethodPatch, fmt.Sprintf("/practitioners/%d", second), map[string]any{"name": "Ok", "extra": true}, http.StatusUnprocessableEntity},
		{http.MethodPost, "/practitioners", map[string]any{"name": "Dr Dup", "emis_holder_id": secondHolder}, http.StatusConflict},
		{http.MethodPost, "/locations", "not json", http.StatusUnprocessableEntity},
		{http.MethodPut, "/slot-types/2/feature", map[string]any{"feature": "unregistered"}, http.StatusConflict},
		{http.MethodPut, "/slot-types/5/feature", map[string]any{"feature": "bookable"}, http.StatusUnprocessableEntity},
		{http.MethodPatch, fmt.Sprintf("/appointment-types/%d", at), map[string]any{"name": "Fine", "duration_minutes": 4}, http.StatusUnprocessableEntity},
		{http.MethodPatch, fmt.Sprintf("/appointment-types/%d", at), map[string]any{"name": "Fine", "channel": "carrier pigeon"}, http.StatusUnprocessableEntity},
		{http.MethodPatch, fmt.Sprintf("/appointment-types/%d", at), strings.Repeat(`{"name":"`, 20000), http.StatusUnprocessableEntity},
	}
	for _, x := range bad {
		r := c.call(x.method, mapPath(id, x.path), x.body)
		if r.status != x.status {
			t.Fatalf("%s %s: %d, want %d\n%s", x.method, x.path, r.status, x.status, r.raw)
		}
		r.wantProblem(t)
		if msg, _ := r.body["detail"].(string); msg == "" {
			t.Fatalf("%s %s: no error message: %s", x.method, x.path, r.raw)
		}
	}
	if after := b.mappingState(t, id); after != before {
		t.Fatalf("refused requests changed something:\nbefore %s\nafter  %s", before, after)
	}
}

var formAction = regexp.MustCompile(`action="(/admin/practices/\d+/mapping/appointment-types/\d+)"`)

func TestTheMappingPageSetsUpBookingWithFormsAndSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	c := b.signedIn(t, "pm", store.RolePractice, id)
	holders := b.demo.ListHolders()

	// The practice page links to the setup and loads the readiness panel.
	page := c.get(practicePath(id))
	mustHave(t, page, `href="/admin/practices/`+fmt.Sprint(id)+`/mapping"`, `hx-get="/admin/practices/`+fmt.Sprint(id)+`/mapping/readiness"`)
	panel := c.send(http.MethodGet, mapPath(id, "/mapping/readiness"), nil, http.Header{"Hx-Request": {"true"}})
	if panel.status != http.StatusOK || strings.Contains(panel.body, "<html") {
		t.Fatalf("readiness panel: %d\n%s", panel.status, panel.body)
	}
	mustSay(t, panel, "Before bookings can flow", "The EMIS connection is healthy", "Refresh from EMIS to read the practice's session holders")
	if r := c.send(http.MethodGet, mapPath(id, "/mapping/readiness"), nil, nil); r.status != http.StatusSeeOther || r.header.Get("Location") != mapPath(id, "/mapping#readiness") {
		t.Fatalf("readiness without htmx: %d %s", r.status, r.header.Get("Location"))
	}

	r := c.get(mapPath(id, "/mapping"))
	mustSay(t, r, "Online booking setup", "herolink has not read the sites, session holders and slot types from EMIS yet", "No practitioners yet")

	// Refresh: post, redirect, the page again.
	r = c.send(http.MethodPost, mapPath(id, "/mapping/refresh"), url.Values{}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != mapPath(id, "/mapping?done=refreshed#emis") {
		t.Fatalf("refresh form: %d %q", r.status, r.header.Get("Location"))
	}
	r = c.get(r.header.Get("Location"))
	mustSay(t, r, "herolink read the appointment configuration from EMIS just now", "Hero unregistered patient", "Proposed for unregistered patients", "session holder "+holders[0].DisplayName())

	r = c.post(mapPath(id, "/mapping/import"), url.Values{})
	mustSay(t, r, "Imported from EMIS: 8 practitioners and 2 locations added.", holders[3].DisplayName())

	// A conflict is shown with its message and the typed name kept; nothing is added.
	r = c.post(mapPath(id, "/mapping/practitioners"), url.Values{"name": {"Dr Locum"}, "emis_holder_id": {fmt.Sprint(holders[0].ID)}})
	if r.status != http.StatusConflict {
		t.Fatalf("conflicting form: %d", r.status)
	}
	mustSay(t, r, "Dr Locum cannot be mapped to the session holder "+holders[0].DisplayName(), "is already mapped to it")
	mustHave(t, r, `id="new-practitioner-name" name="name" type="text" maxlength="100" value="Dr Locum"`)
	r = c.post(mapPath(id, "/mapping/practitioners"), url.Values{"name": {"Dr Locum"}, "emis_holder_id": {""}})
	mustSay(t, r, "The practitioner was added.", "Dr Locum")

	// Slot types.
	r = c.post(mapPath(id, "/mapping/slot-types/5"), url.Values{"feature": {"bookable"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("not-bookable type made Bookable: %d", r.status)
	}
	mustSay(t, r, `EMIS marks the slot type "Admin - not bookable" as not bookable`)
	mustSay(t, c.post(mapPath(id, "/mapping/slot-types/6"), url.Values{"feature": {"unregistered"}}), "The slot type was saved.")
	r = c.post(mapPath(id, "/mapping/slot-types/1"), url.Values{"feature": {"bookable"}})
	mustSay(t, r, "The slot type was saved.", "Routine GP appointment", "Offered")

	// The appointment type it published can be renamed; bad input is refused.
	m := formAction.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no appointment type form:\n%s", r.body)
	}
	bad := c.post(m[1], url.Values{"name": {"Routine"}, "duration_minutes": {"ten"}, "channel": {"in_person"}})
	if bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad duration: %d", bad.status)
	}
	mustSay(t, bad, "Enter the duration as a number of minutes")
	r = c.post(m[1], url.Values{"name": {"GP appointment"}, "duration_minutes": {"15"}, "channel": {"in_person"}})
	mustSay(t, r, "The appointment type was saved.")
	mustHave(t, r, `value="GP appointment"`, `value="15"`)

	// The first sync done: ready.
	if _, err := b.store.DBQ().ExecContext(context.Background(), `INSERT INTO sync_state (practice_id, first_sync_done) VALUES (?, 1)`, id); err != nil {
		t.Fatal(err)
	}
	mustSay(t, c.get(mapPath(id, "/mapping")), "Ready: bookings can flow")

	// Everything is in the audit trail under the practice manager's name.
	audit, err := b.store.ListAudit(context.Background(), id, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		if e.Actor == "pm" {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{"mapping.refreshed", "mapping.imported", "mapping.practitioner_created", "mapping.slot_type_feature_set", "mapping.appointment_type_updated"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Fatalf("audit actions %v lack %s", actions, want)
		}
	}
}

func TestTheMappingPageNeedsASignIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	r := b.client(t).send(http.MethodGet, mapPath(id, "/mapping"), nil, nil)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login?next=") {
		t.Fatalf("anonymous mapping page: %d %s", r.status, r.header.Get("Location"))
	}
	r = b.client(t).send(http.MethodPost, mapPath(id, "/mapping/refresh"), url.Values{}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login" {
		t.Fatalf("anonymous refresh form: %d %s", r.status, r.header.Get("Location"))
	}
}
