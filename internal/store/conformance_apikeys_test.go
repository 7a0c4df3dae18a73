package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

func apiKey(group, id string) store.APIKey {
	return store.APIKey{ID: id, PracticeGroupID: group, Name: "key " + id, Partner: "Acme Health", Prefix: "hl_" + id[:3],
		KeyHash: "hash-" + id, Scopes: "slots:read appointments:write", CreatedBy: "alice"}
}

func TestConformanceAPIKeys(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		g := p.PracticeGroupID
		k := apiKey(g, "key1")
		must(t, st.CreateAPIKey(ctx, k, auditOf("key.created")))
		got, err := st.APIKeyByHash(ctx, "hash-key1")
		must(t, err)
		want := k
		want.CreatedAt, want.Owner = epoch, "key1"
		if !got.CreatedAt.Equal(epoch) {
			t.Fatalf("created at %v, want %v", got.CreatedAt, epoch)
		}
		got.CreatedAt = want.CreatedAt
		if got != want || !got.Active() {
			t.Fatalf("key reads back as %+v, want %+v", got, want)
		}
		if err := st.CreateAPIKey(ctx, apiKey(g, "key1"), auditOf("key.created")); err == nil {
			t.Fatal("a second key with the same id was stored")
		}
		if err := st.CreateAPIKey(ctx, apiKey("pg_nope", "key9"), auditOf("key.created")); err == nil {
			t.Fatal("a key of an unknown practice group was stored")
		}
		if _, err := st.APIKeyByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		if _, err := st.APIKeyByID(ctx, "other-group", "key1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another group's key: %v", err)
		}
		at := epoch.Add(time.Minute)
		must(t, st.TouchAPIKey(ctx, "key1", at))
		if got, _ := st.APIKeyByID(ctx, g, "key1"); !got.LastUsedAt.Equal(at) {
			t.Fatalf("last used %v, want %v", got.LastUsedAt, at)
		}
		// Rotation: the new key works, the old one is revoked and points at it; the owner stays.
		c.advance(time.Hour)
		next := apiKey(g, "key2")
		next.Owner = "key1"
		must(t, st.RotateAPIKey(ctx, g, "key1", next, auditOf("key.rotated")))
		if _, err := st.APIKeyByHash(ctx, "hash-key1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a rotated key still opens the API: %v", err)
		}
		old, err := st.APIKeyByID(ctx, g, "key1")
		must(t, err)
		if old.Active() || old.RotatedTo != "key2" || !old.RevokedAt.Equal(c.t) {
			t.Fatalf("the rotated key: %+v", old)
		}
		nk, err := st.APIKeyByHash(ctx, "hash-key2")
		must(t, err)
		if nk.Owner != "key1" {
			t.Fatalf("the rotated key's successor acts for %q, want key1", nk.Owner)
		}
		if err := st.RotateAPIKey(ctx, g, "key1", apiKey(g, "key3"), auditOf("key.rotated")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rotating a revoked key: %v, want ErrNotFound", err)
		}
		if _, err := st.APIKeyByID(ctx, g, "key3"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused rotation stored its new key: %v", err)
		}
		c.advance(time.Hour)
		must(t, st.CreateAPIKey(ctx, apiKey(g, "key4"), auditOf("key.created")))
		list, err := st.ListAPIKeys(ctx, g)
		must(t, err)
		if len(list) != 3 || list[0].ID != "key4" || list[1].ID != "key2" || list[2].ID != "key1" {
			t.Fatalf("keys, working first, newest first: %+v", list)
		}
		must(t, st.RevokeAPIKey(ctx, g, "key4", auditOf("key.revoked")))
		if _, err := st.APIKeyByHash(ctx, "hash-key4"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a revoked key still opens the API: %v", err)
		}
		if err := st.RevokeAPIKey(ctx, g, "key4", auditOf("key.revoked")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking twice: %v, want ErrNotFound", err)
		}
		if err := st.RevokeAPIKey(ctx, "other-group", "key2", auditOf("key.revoked")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking another group's key: %v, want ErrNotFound", err)
		}
		audits, err := st.ListAudit(ctx, 0, 100)
		must(t, err)
		n := 0
		for _, a := range audits {
			if a.Action == "key.created" || a.Action == "key.rotated" || a.Action == "key.revoked" {
				n++
			}
		}
		if n != 4 { // created twice, rotated once, revoked once: refusals write nothing
			t.Fatalf("%d audit lines for keys, want 4: %+v", n, audits)
		}
	})
}

