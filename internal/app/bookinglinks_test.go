package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"herolink/internal/api/apitest"
	"herolink/internal/app"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// A partner makes a booking link through the running app's API; its URL starts with the
// configured public address and opens the patient's page; ten wrong dates of birth there lock
// it, and the API says so. On either engine (HEROLINK_TEST_DATABASE).
func TestALinkMadeThroughTheAPILocksAfterTenWrongDatesOfBirthAndTheAPISaysLocked(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, emisURL, dbURL := sandboxAndDatabase(t)
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: dbURL, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		PublicURL: "https://book.herolink.example/"})
	must(t, err)
	defer a.Store.Close()
	info, err := a.SeedDemo(ctx, "http://admin", emisURL)
	must(t, err)
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	must(t, err)
	must(t, a.Mapping.AdoptDefaults(ctx, "test", p.ID))
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		must(t, err)
		req.Header.Set("x-api-key", info.APIKey)
		req.Header.Set("x-practice-group-id", info.PracticeGroupID)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		must(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		apitest.Check(t, apitest.Exchange{Method: method, Path: path, RequestBody: body, Status: resp.StatusCode, Header: resp.Header, Body: data})
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		return m
	}
	types := call("GET", "/v1/appointment_types", "")["data"].([]any)
	if len(types) == 0 {
		t.Fatal("no appointment types")
	}
	today := emis.Today(time.Now())
	link := call("POST", "/v1/booking_links", `{"appointment_type_id":"`+types[0].(map[string]any)["id"].(string)+`",
		"patient":{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"1980-03-05"},
		"from_date":"`+today.String()+`","to_date":"`+today.AddDays(7).String()+`","expires_at":"`+time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)+`","max_uses":1}`)
	u, _ := link["url"].(string)
	id, _ := link["id"].(string)
	if !strings.HasPrefix(u, "https://book.herolink.example/book/") || id == "" {
		t.Fatalf("link %v", link)
	}
	path := strings.TrimPrefix(u, "https://book.herolink.example")
	page, err := hc.Get(srv.URL + path)
	must(t, err)
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("the patient's page: %d", page.StatusCode)
	}
	for i := range 10 {
		resp, err := hc.PostForm(srv.URL+path, url.Values{"date_of_birth-day": {"1"}, "date_of_birth-month": {"1"}, "date_of_birth-year": {"1990"}})
		must(t, err)
		resp.Body.Close()
		if want := map[bool]int{true: http.StatusLocked, false: http.StatusUnprocessableEntity}[i == 9]; resp.StatusCode != want {
			t.Fatalf("wrong answer %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if got := call("GET", "/v1/booking_links/"+id, ""); got["status"] != "locked" {
		t.Fatalf("after 10 wrong answers the API says %v", got["status"])
	}
}
