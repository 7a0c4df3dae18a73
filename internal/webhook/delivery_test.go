package webhook_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/webhook"
)

func TestAPartnerReceivesItsBookingSignedAsStandardWebhooksSays(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	start(t, b.queue)
	rc := newReceiver(t)
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("secret %q", ep.Secret)
	}
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.event(t, "apt_1", "appointment.reserved", "") // internal: never sent
	b.event(t, "apt_1", "appointment.confirming", "")
	b.event(t, "apt_1", "appointment.confirmed", "appointment")
	if n := b.fanOut(t); n != 2 {
		t.Fatalf("%d deliveries made, want 2", n)
	}
	got := rc.waitAccepted(t, 2)
	if want := []string{webhook.TypeConfirmed, webhook.TypeBooked}; !slices.Equal(types(got), want) {
		t.Fatalf("received %v, want %v", types(got), want)
	}
	d := got[1].Data
	if d["id"] != "apt_1" || d["state"] != "booked" || d["source"] != "herolink" || d["practice_group_id"] != b.practice.PracticeGroupID ||
		d["reference"] != "HL-APT_1" {
		t.Fatalf("data %v", d)
	}
	// Thin: nothing but what the partner already knows.
	allowed := []string{"id", "practice_group_id", "practice_id", "state", "source", "reference", "start"}
	for k := range d {
		if !slices.Contains(allowed, k) {
			t.Fatalf("payload carries %q: %s", k, got[1].Body)
		}
	}
	// Nothing more is sent: each event once.
	if n := b.fanOut(t); n != 0 {
		t.Fatalf("a second fan-out made %d deliveries", n)
	}
}

func TestAReceiverThatFailsThenTimesOutThenRecoversGetsTheEventOnceEveryAttemptLogged(t *testing.T) {
	t.Parallel()
	// 1 s, not less: on a loaded machine the answering attempts must not time out too.
	b := setup(t, storetest.Open(t), webhook.Config{AttemptTimeout: time.Second})
	start(t, b.queue)
	rc := newReceiver(t)
	rc.answer = func(w http.ResponseWriter, r *http.Request, m message, n int) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			<-r.Context().Done() // never answers: herolink gives up after its timeout
			return http.StatusOK
		}
		return http.StatusNoContent
	}
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.event(t, "apt_1", "appointment.confirmed", "placeholder")
	b.fanOut(t)
	got := rc.waitAccepted(t, 1)
	if got[0].Type != webhook.TypePlaceholderCreated {
		t.Fatalf("received %v", types(got))
	}
	var attempts []store.WebhookAttempt
	eventually(t, "three attempts logged", func() bool {
		attempts, _ = b.st.WebhookAttemptsOf(b.ctx, ep.ID, 10)
		return len(attempts) == 3
	})
	slices.Reverse(attempts)
	if attempts[0].Status != 500 || attempts[0].Excerpt != "answer 500" ||
		attempts[1].Status != 0 || !strings.Contains(attempts[1].Error, "no answer within") ||
		attempts[2].Status != 204 || attempts[2].Error != "" {
		t.Fatalf("attempts %+v", attempts)
	}
	if attempts[1].Latency < time.Second {
		t.Fatalf("the stalled attempt took %v", attempts[1].Latency)
	}
	// Every attempt carried the same webhook-id.
	for _, a := range rc.arrivals() {
		if a.ID != got[0].ID {
			t.Fatalf("arrivals with different ids: %+v", rc.arrivals())
		}
	}
	ds, _ := b.st.WebhookDeliveriesOf(b.ctx, ep.ID, 10)
	if len(ds) != 1 || ds[0].State != store.DeliveryDelivered || ds[0].Attempts != 3 {
		t.Fatalf("delivery %+v", ds)
	}
}

