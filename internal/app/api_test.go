package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/api/apitest"
	"herolink/internal/app"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
)

// The demo's key books into the demo practice through the app's own handler, every answer is
// what the OpenAPI document says, and a key revoked on the admin page stops at once: the pages
// and the API share one key service (and its cache).
func TestTheDemoKeyBooksThroughTheAppAndStopsWhenRevokedOnTheAdminPage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	defer emisSrv.Close()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store.Close()
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Map the practice the way staff would and copy two weeks of its diary, so slots are offered.
	p, err := a.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	today := emis.Today(time.Now())
	if err := a.Mapping.AdoptDefaults(ctx, "test", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sync.Engine.Sync(ctx, p.ID, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()

	call := func(method, path, body string, header map[string]string) apitest.Exchange {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", info.APIKey)
		req.Header.Set("x-practice-group-id", info.PracticeGroupID)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		x := apitest.Exchange{Method: method, Path: path, RequestBody: body, Status: resp.StatusCode, Header: resp.Header, Body: data}
		apitest.Check(t, x)
		return x
	}
	object := func(x apitest.Exchange) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(x.Body, &m); err != nil {
			t.Fatalf("%s %s: %v\n%s", x.Method, x.Path, err, x.Body)
		}
		return m
	}

	if x := call("GET", "/openapi.json", "", nil); x.Status != http.StatusOK || !strings.Contains(string(x.Body), `"openapi": "3.1.0"`) {
		t.Fatalf("openapi.json: %d", x.Status)
	}
	x := call("GET", "/v1/slots?start_date="+today.String()+"&end_date="+today.AddDays(13).String()+"&limit=5", "", nil)
	slots := object(x)
	if x.Status != http.StatusOK || slots["count"] == float64(0) {
		t.Fatalf("slots: %d %s", x.Status, x.Body)
	}
	slotID := slots["data"].([]any)[0].(map[string]any)["id"].(string)

	reserve := `{"slot_id":"` + slotID + `","description":"Sore throat"}`
	x = call("POST", "/v1/appointments", reserve, map[string]string{"Idempotency-Key": "demo-1"})
	held := object(x)
	if x.Status != http.StatusCreated || held["reserved_until"] == nil || held["state"] != "reserved" {
		t.Fatalf("reserve: %d %s", x.Status, x.Body)
	}
	id := held["id"].(string)
	if again := call("POST", "/v1/appointments", reserve, map[string]string{"Idempotency-Key": "demo-1"}); again.Header.Get("Idempotent-Replayed") != "true" ||
		string(again.Body) != string(x.Body) {
		t.Fatalf("replay: %d %v", again.Status, again.Header)
	}
	x = call("POST", "/v1/appointments/"+id+"/book", `{"patient":{"family_name":"Visitor","given_name":"Sam","date_of_birth":"1990-06-15"}}`, nil)
	if x.Status != http.StatusAccepted || object(x)["state"] != "confirming" {
		t.Fatalf("book: %d %s", x.Status, x.Body)
	}
	if x := call("GET", "/v1/appointments/"+id, "", nil); x.Status != http.StatusOK || object(x)["id"] != id {
		t.Fatalf("get: %d %s", x.Status, x.Body)
	}

	// Revoke the demo key on the admin page, as support.
	keys, err := a.Keys.List(ctx, info.PracticeGroupID)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %+v %v", keys, err)
	}
	resp, err := hc.PostForm(srv.URL+"/admin/login", url.Values{"username": {info.StaffUsername}, "password": {info.StaffPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = hc.PostForm(srv.URL+"/admin/practices/"+strconv.FormatInt(p.ID, 10)+"/api-keys/"+keys[0].ID+"/revoke", url.Values{})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if x := call("GET", "/v1/locations", "", nil); x.Status != http.StatusUnauthorized || object(x)["code"] != "invalid_api_key" {
		t.Fatalf("after revoking: %d %s", x.Status, x.Body)
	}
}
