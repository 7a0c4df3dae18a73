package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func TestConformancePractices(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		if p.ID == 0 || p.ODS != "A81001" || p.Name != "Practice A81001" || p.PracticeGroupID == "" ||
			p.HealthStatus != store.HealthNotConnected || !p.CreatedAt.Equal(epoch) {
			t.Fatalf("a new practice reads back as %+v", p)
		}
		again, err := st.EnsurePractice(ctx, "A81001", 1, "Other name")
		must(t, err)
		if again.ID != p.ID || again.Name != p.Name {
			t.Fatalf("ensuring a known practice made another: %+v, want %+v", again, p)
		}
		byID, err := st.PracticeByID(ctx, p.ID)
		must(t, err)
		if byID != p {
			t.Fatalf("by id %+v, by ODS %+v", byID, p)
		}
		if _, err := st.PracticeByODS(ctx, "Z99999"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown ODS code: %v, want ErrNotFound", err)
		}
		if _, err := st.PracticeByID(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown id: %v, want ErrNotFound", err)
		}
		q := newPractice(t, st, "B82002")
		groups, err := st.GroupPractices(ctx, p.PracticeGroupID)
		must(t, err)
		if len(groups) != 1 || groups[0] != p.ID {
			t.Fatalf("practices of the first practice's group: %v", groups)
		}
		must(t, st.RecordHealth(ctx, store.HealthUpdate{PracticeID: q.ID, Status: store.HealthFailing, Reason: "password refused"}))
		all, err := st.ListPractices(ctx)
		must(t, err)
		if len(all) != 2 || all[0].ID != q.ID || all[1].ID != p.ID {
			t.Fatalf("failing practices are listed first: %+v", all)
		}
	})
}