func TestEventsOfOneAppointmentArriveInOrderWhileAnotherAppointmentIsNotHeldUp(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	start(t, b.queue)
	rc := newReceiver(t)
	otherArrived := make(chan struct{})
	var once sync.Once
	rc.answer = func(w http.ResponseWriter, r *http.Request, m message, n int) int {
		if m.Data["id"] == "apt_2" {
			once.Do(func() { close(otherArrived) })
			return http.StatusOK
		}
		select {
		case <-otherArrived:
			if n < 3 { // fails twice more even after, so its successors must wait
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		default:
			return http.StatusServiceUnavailable
		}
	}
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.appointment(t, "apt_2", partnerA, 2)
	b.event(t, "apt_1", "appointment.confirming", "")
	b.event(t, "apt_1", "appointment.confirmed", "placeholder")
	b.event(t, "apt_1", "appointment.reconciled", "staff_link")
	b.event(t, "apt_1", "appointment.cancelled", "partner")
	b.event(t, "apt_2", "appointment.confirming", "")
	b.fanOut(t)
	got := rc.waitAccepted(t, 5)
	var one []string
	for _, m := range got {
		if m.Data["id"] == "apt_1" {
			one = append(one, m.Type)
		}
	}
	want := []string{webhook.TypeConfirmed, webhook.TypePlaceholderCreated, webhook.TypeReconciled, webhook.TypeCancelled}
	if !slices.Equal(one, want) {
		t.Fatalf("apt_1's events accepted as %v, want %v", one, want)
	}
	// Not only accepted in order: nothing of apt_1 was even sent before its predecessor was accepted.
	var seen []string
	for _, a := range rc.arrivals() {
		if a.Data["id"] != "apt_1" {
			continue
		}
		if i := slices.Index(want, a.Type); i > 0 && !slices.Contains(seen, want[i-1]) {
			t.Fatalf("%s sent before %s was accepted: %v", a.Type, want[i-1], types(rc.arrivals()))
		}
		if len(seen) == 0 || seen[len(seen)-1] != a.Type {
			seen = append(seen, a.Type)
		}
	}
	if got[0].Data["id"] != "apt_2" {
		t.Fatalf("apt_2 waited for apt_1: %v", types(got))
	}
}

func TestAnotherPartnersEventsAreNeverDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	start(t, b.queue)
	ra, rb := newReceiver(t), newReceiver(t)
	epA := b.endpoint(t, partnerA, ra.srv.URL)
	ra.trust(epA.Secret)
	epB := b.endpoint(t, partnerB, rb.srv.URL)
	b.appointment(t, "apt_a", partnerA, 1)
	b.appointment(t, "apt_staff", "", 2) // booked by staff or a patient's own link: no partner
	b.event(t, "apt_a", "appointment.confirming", "")
	b.event(t, "apt_staff", "appointment.confirming", "")
	b.event(t, "apt_a", "appointment.cancelled", "emis")
	if n := b.fanOut(t); n != 2 {
		t.Fatalf("%d deliveries, want partner A's two", n)
	}
	got := ra.waitAccepted(t, 2)
	if got[1].Data["source"] != "emis" {
		t.Fatalf("a reception cancellation: %v", got[1].Data)
	}
	if ds, _ := b.st.WebhookDeliveriesOf(b.ctx, epB.ID, 10); len(ds) != 0 {
		t.Fatalf("partner B got deliveries of partner A's appointment: %+v", ds)
	}
	if n := len(rb.arrivals()); n != 0 {
		t.Fatalf("partner B's receiver was called %d times", n)
	}
}

