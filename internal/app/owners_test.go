package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
)

// Two partners of one practice group each have a key: one's appointment is not found with
// the other's key, and it stays its partner's after the key is rotated.
func TestAPartnersAppointmentIsNotFoundWithAnotherPartnersKeyAndSurvivesRotation(t *testing.T) {
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
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL) // maps Riverside and copies its diary
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.Keys.Create(ctx, apikey.Actor{Name: "test"}, info.PracticeGroupID,
		apikey.NewKey{Name: "Other tool", Partner: "Other Ltd", Scopes: []string{apikey.ScopeBooking}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	call := func(key, method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("x-api-key", key)
		req.Header.Set("x-practice-group-id", info.PracticeGroupID)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return resp.StatusCode, m
	}
	from, to := time.Now().AddDate(0, 0, 2).Format(time.DateOnly), time.Now().AddDate(0, 0, 8).Format(time.DateOnly)
	status, page := call(info.APIKey, "GET", "/v1/slots?limit=1&start_date="+from+"&end_date="+to, "")
	data, _ := page["data"].([]any)
	if status != 200 || len(data) != 1 {
		t.Fatalf("slots: %d %v", status, page)
	}
	slot := data[0].(map[string]any)["id"].(string)
	status, hold := call(info.APIKey, "POST", "/v1/appointments", `{"slot_id":"`+slot+`"}`)
	if status != 201 {
		t.Fatalf("reserve: %d %v", status, hold)
	}
	id := hold["id"].(string)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/appointments/" + id, ""},
		{"PATCH", "/v1/appointments/" + id + "/cancel", `{}`},
		{"POST", "/v1/appointments/" + id + "/book", `{"patient":{"family_name":"Smith","given_name":"Ann","date_of_birth":"1980-01-01"}}`},
	} {
		if status, body := call(other.Secret, c.method, c.path, c.body); status != 404 {
			t.Fatalf("%s %s with another partner's key: %d %v", c.method, c.path, status, body)
		}
	}
	keys, err := a.Keys.List(ctx, info.PracticeGroupID)
	if err != nil {
		t.Fatal(err)
	}
	var demoKey string
	for _, k := range keys {
		if k.ID != other.Key.ID && k.Active() {
			demoKey = k.ID
		}
	}
	rotated, err := a.Keys.Rotate(ctx, apikey.Actor{Name: "test"}, info.PracticeGroupID, demoKey)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := call(rotated.Secret, "GET", "/v1/appointments/"+id, ""); status != 200 || body["state"] != "reserved" {
		t.Fatalf("the partner's rotated key: %d %v", status, body)
	}
}
