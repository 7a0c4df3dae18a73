package webhook

import (
	"encoding/json"
	"testing"
	"time"

	"herolink/internal/store"
)

func TestEachInternalEventBecomesTheWebhookTheIssueNamesOrNone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		event, detail      string
		typ, state, source string // typ "": not delivered
	}{
		{"appointment.confirming", "", TypeConfirmed, "confirming", "herolink"},
		{"appointment.confirming", "rescheduled from apt_0", TypeConfirmed, "confirming", "herolink"},
		{"appointment.confirmed", "appointment", TypeBooked, "booked", "herolink"},
		{"appointment.confirmed", "placeholder", TypePlaceholderCreated, "placeholder", "herolink"},
		{"appointment.reconciled", "auto_match", TypeReconciled, "booked", "herolink"},
		{"appointment.reconciled", "staff_link", TypeReconciled, "booked", "herolink"},
		{"appointment.reconciled", "booked_in_emis", TypeReconciled, "booked", "emis"},
		{"appointment.failed", "slot_taken", TypeFailed, "failed", "herolink"},
		{"appointment.cancelled", "partner", TypeCancelled, "cancelled", "herolink"},
		{"appointment.cancelled", "staff", TypeCancelled, "cancelled", "herolink"},
		{"appointment.cancelled", "emis", TypeCancelled, "cancelled", "emis"},
		{"appointment.rescheduled", "apt_2", TypeRescheduled, "cancelled", "herolink"},
		{"appointment.moved_in_emis", "2030-03-04T10:00:00Z", TypeRescheduled, "booked", "emis"},
		{"appointment.placeholder_overdue", "", TypePlaceholderOverdue, "placeholder", "herolink"},
		{"appointment.reserved", "", "", "", ""},
		{"appointment.hold_moved", "x -> y", "", "", ""},
		{"appointment.link_requested", "staff", "", "", ""},
		{"appointment.patient_linked", "staff", "", "", ""},
		{"appointment.reschedule_failed", "apt_2", "", "", ""},
		{"appointment.booked_in_emis", "", "", "", ""},
		{"appointment.cancelled_in_emis", "", "", "", ""}, // herolink's own cancellation landing in EMIS
		{"appointment.confirmed", "", "", "", ""},
	} {
		d, ok := classify(tc.event, tc.detail)
		if ok != (tc.typ != "") || d.Type != tc.typ || d.State != tc.state || d.Source != tc.source {
			t.Errorf("%s %q: %+v %v, want %s %s %s", tc.event, tc.detail, d, ok, tc.typ, tc.state, tc.source)
		}
	}
}

func TestARescheduleAndAMoveSayWhereTheAppointmentWent(t *testing.T) {
	t.Parallel()
	base := store.OutboxAppointmentEvent{ID: 7, AppointmentID: "apt_1", At: time.Unix(1700000000, 0), PracticeGroupID: "pg_1",
		PracticeID: 3, OwnerID: "key_1", Reference: "HL-1", StartAt: time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		event, detail, field, want string
	}{
		{"appointment.rescheduled", "apt_2", "rescheduled_to", "apt_2"},
		{"appointment.moved_in_emis", "2030-03-04T11:30:00Z", "start", "2030-03-04T11:30:00Z"},
		{"appointment.failed", "slot_gone", "failure_code", "slot_gone"},
		{"appointment.reconciled", "staff_link", "reconciled_by", "staff_link"},
	} {
		e := base
		e.Event, e.Detail = tc.event, tc.detail
		_, body, ok := appointmentPayload(e)
		var p struct{ Data map[string]any }
		if err := json.Unmarshal(body, &p); !ok || err != nil || p.Data[tc.field] != tc.want {
			t.Errorf("%s: %s", tc.event, body)
		}
	}
}

func TestTheDefaultBackoffRetriesWithinAMinuteFirstAndForThreeDaysWithinTheJobsAttempts(t *testing.T) {
	t.Parallel()
	if backoff(1) > time.Minute {
		t.Fatalf("first retry after %v", backoff(1))
	}
	var total time.Duration
	n := 0
	for total < 72*time.Hour {
		n++
		if backoff(n) < backoff(max(n-1, 1)) {
			t.Fatalf("backoff shrinks at %d", n)
		}
		total += backoff(n)
	}
	if opts := deliverOpts(); n >= opts.MaxAttempts {
		t.Fatalf("3 days need %d attempts, River allows %d", n, opts.MaxAttempts)
	}
}

func TestADeliveryWaitingForItsPredecessorsWaitsLongerTheMoreAreAhead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		untilFirst time.Duration
		ahead      int
		want       time.Duration
	}{
		{-time.Second, 1, 50 * time.Millisecond},                     // the first is due now: look again soon
		{10 * time.Second, 1, 10*time.Second + 100*time.Millisecond}, // until the first's next try
		{0, 100, 4 * time.Second},                                    // deep queue: 40 ms per message ahead
		{time.Hour, 1, 5 * time.Minute},                              // never more than 5 minutes
	} {
		if got := orderWait(tc.untilFirst, tc.ahead); got != tc.want {
			t.Errorf("orderWait(%v, %d) = %v, want %v", tc.untilFirst, tc.ahead, got, tc.want)
		}
	}
}
