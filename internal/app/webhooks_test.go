package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/app"
	"herolink/internal/emis/sandbox"
	"herolink/internal/webhook"
)

// signedBy is the test's own Standard Webhooks 1.0 check, written from the specification
// rather than with herolink's signer.
func signedBy(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte("v1,"+want)) {
			return true
		}
	}
	return false
}

// A partner registers a webhook through the API, books a registered patient and is told
// confirmed then booked; reception then cancels the appointment in EMIS and the partner is
// told cancelled with source "emis".
func TestAPartnerIsToldItsBookingsOutcomeAndAReceptionCancellationBySignedWebhooks(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	world, emisURL, url := sandboxAndDatabase(t)
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: url, EMISURL: emisURL, SupplierID: sandbox.DefaultSupplierID,
		SyncFullInterval: time.Second, SyncNearInterval: 500 * time.Millisecond, BookingSweepInterval: 300 * time.Millisecond,
		WebhookAllowHTTPLoopback: true, Webhook: webhook.Config{Backoff: func(int) time.Duration { return 50 * time.Millisecond }}})
	must(t, err)
	info, err := a.SeedDemo(ctx, "http://admin", emisURL)
	must(t, err)
	org, err := world.Org(sandbox.DemoCDB)
	must(t, err)
	str := func(s string) *string { return &s }
	_, err = org.RegisterPatient(sandbox.PatientInput{FamilyName: str("Hookham"), FirstNames: str("Wanda"), DateOfBirth: str("1971-02-03"),
		Postcode: str("AB1 2CD")})
	must(t, err)

	type received struct {
		typ, id, state, source string
	}
	var mu sync.Mutex
	var got []received
	arrived := make(chan struct{}, 100)
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		ok := signedBy(secret, r.Header, body)
		mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p struct {
			Type string            `json:"type"`
			Data map[string]string `json:"data"`
		}
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		got = append(got, received{p.Type, p.Data["id"], p.Data["state"], p.Data["source"]})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		arrived <- struct{}{}
	}))
	defer hook.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		req.Header.Set("x-api-key", info.APIKey)
		req.Header.Set("x-practice-group-id", info.PracticeGroupID)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(data, &m)
		return resp.StatusCode, m
	}
	status, ep := call("POST", "/v1/webhooks", `{"url":"`+hook.URL+`/hooks","event_types":["appointment.confirmed","appointment.booked","appointment.placeholder_created","appointment.cancelled"]}`)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, ep)
	}
	mu.Lock()
	secret = ep["secret"].(string)
	mu.Unlock()

	from, to := time.Now().AddDate(0, 0, 2).Format(time.DateOnly), time.Now().AddDate(0, 0, 8).Format(time.DateOnly)
	status, page := call("GET", "/v1/slots?limit=1&start_date="+from+"&end_date="+to, "")
	data, _ := page["data"].([]any)
	if status != 200 || len(data) != 1 {
		t.Fatalf("slots: %d %v", status, page)
	}
	slot := data[0].(map[string]any)["id"].(string)
	status, hold := call("POST", "/v1/appointments", `{"slot_id":"`+slot+`"}`)
	if status != 201 {
		t.Fatalf("reserve: %d %v", status, hold)
	}
	id := hold["id"].(string)
	if status, b := call("POST", "/v1/appointments/"+id+"/book", `{"patient":{"family_name":"Hookham","given_name":"Wanda","date_of_birth":"1971-02-03","postcode":"AB1 2CD"}}`); status != 202 {
		t.Fatalf("book: %d %v", status, b)
	}
	wait := func(n int) []received {
		t.Helper()
		for {
			mu.Lock()
			out := append([]received(nil), got...)
			mu.Unlock()
			if len(out) >= n {
				return out
			}
			select {
			case <-arrived:
			case <-ctx.Done():
				t.Fatalf("%d webhooks received, want %d: %+v", len(out), n, out)
			}
		}
	}
	first := wait(2)
	if first[0] != (received{webhook.TypeConfirmed, id, "confirming", "herolink"}) ||
		first[1] != (received{webhook.TypeBooked, id, "booked", "herolink"}) {
		t.Fatalf("received %+v", first)
	}
	// Reception cancels it in EMIS; the sync sees it, the booking follows, the partner is told.
	_, emisSlot, _ := strings.Cut(strings.TrimPrefix(slot, "slt_"), "_")
	sid, err := strconv.ParseInt(emisSlot, 10, 64)
	must(t, err)
	must(t, org.ReceptionCancel(sid))
	all := wait(3)
	if all[2] != (received{webhook.TypeCancelled, id, "cancelled", "emis"}) {
		t.Fatalf("after reception cancelled: %+v", all)
	}
}
