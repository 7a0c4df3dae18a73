package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func webhookEndpoint(p store.Practice, id, owner string) store.WebhookEndpoint {
	return store.WebhookEndpoint{ID: id, PracticeGroupID: p.PracticeGroupID, OwnerID: owner, URL: "https://partner.example/" + id,
		EventTypes: []string{"appointment.booked", "appointment.cancelled"}, SecretKeyID: "k1", SecretSealed: []byte("sealed-1"), CreatedBy: "test"}
}

func TestAWebhookEndpointBelongsToItsPartnerAndRotatesKeepingThePreviousSecret(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateWebhookEndpoint(ctx, webhookEndpoint(p, "whk_a", "key_a")))
		must(t, st.CreateWebhookEndpoint(ctx, webhookEndpoint(p, "whk_b", "key_b")))
		mine, err := st.WebhookEndpointsOf(ctx, p.PracticeGroupID, "key_a")
		must(t, err)
		if len(mine) != 1 || mine[0].ID != "whk_a" || len(mine[0].EventTypes) != 2 || string(mine[0].SecretSealed) != "sealed-1" || mine[0].State != store.WebhookActive {
			t.Fatalf("partner a's endpoints %+v", mine)
		}
		// Another partner cannot rotate or delete it.
		if err := st.RotateWebhookSecret(ctx, p.PracticeGroupID, "key_b", "whk_a", "k2", []byte("x"), c.t.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rotated by another partner: %v", err)
		}
		if err := st.DeleteWebhookEndpoint(ctx, p.PracticeGroupID, "key_b", "whk_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted by another partner: %v", err)
		}
		must(t, st.RotateWebhookSecret(ctx, p.PracticeGroupID, "key_a", "whk_a", "k2", []byte("sealed-2"), c.t.Add(time.Hour)))
		e, err := st.WebhookEndpoint(ctx, "whk_a")
		must(t, err)
		if e.SecretKeyID != "k2" || string(e.SecretSealed) != "sealed-2" || e.OldSecretKeyID != "k1" ||
			string(e.OldSecretSealed) != "sealed-1" || !e.OldSecretUntil.Equal(c.t.Add(time.Hour)) {
			t.Fatalf("after rotation %+v", e)
		}
		all, err := st.WebhookEndpointsInGroup(ctx, "")
		must(t, err)
		active, err := st.ActiveWebhookEndpoints(ctx, st.DBQ(), p.PracticeGroupID, "")
		must(t, err)
		if len(all) != 2 || len(active) != 2 {
			t.Fatalf("all %d, active %d", len(all), len(active))
		}
		must(t, st.DeleteWebhookEndpoint(ctx, p.PracticeGroupID, "key_a", "whk_a"))
		if mine, _ := st.WebhookEndpointsOf(ctx, p.PracticeGroupID, "key_a"); len(mine) != 0 {
			t.Fatalf("a deleted endpoint is listed: %+v", mine)
		}
		if err := st.DeleteWebhookEndpoint(ctx, p.PracticeGroupID, "key_a", "whk_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
	})
}

