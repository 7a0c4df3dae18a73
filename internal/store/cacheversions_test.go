package store_test

import (
	"context"
	"testing"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

func TestChangesOtherInstancesCacheMoveTheirCacheVersionWithThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		version := func(scope string) int64 {
			t.Helper()
			v, err := st.CacheVersions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v[scope]
		}
		p := syncablePractices(t, st, 1)[0]
		prac, err := st.PracticeByID(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		keys0, conns0 := version(store.CacheAPIKeys), version(store.CacheConnections)
		audit := store.AuditEntry{Actor: "test", Action: "test"}

		for _, id := range []string{"k1", "k2"} {
			if err := st.CreateAPIKey(ctx, store.APIKey{ID: id, PracticeGroupID: prac.PracticeGroupID, Name: id, Partner: "p", Prefix: id,
				KeyHash: "hash-" + id, Scopes: "slots:read", CreatedBy: "test", Owner: id}, audit); err != nil {
				t.Fatal(err)
			}
		}
		if version(store.CacheAPIKeys) != keys0 {
			t.Fatal("creating a key moved the API key cache version: nothing cached can be wrong about a new key")
		}
		if err := st.RevokeAPIKey(ctx, prac.PracticeGroupID, "k1", audit); err != nil {
			t.Fatal(err)
		}
		if got := version(store.CacheAPIKeys); got != keys0+1 {
			t.Fatalf("revoking a key: version %d, want %d", got, keys0+1)
		}
		if err := st.RotateAPIKey(ctx, prac.PracticeGroupID, "k2", store.APIKey{ID: "k3", PracticeGroupID: prac.PracticeGroupID, Name: "k3",
			Partner: "p", Prefix: "k3", KeyHash: "hash-k3", Scopes: "slots:read", CreatedBy: "test", Owner: "k2"}, audit); err != nil {
			t.Fatal(err)
		}
		if got := version(store.CacheAPIKeys); got != keys0+2 {
			t.Fatalf("rotating a key: version %d, want %d", got, keys0+2)
		}

		// The first connection (made by syncablePractices) moved nothing; replacing it does.
		active, err := st.ActiveConnection(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		next, err := st.ActivateConnection(ctx, store.NewConnection{PracticeID: p, Username: "u2", PasswordSealed: []byte("s2"), KeyID: "k",
			ConnectedBy: "test", Checklist: "[]", Replaces: active.ID}, audit)
		if err != nil {
			t.Fatal(err)
		}
		if got := version(store.CacheConnections); got != conns0+1 {
			t.Fatalf("new credentials put in force: version %d, want %d", got, conns0+1)
		}
		ids, err := st.ActiveConnectionIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ids[p] != next.ID {
			t.Fatalf("active connections %v, want practice %d on %d", ids, p, next.ID)
		}
		if err := st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p, ConnectionID: next.ID, Status: "rejected", Reason: "refused", CredentialsRejected: true}); err != nil {
			t.Fatal(err)
		}
		if got := version(store.CacheConnections); got != conns0+2 {
			t.Fatalf("credentials rejected: version %d, want %d", got, conns0+2)
		}
		if ids, _ := st.ActiveConnectionIDs(ctx); len(ids) != 0 {
			t.Fatalf("rejected credentials still listed as usable: %v", ids)
		}
	})
}
