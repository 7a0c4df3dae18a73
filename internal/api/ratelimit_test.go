package api_test

import (
	"net/http"
	"testing"
	"time"
)

func TestAKeyOverItsRateIsToldWhenToRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{rate: 0.5, burst: 2}) // a token every 2 s
	for range 2 {
		if res := b.get(t, "/v1/locations"); res.status != http.StatusOK {
			t.Fatalf("%d", res.status)
		}
	}
	res := b.get(t, "/v1/locations")
	mustProblem(t, res, http.StatusTooManyRequests, "rate_limited")
	if got := res.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q", got)
	}
	// Other keys have their own budget; refused requests spend nothing.
	if res := b.send(t, req{method: "GET", path: "/v1/locations", header: map[string]string{"x-api-key": b.keyA2}}); res.status != http.StatusOK {
		t.Fatalf("other key: %d", res.status)
	}
	b.clock.Add(1500 * time.Millisecond)
	if res := b.get(t, "/v1/locations"); res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
		t.Fatalf("%d %v", res.status, res.header)
	}
	b.clock.Add(500 * time.Millisecond)
	if res := b.get(t, "/v1/locations"); res.status != http.StatusOK {
		t.Fatalf("after waiting: %d", res.status)
	}
	// A POST over the rate is refused before the booking core or idempotency see it.
	mustProblem(t, b.send(t, idem(req{method: "POST", path: "/v1/appointments", body: `{"slot_id":"` + b.slotOf(b.groupA) + `"}`}, "r1")),
		http.StatusTooManyRequests, "rate_limited")
	if b.booking.count("Reserve") != 0 {
		t.Fatal("reserved over the rate")
	}
}

func TestUnauthenticatedRequestsDoNotSpendAKeysBudget(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{rate: 0.5, burst: 1})
	for range 5 {
		mustProblem(t, b.send(t, req{method: "GET", path: "/v1/locations", header: map[string]string{"x-practice-group-id": b.groupB}}),
			http.StatusForbidden, "practice_group_forbidden")
	}
	if res := b.get(t, "/v1/locations"); res.status != http.StatusOK {
		t.Fatalf("%d", res.status)
	}
}