func TestTheOutboxIsClaimedOnceAcrossConcurrentTransactionsAndMarked(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := newPractice(t, st, "A81001")
		a := hold(f, "apt_1", 1, 0)
		a.APIKeyID = "key_a"
		must(t, insertHold(t, st, a))
		if waiting, err := st.OutboxWaiting(ctx); err != nil || waiting {
			t.Fatalf("an empty outbox waiting: %v %v", waiting, err)
		}
		for _, ev := range []string{"appointment.confirming", "appointment.confirmed"} {
			must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_1", ev, "appointment"))
		}
		exec(t, st, `INSERT INTO health_events (practice_id, at, status, reason) VALUES (?, 1, 'connected', ''), (?, 2, 'failing', 'x')`, f.ID, f.ID)
		tx1 := make(chan []store.OutboxAppointmentEvent)
		release := make(chan struct{})
		done := make(chan error)
		go func() {
			done <- st.InTx(ctx, func(tx *store.Tx) error {
				evs, err := st.ClaimAppointmentEvents(ctx, tx, 1)
				tx1 <- evs
				<-release
				if err != nil {
					return err
				}
				return st.MarkAppointmentEventsFannedOut(ctx, tx, []int64{evs[0].ID})
			})
		}()
		first := <-tx1
		if len(first) != 1 || first[0].Event != "appointment.confirming" || first[0].OwnerID != "key_a" || first[0].Reference != "HL-apt_1" {
			t.Fatalf("first claim %+v", first)
		}
		if st.Dialect() == store.Postgres {
			// While the first transaction holds its row, another claim skips it.
			must(t, st.InTx(ctx, func(tx *store.Tx) error {
				evs, err := st.ClaimAppointmentEvents(ctx, tx, 10)
				if err == nil && (len(evs) != 1 || evs[0].Event != "appointment.confirmed") {
					t.Errorf("a concurrent claim got %+v", evs)
				}
				return err
			}))
		}
		close(release)
		must(t, <-done)
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			evs, err := st.ClaimAppointmentEvents(ctx, tx, 10)
			if err == nil && (len(evs) != 1 || evs[0].Event != "appointment.confirmed") {
				t.Errorf("after the first committed: %+v", evs)
			}
			hs, err := st.ClaimHealthEvents(ctx, tx, 10)
			if err == nil && (len(hs) != 2 || hs[0].Previous != "" || hs[1].Status != "failing" || hs[1].Previous != "connected" ||
				hs[1].PracticeGroupID != f.PracticeGroupID) {
				t.Errorf("health events %+v", hs)
			}
			if err != nil {
				return err
			}
			if err := st.MarkHealthEventsFannedOut(ctx, tx, []int64{hs[0].ID, hs[1].ID}); err != nil {
				return err
			}
			hs, err = st.ClaimHealthEvents(ctx, tx, 10)
			if err == nil && len(hs) != 0 {
				t.Errorf("marked health events claimed again: %+v", hs)
			}
			return err
		}))
		if waiting, err := st.OutboxWaiting(ctx); err != nil || !waiting {
			t.Fatalf("one appointment event left: waiting %v %v", waiting, err)
		}
		exec(t, st, `UPDATE appointment_events SET fanned_out = 1`)
		if waiting, err := st.OutboxWaiting(ctx); err != nil || waiting {
			t.Fatalf("all fanned out: waiting %v %v", waiting, err)
		}
	})
}