// Idempotency answers: the same key with the same request is answered from what was kept; with
// another request it is refused (the caller compares the kept hash); a claim whose first request
// died is taken over once its lease ends; only one operation per key commits.
func TestAnIdempotencyKeyAnswersItsFirstRequestAndRefusesAnother(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateAPIKey(ctx, apiKey(p.PracticeGroupID, "key1"), auditOf("k")))
		const lease, keep = time.Minute, 24 * time.Hour
		rec, started, err := st.BeginIdempotent(ctx, "key1", "idem-1", "req-A", lease, keep)
		must(t, err)
		if !started || rec.RequestHash != "" {
			t.Fatalf("first use of a key: started %v, %+v", started, rec)
		}
		// While the first request runs, a retry is told it is under way.
		rec, started, err = st.BeginIdempotent(ctx, "key1", "idem-1", "req-A", lease, keep)
		must(t, err)
		if started || rec.Status != 0 || rec.RequestHash != "req-A" || !rec.LeaseUntil.Equal(epoch.Add(lease)) {
			t.Fatalf("a retry during the first request: started %v, %+v", started, rec)
		}
		// Only the claim's own request commits its operation.
		if err := st.InTx(ctx, func(tx *store.Tx) error { return st.MarkIdempotentTx(ctx, tx, "key1", "idem-1", "req-B", "apt_x") }); !errors.Is(err, store.ErrIdempotencyClaimLost) {
			t.Fatalf("marking with another request's hash: %v, want ErrIdempotencyClaimLost", err)
		}
		must(t, st.InTx(ctx, func(tx *store.Tx) error { return st.MarkIdempotentTx(ctx, tx, "key1", "idem-1", "req-A", "apt_1") }))
		if err := st.InTx(ctx, func(tx *store.Tx) error { return st.MarkIdempotentTx(ctx, tx, "key1", "idem-1", "req-A", "apt_2") }); !errors.Is(err, store.ErrIdempotencyClaimLost) {
			t.Fatalf("a second operation for one key: %v, want ErrIdempotencyClaimLost", err)
		}
		// A server error after the operation committed does not forget the key.
		must(t, st.AbandonIdempotent(ctx, "key1", "idem-1"))
		rec, started, err = st.BeginIdempotent(ctx, "key1", "idem-1", "req-A", lease, keep)
		must(t, err)
		if started || rec.Ref != "apt_1" {
			t.Fatalf("a retry after the operation committed: started %v, %+v; want answered from apt_1", started, rec)
		}
		must(t, st.FinishIdempotent(ctx, "key1", "idem-1", 201, map[string]string{"Location": "/v1/appointments/apt_1"}, []byte(`{"id":"apt_1"}`)))
		must(t, st.FinishIdempotent(ctx, "key1", "idem-1", 500, nil, []byte("second"))) // the first answer kept stays
		rec, started, err = st.BeginIdempotent(ctx, "key1", "idem-1", "req-A", lease, keep)
		must(t, err)
		if started || rec.Status != 201 || string(rec.Body) != `{"id":"apt_1"}` || rec.Headers["Location"] != "/v1/appointments/apt_1" || rec.RequestHash != "req-A" {
			t.Fatalf("the same request again: started %v, %+v; want the kept answer", started, rec)
		}
		// The same key with another request: not started, and the kept hash tells the caller to refuse.
		rec, started, err = st.BeginIdempotent(ctx, "key1", "idem-1", "req-B", lease, keep)
		must(t, err)
		if started || rec.RequestHash != "req-A" {
			t.Fatalf("another request under the key: started %v, %+v", started, rec)
		}
		// Keys are per API key.
		must(t, st.CreateAPIKey(ctx, apiKey(p.PracticeGroupID, "key2"), auditOf("k")))
		if _, started, _ := st.BeginIdempotent(ctx, "key2", "idem-1", "req-B", lease, keep); !started {
			t.Fatal("another API key's Idempotency-Key was taken")
		}

		// A first request that died: its claim is taken over once its lease ends, by the same request only.
		_, started, err = st.BeginIdempotent(ctx, "key1", "idem-2", "req-C", lease, keep)
		must(t, err)
		if !started {
			t.Fatal("a new key was not claimed")
		}
		c.advance(lease)
		if _, started, _ = st.BeginIdempotent(ctx, "key1", "idem-2", "req-D", lease, keep); started {
			t.Fatal("another request took over a lapsed claim")
		}
		if _, started, _ = st.BeginIdempotent(ctx, "key1", "idem-2", "req-C", lease, keep); !started {
			t.Fatal("the same request could not take over a lapsed claim")
		}
		if _, started, _ = st.BeginIdempotent(ctx, "key1", "idem-2", "req-C", lease, keep); started {
			t.Fatal("a claim taken over was taken over again within its lease")
		}
		// An abandoned claim (no operation committed) may be sent again.
		must(t, st.AbandonIdempotent(ctx, "key1", "idem-2"))
		if _, started, _ = st.BeginIdempotent(ctx, "key1", "idem-2", "req-E", lease, keep); !started {
			t.Fatal("an abandoned key could not be used again")
		}
		// After a day, answers are purged.
		if n, err := st.PurgeIdempotency(ctx); err != nil || n != 0 {
			t.Fatalf("purging within the day: %d, %v", n, err)
		}
		c.advance(keep)
		n, err := st.PurgeIdempotency(ctx)
		must(t, err)
		if n != 3 {
			t.Fatalf("purged %d, want 3", n)
		}
		if _, started, _ = st.BeginIdempotent(ctx, "key1", "idem-1", "req-B", lease, keep); !started {
			t.Fatal("a key whose day is over is still refused")
		}
	})
}

