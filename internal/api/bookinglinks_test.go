package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"herolink/internal/bookinglink"
)

// The bundle's clock is 2026-03-02 09:00 UTC.
const linkBody = `{"appointment_type_id":"at_1","patient":{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"1980-03-05"},
	"from_date":"2026-03-02","to_date":"2026-03-09","expires_at":"2026-03-09T18:00:00Z","max_uses":1}`

func TestABookingLinkURLIsShownOnceAndItsTokenIsNeverStoredInClear(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.post(t, "/v1/booking_links", linkBody)
	m := res.json(t)
	url, _ := m["url"].(string)
	id, _ := m["id"].(string)
	if res.status != http.StatusCreated || m["status"] != "active" || res.header.Get("Location") != "/v1/booking_links/"+id ||
		!strings.HasPrefix(url, "https://book.herolink.example/book/") {
		t.Fatalf("%d %s %v", res.status, res.body, res.header)
	}
	token := strings.TrimPrefix(url, "https://book.herolink.example/book/")
	if len(token) < 43 { // 32 random bytes, base64url: 256 bits
		t.Fatalf("token %q is shorter than 256 random bits", token)
	}
	for _, path := range []string{"/v1/booking_links", "/v1/booking_links/" + id} {
		got := b.get(t, path)
		if got.status != http.StatusOK || strings.Contains(string(got.body), token) || strings.Contains(string(got.body), `"url"`) {
			t.Fatalf("%s: %d %s", path, got.status, got.body)
		}
	}
	// The database holds the token's hash, never the token.
	ctx := context.Background()
	rows, err := b.store.DBQ().QueryContext(ctx, `SELECT id || token_hash || owner_id || created_by FROM booking_links`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(s, token) || !strings.Contains(s, bookinglink.Hash(token)) {
			t.Fatalf("booking_links row %q: the token in clear, or not its hash", s)
		}
	}
	if l, err := b.links.Open(ctx, token); err != nil || l.ID != id {
		t.Fatalf("the token does not open its link: %+v %v", l, err)
	}
}

func TestAnotherPartnerCannotSeeOrDeleteABookingLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.post(t, "/v1/booking_links", linkBody).json(t)["id"].(string)
	other := map[string]string{"x-api-key": b.keyA2}
	if got := b.send(t, req{method: "GET", path: "/v1/booking_links", header: other}).json(t); got["count"] != float64(0) {
		t.Fatalf("another partner lists %v", got)
	}
	mustProblem(t, b.send(t, req{method: "GET", path: "/v1/booking_links/" + id, header: other}), http.StatusNotFound, "not_found")
	mustProblem(t, b.send(t, req{method: "DELETE", path: "/v1/booking_links/" + id, header: other}), http.StatusNotFound, "not_found")
	if got := b.get(t, "/v1/booking_links/"+id).json(t); got["status"] != "active" {
		t.Fatalf("after another partner's delete: %v", got)
	}
	if res := b.send(t, req{method: "DELETE", path: "/v1/booking_links/" + id}); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if got := b.get(t, "/v1/booking_links/"+id).json(t); got["status"] != "revoked" {
		t.Fatalf("after delete: %v", got)
	}
	mustProblem(t, b.get(t, "/v1/booking_links/bkl_nothing"), http.StatusNotFound, "not_found")
}

// A link locked by wrong dates of birth says so.
func TestABookingLinkLockedByWrongDatesOfBirthSaysLocked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.post(t, "/v1/booking_links", linkBody).json(t)["id"].(string)
	for range 10 {
		if _, _, err := b.store.RecordWrongDateOfBirth(context.Background(), id, bookinglink.DefaultLockAfter); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.get(t, "/v1/booking_links/"+id).json(t); got["status"] != "locked" {
		t.Fatalf("after 10 wrong answers: %v", got)
	}
}

func TestABookingLinkWithMissingOrWrongFieldsIsRefusedAndNothingIsMade(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, body string
		fields     []string
	}{
		{"nothing", `{}`, []string{"appointment_type_id", "from_date", "to_date", "expires_at", "max_uses"}},
		{"unknown appointment type and bad dates", `{"appointment_type_id":"at_9","from_date":"2026-03-09","to_date":"2026-03-02",
			"expires_at":"2026-03-01T09:00:00Z","max_uses":0}`, []string{"appointment_type_id", "to_date", "expires_at", "max_uses"}},
		{"expiry without offset", `{"appointment_type_id":"at_1","from_date":"2026-03-02","to_date":"2026-03-09",
			"expires_at":"2026-03-09 18:00","max_uses":1}`, []string{"expires_at"}},
		{"patient without a date of birth", `{"appointment_type_id":"at_1","from_date":"2026-03-02","to_date":"2026-03-09",
			"expires_at":"2026-03-09T18:00:00Z","max_uses":1,"patient":{"given_name":"Ada","family_name":"Lovelace"}}`, []string{"patient.date_of_birth"}},
		{"patient born in the future, bad NHS number", `{"appointment_type_id":"at_1","from_date":"2026-03-02","to_date":"2026-03-09",
			"expires_at":"2026-03-09T18:00:00Z","max_uses":1,"patient":{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"2099-01-01","nhs_number":"1234567890"}}`,
			[]string{"patient.nhs_number", "patient.date_of_birth"}},
		{"unknown location", `{"appointment_type_id":"at_1","location_id":"loc_9","from_date":"2026-03-02","to_date":"2026-03-09",
			"expires_at":"2026-03-09T18:00:00Z","max_uses":1}`, []string{"location_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustProblem(t, b.post(t, "/v1/booking_links", tc.body), http.StatusUnprocessableEntity, "validation_failed")
			got := fieldsOf(m)
			for _, f := range tc.fields {
				if !slices.Contains(got, f) {
					t.Fatalf("fields %v, want %v:\n%v", got, tc.fields, m)
				}
			}
		})
	}
	if got := b.get(t, "/v1/booking_links").json(t); got["count"] != float64(0) {
		t.Fatalf("a refused link was made: %v", got)
	}
}