func TestAWebhookDeliveryIsMadeOnceWaitsForItsPredecessorAndLogsEveryAttempt(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := newPractice(t, st, "A81001")
		must(t, insertHold(t, st, hold(f, "apt_1", 1, 0)))
		must(t, st.CreateWebhookEndpoint(ctx, webhookEndpoint(f, "whk_a", "key_a")))
		for range 3 {
			must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_1", "appointment.confirming", ""))
		}
		var evs []store.OutboxAppointmentEvent
		must(t, st.InTx(ctx, func(tx *store.Tx) (err error) {
			evs, err = st.ClaimAppointmentEvents(ctx, tx, 10)
			return err
		}))
		ids := make([]int64, 3)
		mk := func(i int) store.WebhookDelivery {
			return store.WebhookDelivery{EndpointID: "whk_a", MsgID: "msg_" + string(rune('a'+i)), EventType: "appointment.confirmed",
				Stream: "apt_1", Source: store.SourceAppointmentEvents, SourceID: evs[i].ID, Payload: `{}`}
		}
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			for i := range 2 {
				id, inserted, err := st.InsertWebhookDelivery(ctx, tx, mk(i))
				if err != nil || !inserted {
					return errors.Join(err, errors.New("not inserted"))
				}
				ids[i] = id
				if _, again, err := st.InsertWebhookDelivery(ctx, tx, mk(i)); err != nil || again {
					return errors.Join(err, errors.New("inserted twice"))
				}
			}
			return st.MarkAppointmentEventsFannedOut(ctx, tx, []int64{evs[0].ID, evs[1].ID})
		}))
		d0, err := st.WebhookDeliveryByID(ctx, ids[0])
		must(t, err)
		d1, err := st.WebhookDeliveryByID(ctx, ids[1])
		must(t, err)
		if wait, _, _, err := st.WebhookDeliveryWaits(ctx, d0); err != nil || wait {
			t.Fatalf("the first waits: %v %v", wait, err)
		}
		if wait, ahead, _, err := st.WebhookDeliveryWaits(ctx, d1); err != nil || !wait || ahead != 1 {
			t.Fatalf("the second does not wait for the first: %v %v", wait, err)
		}
		// A failure: logged, the endpoint failing since then, the delivery still pending.
		next := c.t.Add(5 * time.Second)
		since, err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: ids[0], EndpointID: "whk_a", At: c.t,
			Status: 503, Latency: 40 * time.Millisecond, Error: "answered 503", Excerpt: "busy"}, false, next)
		must(t, err)
		if !since.Equal(c.t) {
			t.Fatalf("failing since %v", since)
		}
		if wait, _, until, _ := st.WebhookDeliveryWaits(ctx, d1); !wait || !until.Equal(next) {
			t.Fatalf("the second waits %v until %v, want the first's next try %v", wait, until, next)
		}
		c.advance(5 * time.Second)
		since, err = st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: ids[0], EndpointID: "whk_a", At: c.t, Status: 200}, true, time.Time{})
		must(t, err)
		if !since.IsZero() {
			t.Fatalf("still failing since %v after a success", since)
		}
		d0, _ = st.WebhookDeliveryByID(ctx, ids[0])
		if d0.State != store.DeliveryDelivered || d0.Attempts != 2 || d0.FirstAttemptAt.Equal(c.t) || !d0.NextAttemptAt.IsZero() {
			t.Fatalf("delivered %+v", d0)
		}
		// The third event is not fanned out yet: the second does not wait for it, but a
		// delivery of it would wait for the second.
		if wait, _, _, _ := st.WebhookDeliveryWaits(ctx, d1); wait {
			t.Fatal("the second still waits once the first is delivered")
		}
		d2 := mk(2)
		d2.SourceID = evs[2].ID + 1
		if wait, _, _, _ := st.WebhookDeliveryWaits(ctx, d2); !wait {
			t.Fatal("a later message does not wait for an earlier event not fanned out")
		}
		attempts, err := st.WebhookAttemptsOf(ctx, "whk_a", 10)
		must(t, err)
		if len(attempts) != 2 || attempts[1].Status != 503 || attempts[1].Excerpt != "busy" || attempts[1].Latency != 40*time.Millisecond ||
			attempts[1].MsgID != "msg_a" {
			t.Fatalf("attempts %+v", attempts)
		}
		// Resend makes it pending again; settle ends it.
		must(t, st.InTx(ctx, func(tx *store.Tx) error { return st.ResendWebhookDelivery(ctx, tx, ids[0]) }))
		if d, _ := st.WebhookDeliveryByID(ctx, ids[0]); d.State != store.DeliveryPending || d.Attempts != 0 {
			t.Fatalf("resent %+v", d)
		}
		must(t, st.SettleWebhookDelivery(ctx, ids[0], store.DeliveryFailed))
		if d, _ := st.WebhookDeliveryByID(ctx, ids[0]); d.State != store.DeliveryFailed || d.SettledAt.IsZero() {
			t.Fatalf("settled %+v", d)
		}
		// Disabling skips what is pending and tells each practice of the group.
		done, err := st.DisableWebhookEndpoint(ctx, "whk_a", "failed for 3 days", store.AuditEntry{Actor: "herolink", Action: "webhook.endpoint_disabled"})
		must(t, err)
		if again, _ := st.DisableWebhookEndpoint(ctx, "whk_a", "again", store.AuditEntry{Action: "x"}); !done || again {
			t.Fatalf("disabled %v, again %v", done, again)
		}
		if d, _ := st.WebhookDeliveryByID(ctx, ids[1]); d.State != store.DeliverySkipped {
			t.Fatalf("pending delivery of a disabled endpoint %+v", d)
		}
		if e, _ := st.WebhookEndpoint(ctx, "whk_a"); e.State != store.WebhookDisabled || e.DisabledReason != "failed for 3 days" {
			t.Fatalf("endpoint %+v", e)
		}
		audit, _ := st.ListAudit(ctx, f.ID, 5)
		if len(audit) == 0 || audit[0].Action != "webhook.endpoint_disabled" {
			t.Fatalf("audit %+v", audit)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return st.ResendWebhookDelivery(ctx, tx, ids[1]) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("resend to a disabled endpoint: %v", err)
		}
		if ds, _ := st.WebhookDeliveriesOf(ctx, "whk_a", 10); len(ds) != 2 || ds[0].ID != ids[1] {
			t.Fatalf("deliveries %+v", ds)
		}
	})
}