func TestDuringARotationDeliveriesCarryBothSignaturesAndAfterItOnlyTheNewOne(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{Overlap: time.Minute})
	start(t, b.queue)
	rc := newReceiver(t)
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret) // secret 0
	b.appointment(t, "apt_1", partnerA, 1)
	b.event(t, "apt_1", "appointment.confirming", "")
	b.fanOut(t)
	if got := rc.waitAccepted(t, 1); !slices.Equal(got[0].Verified, []int{0}) {
		t.Fatalf("before rotation verified by %v", got[0].Verified)
	}
	rotated, err := b.svc.Rotate(b.ctx, b.practice.PracticeGroupID, partnerA, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == ep.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.PreviousSecretUntil.IsZero() {
		t.Fatalf("rotated %+v", rotated)
	}
	rc.trust(rotated.Secret) // secret 1
	b.event(t, "apt_1", "appointment.confirmed", "appointment")
	b.fanOut(t)
	if got := rc.waitAccepted(t, 2); !slices.Equal(got[1].Verified, []int{0, 1}) {
		t.Fatalf("during the overlap verified by %v, want both", got[1].Verified)
	}
	// After the overlap the old secret no longer signs. (The clock moves past it; the
	// receiver's 5-minute tolerance still holds.)
	b.svc.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	b.event(t, "apt_1", "appointment.cancelled", "partner")
	b.fanOut(t)
	if got := rc.waitAccepted(t, 3); !slices.Equal(got[2].Verified, []int{1}) {
		t.Fatalf("after the overlap verified by %v, want only the new secret", got[2].Verified)
	}
	// The list never shows a secret again.
	list, err := b.svc.List(b.ctx, b.practice.PracticeGroupID, partnerA)
	if err != nil || len(list) != 1 || list[0].Secret != "" {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestACrashBetweenTheChangeAndTheDeliveryLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	rc := newReceiver(t)
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.appointment(t, "apt_2", partnerA, 2)
	// Instance 1: the change commits (its event with it), then the process dies before any
	// fan-out ran.
	b.event(t, "apt_1", "appointment.confirming", "")
	// Instance 2 fans out apt_2's change (the deliveries and their jobs commit together) and
	// dies before any worker ran: its queue is never started.
	b.event(t, "apt_2", "appointment.confirming", "")
	svc2, _ := b.instance(t, webhook.Config{})
	if n, err := svc2.FanOut(b.ctx); err != nil || n != 2 {
		t.Fatalf("fan-out made %d: %v", n, err)
	}
	b.event(t, "apt_1", "appointment.confirmed", "appointment") // the write-back finished meanwhile
	// Instance 3 starts: its fan-out and workers deliver everything, each once.
	svc3, q3 := b.instance(t, webhook.Config{})
	start(t, q3)
	if _, err := svc3.FanOut(b.ctx); err != nil {
		t.Fatal(err)
	}
	got := rc.waitAccepted(t, 3)
	ids := map[string]int{}
	for _, m := range got {
		ids[m.Data["id"].(string)+" "+m.Type]++
	}
	for _, want := range []string{"apt_1 " + webhook.TypeConfirmed, "apt_1 " + webhook.TypeBooked, "apt_2 " + webhook.TypeConfirmed} {
		if ids[want] != 1 {
			t.Fatalf("%s received %d times: %v", want, ids[want], ids)
		}
	}
}

func TestTwoInstancesFanningOutAtOnceMakeEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, webhook.Config{})
		ep := b.endpoint(t, partnerA, "https://partner.example/hook")
		for i := range 20 {
			id := "apt_" + string(rune('a'+i))
			b.appointment(t, id, partnerA, i)
			b.event(t, id, "appointment.confirming", "")
			b.event(t, id, "appointment.confirmed", "placeholder")
		}
		svc2, _ := b.instance(t, webhook.Config{})
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, s := range []*webhook.Service{b.svc, svc2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					n, err := s.FanOut(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					counts[i] += n
				}
			}()
		}
		wg.Wait()
		ds, err := b.st.WebhookDeliveriesOf(b.ctx, ep.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 40 || counts[0]+counts[1] != 40 {
			t.Fatalf("%d deliveries (instances made %v), want 40", len(ds), counts)
		}
	})
}