func TestConformanceAudit(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.AppendAudit(ctx, store.AuditEntry{Actor: "alice", Action: "one", PracticeID: p.ID, Detail: "d1"}))
		c.advance(time.Second)
		must(t, st.AppendAudit(ctx, store.AuditEntry{Actor: "bob", Action: "global"}))
		must(t, st.InTx(ctx, func(tx *store.Tx) error {
			return st.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: "carol", Action: "two", PracticeID: p.ID})
		}))
		// A line in a transaction that rolls back is not kept.
		_ = st.InTx(ctx, func(tx *store.Tx) error {
			must(t, st.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: "dave", Action: "rolled back", PracticeID: p.ID}))
			return errors.New("roll back")
		})
		mine, err := st.ListAudit(ctx, p.ID, 10)
		must(t, err)
		if len(mine) != 2 || mine[0].Action != "two" || mine[1].Action != "one" || mine[1].Detail != "d1" || mine[1].Actor != "alice" ||
			mine[1].PracticeID != p.ID || !mine[1].At.Equal(epoch) || !mine[0].At.Equal(c.t) {
			t.Fatalf("the practice's audit, newest first: %+v", mine)
		}
		all, err := st.ListAudit(ctx, 0, 10)
		must(t, err)
		if len(all) != 3 || all[0].Action != "two" || all[1].Action != "global" || all[1].PracticeID != 0 {
			t.Fatalf("the whole audit, newest first: %+v", all)
		}
		if one, _ := st.ListAudit(ctx, 0, 1); len(one) != 1 {
			t.Fatalf("limit 1: %+v", one)
		}
	})
}