func TestVaultRotationReSealsWebhookSecretsCurrentAndPrevious(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateWebhookEndpoint(ctx, webhookEndpoint(p, "whk_a", "key_a")))
		must(t, st.RotateWebhookSecret(ctx, p.PracticeGroupID, "key_a", "whk_a", "k2", []byte("sealed-2"), c.t.Add(time.Hour)))
		var seen []string
		n, err := st.ResealAll(ctx, func(s store.SealedSecret) (string, []byte, error) {
			if s.Table != "webhook_endpoints" {
				return s.KeyID, s.Sealed, nil
			}
			seen = append(seen, s.Column+"="+string(s.Sealed))
			return "k9", append([]byte("re-"), s.Sealed...), nil
		})
		must(t, err)
		e, _ := st.WebhookEndpoint(ctx, "whk_a")
		if n != 2 || len(seen) != 2 || e.SecretKeyID != "k9" || string(e.SecretSealed) != "re-sealed-2" ||
			e.OldSecretKeyID != "k9" || string(e.OldSecretSealed) != "re-sealed-1" {
			t.Fatalf("re-sealed %d %v: %+v", n, seen, e)
		}
	})
}

func TestSettledWebhookDeliveriesArePurgedWithTheirAttemptsAndPendingOnesKept(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateWebhookEndpoint(ctx, webhookEndpoint(p, "whk_a", "key_a")))
		var ids []int64
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				id, _, err := st.InsertWebhookDelivery(ctx, tx, store.WebhookDelivery{EndpointID: "whk_a", MsgID: "m", EventType: "appointment.booked",
					Stream: "apt_1", Source: store.SourceAppointmentEvents, SourceID: int64(i + 1), Payload: `{}`})
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		}))
		for _, id := range ids[:2] {
			_, err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: id, EndpointID: "whk_a", At: c.t, Status: 200}, true, time.Time{})
			must(t, err)
		}
		_, err := st.RecordWebhookAttempt(ctx, store.WebhookAttempt{DeliveryID: ids[2], EndpointID: "whk_a", At: c.t, Status: 500}, false, c.t.Add(time.Hour))
		must(t, err)
		if n, err := st.PurgeWebhookHistory(ctx, c.t); err != nil || n != 0 {
			t.Fatalf("purged %d settled at the cut-off: %v", n, err)
		}
		n, err := st.PurgeWebhookHistory(ctx, c.t.Add(time.Millisecond))
		must(t, err)
		left, _ := st.WebhookDeliveriesOf(ctx, "whk_a", 10)
		attempts, _ := st.WebhookAttemptsOf(ctx, "whk_a", 10)
		if n != 2 || len(left) != 1 || left[0].ID != ids[2] || len(attempts) != 1 {
			t.Fatalf("purged %d; left %+v, attempts %+v", n, left, attempts)
		}
	})
}
