package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"herolink/internal/booking"
)

func TestSlotSearchNeedsAValidRangeOfAtMost56Days(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{"", []string{"start_date", "end_date"}},
		{"start_date=2026-03-03", []string{"end_date"}},
		{"start_date=03/03/2026&end_date=2026-03-04", []string{"start_date"}},
		{"start_date=2026-02-30&end_date=2026-03-04", []string{"start_date"}},
		{"start_date=2026-03-04&end_date=2026-03-03", []string{"end_date"}},
		{"start_date=2026-03-01&end_date=2026-04-26", []string{"end_date"}}, // 57 days
		{"start_date=2026-03-03&end_date=2026-03-04&limit=0", []string{"limit"}},
		{"start_date=2026-03-03&end_date=2026-03-04&limit=501", []string{"limit"}},
		{"start_date=2026-03-03&end_date=2026-03-04&limit=ten", []string{"limit"}},
		{"start_date=2026-03-03&start_date=2026-03-04&end_date=2026-03-04", []string{"start_date"}},
		{"start_date=2026-03-03&end_date=2026-03-04&location=loc_1", []string{"location"}},
		{"start_date=2026-03-03&end_date=2026-03-04&cursor=%", []string{"query"}},
	} {
		m := mustProblem(t, b.get(t, "/v1/slots?"+tc.query), http.StatusUnprocessableEntity, "validation_failed")
		if !slices.Equal(fieldsOf(m), tc.fields) {
			t.Fatalf("%q: fields %v, want %v", tc.query, fieldsOf(m), tc.fields)
		}
	}
	if n := b.booking.count("Slots"); n != 0 {
		t.Fatalf("the booking core was asked %d times", n)
	}
	// 56 days, both included, across the clocks changing, is allowed.
	if res := b.get(t, "/v1/slots?start_date=2026-03-01&end_date=2026-04-25"); res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestSlotSearchPassesFiltersAndPagesWithACursor(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.get(t, "/v1/slots?start_date=2026-03-03&end_date=2026-03-10&location_id=loc_1&practitioner_id=pr_1&appointment_type_id=at_1&limit=2")
	m := res.json(t)
	if res.status != http.StatusOK || m["count"] != float64(2) || m["next_cursor"] != "2" {
		t.Fatalf("%s", res.body)
	}
	q := b.booking.lastQuery
	london, _ := time.LoadLocation("Europe/London")
	want := booking.SlotQuery{From: time.Date(2026, 3, 3, 0, 0, 0, 0, london), To: time.Date(2026, 3, 10, 0, 0, 0, 0, london),
		LocationID: "loc_1", PractitionerID: "pr_1", AppointmentTypeID: "at_1", Limit: 2}
	if !q.From.Equal(want.From) || !q.To.Equal(want.To) || q.LocationID != want.LocationID || q.PractitionerID != want.PractitionerID ||
		q.AppointmentTypeID != want.AppointmentTypeID || q.Limit != 2 || q.Cursor != "" {
		t.Fatalf("query %+v", q)
	}
	res = b.get(t, "/v1/slots?start_date=2026-03-03&end_date=2026-03-10&limit=2&cursor=2")
	m = res.json(t)
	if m["count"] != float64(1) || m["next_cursor"] != nil {
		t.Fatalf("last page: %s", res.body)
	}
	slot := m["data"].([]any)[0].(map[string]any)
	if slot["start"] != "2026-03-03T09:20:00Z" || slot["end"] != "2026-03-03T09:30:00Z" {
		t.Fatalf("times are RFC 3339 in London (GMT in March): %v", slot)
	}
	// Without limit the booking core gets the default page size.
	b.get(t, "/v1/slots?start_date=2026-03-03&end_date=2026-03-10")
	if b.booking.lastQuery.Limit != 100 {
		t.Fatalf("default limit %d", b.booking.lastQuery.Limit)
	}
	// A cursor the core does not recognise is its refusal to make.
	mustProblem(t, b.get(t, "/v1/slots?start_date=2026-03-03&end_date=2026-03-10&cursor=bogus"), http.StatusUnprocessableEntity, "validation_failed")
}

func TestASlotIsFoundByIDOnlyInTheCallersGroup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.get(t, "/v1/slots/"+b.slotOf(b.groupA))
	if res.status != http.StatusOK || res.json(t)["id"] != b.slotOf(b.groupA) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	mustProblem(t, b.get(t, "/v1/slots/"+b.slotOf(b.groupB)), http.StatusNotFound, "not_found")
	b.booking.failNext("Slot", refuse(booking.CodeSlotUnavailable, "slot is booked"))
	mustProblem(t, b.get(t, "/v1/slots/"+b.slotOf(b.groupA)), http.StatusConflict, "slot_unavailable")
	long := make([]byte, 101)
	for i := range long {
		long[i] = 'x'
	}
	mustProblem(t, b.get(t, "/v1/slots/"+string(long)), http.StatusNotFound, "not_found")
}
