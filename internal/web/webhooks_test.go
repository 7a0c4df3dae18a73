package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/jobs"
	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/vault"
	"herolink/internal/webhook"
)

// webhooksBundle is the pages with a webhook service (its queue not started: a resend is a
// job waiting) and two practices of two groups, each with a partner endpoint that failed once.
func webhooksBundle(t *testing.T) (b *testBundle, pa, pb store.Practice, deliveryA, deliveryB int64, q jobs.Queue) {
	t.Helper()
	b, pa, pb, _ = keysBundle(t)
	ctx := context.Background()
	keys, err := vault.LoadFile(filepath.Join(t.TempDir(), "secret.keys"))
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhook.New(b.store, keys, nil, webhook.Config{})
	workers := river.NewWorkers()
	webhook.AddWorkers(workers, hooks)
	if q, err = jobs.New(b.store, &river.Config{Workers: workers}); err != nil {
		t.Fatal(err)
	}
	hooks.Queue = q
	web := httptest.NewServer(New(Config{Store: b.store, Practices: b.service, Sessions: &staff.Sessions{Store: b.store},
		Booking: b.booking, Webhooks: hooks}))
	t.Cleanup(web.Close)
	b.web = web
	mk := func(p store.Practice, id string) int64 {
		t.Helper()
		if err := b.store.CreateWebhookEndpoint(ctx, store.WebhookEndpoint{ID: id, PracticeGroupID: p.PracticeGroupID, OwnerID: "key_" + id,
			URL: "https://partner.example/" + id + "?token=tok-" + id, EventTypes: []string{"appointment.booked"}, SecretKeyID: "k", SecretSealed: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		var did int64
		if err := b.store.InTx(ctx, func(tx *store.Tx) (err error) {
			did, _, err = b.store.InsertWebhookDelivery(ctx, tx, store.WebhookDelivery{EndpointID: id, MsgID: "msg_" + id, EventType: "appointment.booked",
				Stream: "apt_" + id, Source: store.SourceAppointmentEvents, SourceID: 1, Payload: `{}`})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: did, EndpointID: id, At: time.Now(), Status: 503,
			Latency: 120 * time.Millisecond, Error: "answered 503", Excerpt: "upstream down"}, false, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return did
	}
	return b, pa, pb, mk(pa, "whk_a"), mk(pb, "whk_b"), q
}

func TestStaffSeeTheirGroupsWebhooksAttemptsAndResendOne(t *testing.T) {
	t.Parallel()
	b, pa, pb, da, db, q := webhooksBundle(t)
	c := b.signedIn(t, "pm", store.RolePractice, pa.ID)
	page := c.get(practicePath(pa.ID) + "/webhooks")
	if page.status != http.StatusOK {
		t.Fatalf("%d", page.status)
	}
	mustSay(t, page, "https://partner.example/whk_a", "Failing since", "answered 503", "upstream down", "120 ms", "msg_whk_a", "Resend")
	mustNotSay(t, page, "tok-whk_a", "whk_b") // the URL's token is the partner's; another group's endpoint is not shown
	r := c.post(practicePath(pa.ID)+"/webhooks/deliveries/"+itoa(da)+"/resend", nil)
	if r.status != http.StatusOK {
		t.Fatalf("resend: %d %s", r.status, r.url)
	}
	mustSay(t, r, "The delivery is sent again.")
	if d, _ := b.store.WebhookDeliveryByID(context.Background(), da); d.State != store.DeliveryPending || d.Attempts != 0 {
		t.Fatalf("after resend %+v", d)
	}
	res, err := q.JobList(context.Background(), river.NewJobListParams().Kinds(webhook.DeliverArgs{}.Kind()))
	if err != nil || len(res.Jobs) != 1 {
		t.Fatalf("jobs after resend: %v %v", res, err)
	}
	// Another group's delivery through one's own practice is not found; another practice's page is forbidden.
	if r := c.post(practicePath(pa.ID)+"/webhooks/deliveries/"+itoa(db)+"/resend", nil); r.status != http.StatusNotFound {
		t.Fatalf("another group's delivery: %d", r.status)
	}
	if r := c.get(practicePath(pb.ID) + "/webhooks"); r.status != http.StatusForbidden {
		t.Fatalf("another practice: %d", r.status)
	}
}

func TestAWebhookDisabledAfterFailingIsShownWithWhyAndFlaggedOnThePracticePage(t *testing.T) {
	t.Parallel()
	b, pa, _, da, _, _ := webhooksBundle(t)
	ctx := context.Background()
	if _, err := b.store.DisableWebhookEndpoint(ctx, "whk_a", "Every delivery failed for 3 days (last: answered 503).",
		store.AuditEntry{Actor: "herolink", Action: "webhook.endpoint_disabled", Detail: "endpoint whk_a disabled"}); err != nil {
		t.Fatal(err)
	}
	c := b.signedIn(t, "support", store.RoleSupport, 0)
	mustSay(t, c.get(practicePath(pa.ID)+"/webhooks"), "Disabled", "Every delivery failed for 3 days")
	mustSay(t, c.get(practicePath(pa.ID)), "1 disabled")
	// A disabled endpoint's delivery cannot be resent.
	if r := c.post(practicePath(pa.ID)+"/webhooks/deliveries/"+itoa(da)+"/resend", nil); r.status != http.StatusNotFound {
		t.Fatalf("resend to a disabled endpoint: %d", r.status)
	}
}

func itoa(n int64) string { return practicePath(n)[len("/admin/practices/"):] }