func TestConformanceConnectionsAndHealth(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		if _, err := st.ActiveConnection(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a practice never connected: %v, want ErrNotFound", err)
		}
		first := connect(t, st, p)
		got, err := st.ActiveConnection(ctx, p.ID)
		must(t, err)
		if got.ID != first.ID || got.State != "active" || got.Username != "user-A81001" || !bytes.Equal(got.PasswordSealed, []byte{1, 2, 3, 0, 255}) ||
			got.KeyID != "k1" || got.ConnectedBy != "alice" || got.Checklist != `["ok"]` || !got.ConnectedAt.Equal(epoch) {
			t.Fatalf("active connection reads back as %+v", got)
		}
		pr, err := st.PracticeByID(ctx, p.ID)
		must(t, err)
		if pr.HealthStatus != store.HealthConnected || !pr.NextHealthCheckAt.Equal(epoch.Add(time.Hour)) {
			t.Fatalf("a connected practice: %+v", pr)
		}
		// New credentials must name the connection they replace.
		_, err = st.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: "x", ConnectedBy: "bob", Checklist: "[]"}, auditOf("connect"))
		if !errors.Is(err, store.ErrConnectionChanged) {
			t.Fatalf("credentials replacing a connection the form did not show: %v, want ErrConnectionChanged", err)
		}
		c.advance(time.Minute)
		second, err := st.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: "new", PasswordSealed: []byte("s"), KeyID: "k2",
			ConnectedBy: "bob", Checklist: "[]", Replaces: first.ID, NextCheck: epoch.Add(2 * time.Hour)}, auditOf("connect"))
		must(t, err)
		if second.ID == first.ID || second.State != "active" || second.Username != "new" {
			t.Fatalf("the second connection: %+v", second)
		}
		// The replaced connection's password is erased: ResealAll sees only the active one.
		var seen []store.SealedSecret
		n, err := st.ResealAll(ctx, func(s store.SealedSecret) (string, []byte, error) {
			seen = append(seen, s)
			return "k3", append([]byte("re-"), s.Sealed...), nil
		})
		must(t, err)
		if n != 1 || len(seen) != 1 || seen[0].ID != second.ID || seen[0].KeyID != "k2" || string(seen[0].Sealed) != "s" {
			t.Fatalf("re-sealing: %d, %+v", n, seen)
		}
		got, err = st.ActiveConnection(ctx, p.ID)
		must(t, err)
		if got.KeyID != "k3" || string(got.PasswordSealed) != "re-s" {
			t.Fatalf("after re-sealing: %+v", got)
		}
		// A sealer that fails moves nothing.
		_, err = st.ResealAll(ctx, func(store.SealedSecret) (string, []byte, error) { return "", nil, errors.New("vault locked") })
		if err == nil {
			t.Fatal("a failing sealer was not reported")
		}
		if got, _ := st.ActiveConnection(ctx, p.ID); got.KeyID != "k3" {
			t.Fatalf("a failed re-seal changed the key: %+v", got)
		}

		// Health: a check of replaced credentials is dropped; a check of the active ones is kept.
		c.advance(time.Minute)
		must(t, st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, ConnectionID: first.ID, Status: store.HealthFailing, Reason: "old password"}))
		pr, _ = st.PracticeByID(ctx, p.ID)
		if pr.HealthStatus != store.HealthConnected {
			t.Fatalf("a check of replaced credentials changed the health: %+v", pr)
		}
		must(t, st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, ConnectionID: second.ID, Status: store.HealthDegraded,
			Reason: "EMIS slow", NextCheck: epoch.Add(5 * time.Minute), ConsecutiveFailures: 2}))
		pr, _ = st.PracticeByID(ctx, p.ID)
		if pr.HealthStatus != store.HealthDegraded || pr.HealthReason != "EMIS slow" || pr.ConsecutiveFailures != 2 ||
			!pr.HealthCheckedAt.Equal(c.t) || !pr.NextHealthCheckAt.Equal(epoch.Add(5*time.Minute)) || pr.CredentialsRejected {
			t.Fatalf("after a degraded check: %+v", pr)
		}
		// The same status again adds no event.
		must(t, st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, Status: store.HealthDegraded, Reason: "EMIS slow", NextCheck: epoch.Add(5 * time.Minute)}))
		hist, err := st.HealthHistory(ctx, p.ID, 10)
		must(t, err)
		if len(hist) != 3 || hist[0].Status != store.HealthDegraded || hist[1].Status != store.HealthConnected || hist[2].Status != store.HealthConnected {
			t.Fatalf("health history, newest first: %+v", hist)
		}
		if hist, _ := st.HealthHistory(ctx, p.ID, 1); len(hist) != 1 {
			t.Fatalf("history limit: %+v", hist)
		}
		// Due: the next check time has passed.
		due, err := st.DuePractices(ctx, 10)
		must(t, err)
		if len(due) != 0 {
			t.Fatalf("due before the next check time: %+v", due)
		}
		c.advance(10 * time.Minute)
		due, err = st.DuePractices(ctx, 10)
		must(t, err)
		if len(due) != 1 || due[0].ID != p.ID {
			t.Fatalf("due after the next check time: %+v", due)
		}
		// Credentials refused: no more checks, not syncable, not reachable.
		must(t, st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, Status: store.HealthFailing, Reason: "password refused",
			CredentialsRejected: true, NextCheck: epoch}))
		pr, _ = st.PracticeByID(ctx, p.ID)
		if !pr.CredentialsRejected {
			t.Fatalf("rejected credentials not recorded: %+v", pr)
		}
		if due, _ := st.DuePractices(ctx, 10); len(due) != 0 {
			t.Fatalf("a practice whose credentials were refused is still checked: %+v", due)
		}
		if ids, _ := st.SyncablePractices(ctx); len(ids) != 0 {
			t.Fatalf("a practice whose credentials were refused is still synced: %v", ids)
		}
		if r, _ := st.PracticesReachable(ctx); len(r) != 0 {
			t.Fatalf("a practice whose credentials were refused is still reachable: %v", r)
		}
		if err := st.RecordHealth(ctx, store.HealthUpdate{PracticeID: 424242, Status: store.HealthFailing}); err == nil {
			t.Fatal("health of an unknown practice was accepted")
		}
	})
}

func TestConformanceBookingPolicy(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		pol, err := st.BookingPolicy(ctx, p.ID)
		must(t, err)
		if pol.Hold != 15*time.Minute || pol.CancelCutoff != 24*time.Hour {
			t.Fatalf("default policy: %+v", pol)
		}
		must(t, st.SetBookingPolicy(ctx, p.ID, store.BookingPolicy{Hold: 5 * time.Minute, CancelCutoff: 2 * time.Hour}, auditOf("policy")))
		pol, _ = st.BookingPolicy(ctx, p.ID)
		if pol.Hold != 5*time.Minute || pol.CancelCutoff != 2*time.Hour {
			t.Fatalf("policy after setting: %+v", pol)
		}
		if err := st.SetBookingPolicy(ctx, p.ID, store.BookingPolicy{Hold: 0}, auditOf("policy")); err == nil {
			t.Fatal("a zero hold was stored")
		}
		if pol, _ := st.BookingPolicy(ctx, p.ID); pol.Hold != 5*time.Minute {
			t.Fatalf("a refused policy changed the hold: %+v", pol)
		}
		if _, err := st.BookingPolicy(ctx, 424242); err == nil {
			t.Fatal("policy of an unknown practice")
		}
	})
}
