package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"herolink/internal/store"
)

const hookBody = `{"url":"https://partner.example/hooks","event_types":["appointment.booked","appointment.cancelled"],"description":"prod"}`

func TestAWebhookSecretIsShownOnceAtCreationAndNeverListed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.send(t, req{method: "POST", path: "/v1/webhooks", body: hookBody})
	m := res.json(t)
	secret, _ := m["secret"].(string)
	id, _ := m["id"].(string)
	if res.status != http.StatusCreated || !strings.HasPrefix(secret, "whsec_") || m["status"] != "active" ||
		res.header.Get("Location") != "/v1/webhooks/"+id {
		t.Fatalf("%d %s %v", res.status, res.body, res.header)
	}
	for _, path := range []string{"/v1/webhooks", "/v1/webhooks/" + id} {
		got := b.get(t, path)
		if got.status != http.StatusOK || strings.Contains(string(got.body), secret[6:]) || strings.Contains(string(got.body), `"secret"`) {
			t.Fatalf("%s: %d %s", path, got.status, got.body)
		}
	}
	list := b.get(t, "/v1/webhooks").json(t)
	if list["count"] != float64(1) {
		t.Fatalf("%v", list)
	}
}

func TestAWebhookWithAnIdempotencyKeyKeepsNoSecretInTheDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.send(t, req{method: "POST", path: "/v1/webhooks", body: hookBody, header: map[string]string{"Idempotency-Key": "k-1"}})
	secret, _ := res.json(t)["secret"].(string)
	if res.status != http.StatusCreated || secret == "" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	rot := b.send(t, req{method: "POST", path: "/v1/webhooks/" + res.json(t)["id"].(string) + "/rotate", header: map[string]string{"Idempotency-Key": "k-2"}})
	secret2, _ := rot.json(t)["secret"].(string)
	if rot.status != http.StatusOK || secret2 == "" || secret2 == secret || rot.json(t)["previous_secret_expires_at"] == nil {
		t.Fatalf("%d %s", rot.status, rot.body)
	}
	ctx := context.Background()
	for _, q := range []string{`SELECT COALESCE(CAST(body AS TEXT), '') FROM idempotency_keys`,
		`SELECT url || description || event_types FROM webhook_endpoints`} {
		rows, err := b.store.DBQ().QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			for _, sec := range []string{secret, secret2} {
				if strings.Contains(s, sec[6:]) {
					t.Fatalf("a webhook secret is stored in the clear: %s", q)
				}
			}
		}
		rows.Close()
	}
	ep, err := b.store.WebhookEndpoint(ctx, res.json(t)["id"].(string))
	if err != nil || strings.Contains(string(ep.SecretSealed), secret2[6:]) || ep.SecretKeyID == "" {
		t.Fatalf("sealed %v", err)
	}
}

func TestAnotherPartnerCannotSeeRotateOrDeleteAWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.send(t, req{method: "POST", path: "/v1/webhooks", body: hookBody}).json(t)["id"].(string)
	other := map[string]string{"x-api-key": b.keyA2}
	if l := b.send(t, req{method: "GET", path: "/v1/webhooks", header: other}).json(t); l["count"] != float64(0) {
		t.Fatalf("another partner lists %v", l)
	}
	for _, r := range []req{{method: "GET", path: "/v1/webhooks/" + id}, {method: "DELETE", path: "/v1/webhooks/" + id},
		{method: "POST", path: "/v1/webhooks/" + id + "/rotate", body: `{}`}} {
		r.header = other
		mustProblem(t, b.send(t, r), http.StatusNotFound, "not_found")
	}
	otherGroup := map[string]string{"x-api-key": b.keyB, "x-practice-group-id": b.groupB}
	if l := b.send(t, req{method: "GET", path: "/v1/webhooks", header: otherGroup}).json(t); l["count"] != float64(0) {
		t.Fatalf("another group lists %v", l)
	}
	if res := b.send(t, req{method: "DELETE", path: "/v1/webhooks/" + id}); res.status != http.StatusNoContent {
		t.Fatalf("%d %s", res.status, res.body)
	}
	mustProblem(t, b.get(t, "/v1/webhooks/"+id), http.StatusNotFound, "not_found")
}

func TestAWebhookRefusesAnUnsafeURLOrUnknownEventNamingTheFieldAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ body, field string }{
		{`{"url":"http://partner.example/hooks","event_types":["appointment.booked"]}`, "url"},
		{`{"url":"https://10.0.0.5/hooks","event_types":["appointment.booked"]}`, "url"},
		{`{"url":"https://169.254.169.254/latest","event_types":["appointment.booked"]}`, "url"},
		{`{"url":"https://partner.example/hooks","event_types":["appointment.teleported"]}`, "event_types"},
		{`{"url":"https://partner.example/hooks","event_types":[]}`, "event_types"},
		{`{"event_types":["appointment.booked"]}`, "url"},
		{`{"url":"https://partner.example/hooks"}`, "event_types"},
	} {
		m := mustProblem(t, b.send(t, req{method: "POST", path: "/v1/webhooks", body: tc.body}), http.StatusUnprocessableEntity, "validation_failed")
		errs, _ := m["errors"].([]any)
		if len(errs) == 0 || errs[0].(map[string]any)["field"] != tc.field {
			t.Fatalf("%s: %v", tc.body, m)
		}
	}
	if l := b.get(t, "/v1/webhooks").json(t); l["count"] != float64(0) {
		t.Fatalf("a refused webhook was stored: %v", l)
	}
}

func TestADisabledWebhookTellsThePartnerWhy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.send(t, req{method: "POST", path: "/v1/webhooks", body: hookBody}).json(t)["id"].(string)
	if _, err := b.store.DisableWebhookEndpoint(context.Background(), id, "Every delivery failed for 3 days (last: answered 503).",
		store.AuditEntry{Actor: "herolink", Action: "webhook.endpoint_disabled"}); err != nil {
		t.Fatal(err)
	}
	m := b.get(t, "/v1/webhooks/"+id).json(t)
	if m["status"] != "disabled" || !strings.Contains(m["disabled_reason"].(string), "answered 503") || m["disabled_at"] == nil {
		t.Fatalf("%v", m)
	}
}