func TestAnEndpointFailingForTheWholeRetryPeriodIsDisabledAndEveryoneIsTold(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{RetryFor: 400 * time.Millisecond})
	start(t, b.queue)
	rc := newReceiver(t)
	rc.answer = func(http.ResponseWriter, *http.Request, message, int) int { return http.StatusBadGateway }
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.event(t, "apt_1", "appointment.confirming", "")
	b.event(t, "apt_1", "appointment.confirmed", "appointment")
	b.fanOut(t)
	var got webhook.Endpoint
	eventually(t, "the endpoint is disabled", func() bool {
		got, _ = b.svc.Get(b.ctx, b.practice.PracticeGroupID, partnerA, ep.ID)
		return got.State == store.WebhookDisabled
	})
	if !strings.Contains(got.DisabledReason, "answered 502") || got.DisabledAt.IsZero() {
		t.Fatalf("the partner is told %+v", got)
	}
	audit, err := b.st.ListAudit(b.ctx, b.practice.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit, func(e store.AuditEntry) bool {
		return e.Action == "webhook.endpoint_disabled" && strings.Contains(e.Detail, ep.ID)
	}) {
		t.Fatalf("the practice's audit trail does not say so: %+v", audit)
	}
	ds, _ := b.st.WebhookDeliveriesOf(b.ctx, ep.ID, 10)
	for _, d := range ds {
		if d.State != store.DeliverySkipped {
			t.Fatalf("a delivery to a disabled endpoint is %s", d.State)
		}
	}
	// Nothing new is delivered to it.
	b.event(t, "apt_1", "appointment.cancelled", "partner")
	if n := b.fanOut(t); n != 0 {
		t.Fatalf("%d deliveries to a disabled endpoint", n)
	}
}

func TestStaffResendDeliversAgainWithTheSameMessageID(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	start(t, b.queue)
	rc := newReceiver(t)
	ep := b.endpoint(t, partnerA, rc.srv.URL)
	rc.trust(ep.Secret)
	b.appointment(t, "apt_1", partnerA, 1)
	b.event(t, "apt_1", "appointment.failed", "slot_taken")
	b.fanOut(t)
	first := rc.waitAccepted(t, 1)[0]
	if first.Data["failure_code"] != "slot_taken" || first.Data["state"] != "failed" {
		t.Fatalf("data %v", first.Data)
	}
	ds, _ := b.st.WebhookDeliveriesOf(b.ctx, ep.ID, 10)
	eventually(t, "the delivery is settled", func() bool {
		d, _ := b.st.WebhookDeliveryByID(b.ctx, ds[0].ID)
		return d.State == store.DeliveryDelivered
	})
	if err := b.svc.Resend(b.ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	again := rc.waitAccepted(t, 2)[1]
	if again.ID != first.ID || string(again.Body) != string(first.Body) {
		t.Fatalf("resent %s %s, first %s %s", again.ID, again.Body, first.ID, first.Body)
	}
}

func TestAConnectionStatusChangeGoesToEveryPartnerOfTheGroupSubscribedToIt(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.Open(t), webhook.Config{})
	start(t, b.queue)
	ra, rb := newReceiver(t), newReceiver(t)
	epA := b.endpoint(t, partnerA, ra.srv.URL, webhook.TypeConnectionStatus)
	ra.trust(epA.Secret)
	epB := b.endpoint(t, partnerB, rb.srv.URL, webhook.TypeBooked) // not subscribed
	health := func(status, reason string) {
		t.Helper()
		if _, err := b.st.DBQ().ExecContext(b.ctx, `INSERT INTO health_events (practice_id, at, status, reason) VALUES (?, ?, ?, ?)`,
			b.practice.ID, time.Now().UnixMilli(), status, reason); err != nil {
			t.Fatal(err)
		}
	}
	health("connected", "")
	health("failing", "outcome 3")
	health("failing", "outcome 4") // only the reason changed: nothing to say
	b.fanOut(t)
	got := ra.waitAccepted(t, 2)
	if got[0].Data["state"] != "connected" || got[1].Data["state"] != "failing" || got[1].Data["previous_state"] != "connected" {
		t.Fatalf("received %v %v", got[0].Data, got[1].Data)
	}
	for _, m := range got {
		if _, ok := m.Data["reason"]; ok {
			t.Fatalf("the practice's reason was sent: %s", m.Body)
		}
	}
	if ds, _ := b.st.WebhookDeliveriesOf(b.ctx, epB.ID, 10); len(ds) != 0 {
		t.Fatalf("an endpoint not subscribed got %+v", ds)
	}
}
