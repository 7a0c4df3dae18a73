package apikey_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

type testBundle struct {
	store *store.Store
	keys  *apikey.Service
	group string
	clock *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	p, err := st.EnsurePractice(ctx, "A81001", 29001, "Riverside")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st.SetClock(c.Now)
	return &testBundle{store: st, keys: &apikey.Service{Store: st, Now: c.Now}, group: p.PracticeGroupID, clock: c}
}

var support = apikey.Actor{Name: "alice"}

func (b *testBundle) create(t *testing.T, scopes ...string) apikey.Created {
	t.Helper()
	if scopes == nil {
		scopes = []string{apikey.ScopeBooking}
	}
	c, err := b.keys.Create(context.Background(), support, b.group, apikey.NewKey{Name: "Triage prod", Partner: "Acme", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreatedKeyAuthenticatesAndIsStoredOnlyAsItsHash(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.create(t, apikey.ScopeMessaging, apikey.ScopeBooking)
	if !strings.HasPrefix(c.Secret, "hlk_live_") || len(c.Secret) != len("hlk_live_")+43 {
		t.Fatalf("secret %q", c.Secret)
	}
	if !strings.HasPrefix(c.Secret, c.Key.Prefix) || len(c.Key.Prefix) >= len(c.Secret)/2 {
		t.Fatalf("prefix %q of %q", c.Key.Prefix, c.Secret)
	}
	if got := strings.Join(c.Key.Scopes, " "); got != "booking messaging" {
		t.Fatalf("scopes %q", got)
	}
	k, err := b.keys.Authenticate(context.Background(), c.Secret)
	if err != nil || k.ID != c.Key.ID || k.PracticeGroupID != b.group || !k.Has(apikey.ScopeBooking) || k.Has(apikey.ScopeBookingLinks) {
		t.Fatalf("authenticate: %+v %v", k, err)
	}
	row, err := b.store.APIKeyByHash(context.Background(), apikey.Hash(c.Secret))
	if err != nil || row.KeyHash == c.Secret || strings.Contains(row.KeyHash, c.Secret[len(c.Key.Prefix):]) {
		t.Fatalf("stored %+v %v", row, err)
	}
	audit, _ := b.store.ListAudit(context.Background(), 0, 10)
	if len(audit) != 1 || audit[0].Action != "api_key.created" || strings.Contains(audit[0].Detail, c.Secret[len(c.Key.Prefix):]) {
		t.Fatalf("audit %+v", audit)
	}
}

func TestUnknownKeysAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, s := range []string{"", "hlk_live_nope", strings.Repeat("x", 500)} {
		if _, err := b.keys.Authenticate(context.Background(), s); !errors.Is(err, apikey.ErrUnknownKey) {
			t.Fatalf("%q: %v", s, err)
		}
	}
}

func TestCreateRefusesMissingNamesAndUnknownScopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		in    apikey.NewKey
		field string
	}{
		{apikey.NewKey{Name: " ", Partner: "Acme", Scopes: []string{"booking"}}, "name"},
		{apikey.NewKey{Name: "n", Partner: "", Scopes: []string{"booking"}}, "partner"},
		{apikey.NewKey{Name: "n", Partner: "Acme"}, "scopes"},
		{apikey.NewKey{Name: "n", Partner: "Acme", Scopes: []string{"admin"}}, "scopes"},
		{apikey.NewKey{Name: strings.Repeat("n", 101), Partner: "Acme", Scopes: []string{"booking"}}, "name"},
	} {
		_, err := b.keys.Create(context.Background(), support, b.group, tc.in)
		var inv *apikey.InvalidError
		if !errors.As(err, &inv) || inv.Field != tc.field {
			t.Fatalf("%+v: %v", tc.in, err)
		}
	}
}

func TestRotatedKeyStopsAtOnceAndTheNewOneWorks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	old := b.create(t)
	if _, err := b.keys.Authenticate(ctx, old.Secret); err != nil { // now cached
		t.Fatal(err)
	}
	next, err := b.keys.Rotate(ctx, support, b.group, old.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Authenticate(ctx, old.Secret); !errors.Is(err, apikey.ErrUnknownKey) {
		t.Fatalf("old key after rotation: %v", err)
	}
	k, err := b.keys.Authenticate(ctx, next.Secret)
	if err != nil || k.Name != "Triage prod" || k.Partner != "Acme" || !k.Has(apikey.ScopeBooking) {
		t.Fatalf("new key: %+v %v", k, err)
	}
	// The partner's bookings stay theirs: the new key acts for the same owner.
	if old.Key.Owner != old.Key.ID || k.Owner != old.Key.ID || next.Key.Owner != old.Key.ID {
		t.Fatalf("owners: first %q (id %s), rotated %q / %q", old.Key.Owner, old.Key.ID, k.Owner, next.Key.Owner)
	}
	keys, _ := b.keys.List(ctx, b.group)
	if len(keys) != 2 || keys[0].ID != next.Key.ID || keys[1].RotatedTo != next.Key.ID || keys[1].Active() {
		t.Fatalf("list %+v", keys)
	}
	if _, err := b.keys.Rotate(ctx, support, b.group, old.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("rotating a rotated key: %v", err)
	}
}

func TestRevokedKeyStopsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.create(t)
	if _, err := b.keys.Authenticate(ctx, c.Secret); err != nil {
		t.Fatal(err)
	}
	if err := b.keys.Revoke(ctx, support, b.group, c.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys.Authenticate(ctx, c.Secret); !errors.Is(err, apikey.ErrUnknownKey) {
		t.Fatalf("after revoke: %v", err)
	}
	if err := b.keys.Revoke(ctx, support, b.group, c.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	audit, _ := b.store.ListAudit(ctx, 0, 10)
	if audit[0].Action != "api_key.revoked" {
		t.Fatalf("audit %+v", audit)
	}
}

func TestAnotherGroupCannotRotateOrRevokeAKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.create(t)
	other, err := b.store.EnsurePractice(ctx, "A81002", 29002, "Oakfield")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.keys.Revoke(ctx, support, other.PracticeGroupID, c.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := b.keys.Rotate(ctx, support, other.PracticeGroupID, c.Key.ID); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := b.keys.Authenticate(ctx, c.Secret); err != nil {
		t.Fatalf("the key must still work: %v", err)
	}
}

func TestCachedLookupsCostNoQueryAndLastUseIsWrittenOncePerMinute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c := b.create(t)
	if _, err := b.keys.Authenticate(ctx, c.Secret); err != nil {
		t.Fatal(err)
	}
	k, _ := b.keys.Get(ctx, b.group, c.Key.ID)
	if !k.LastUsedAt.Equal(b.clock.Now()) {
		t.Fatalf("last used %v", k.LastUsedAt)
	}
	// With the database closed underneath, cached lookups still answer.
	b.clock.Add(20 * time.Second)
	b.store.Close()
	if _, err := b.keys.Authenticate(ctx, c.Secret); err != nil {
		t.Fatalf("cached lookup: %v", err)
	}
	// Past the cache's lifetime the database is asked again (and is closed here).
	b.clock.Add(20 * time.Second)
	if _, err := b.keys.Authenticate(ctx, c.Secret); err == nil || errors.Is(err, apikey.ErrUnknownKey) {
		t.Fatalf("lookup past the TTL: %v", err)
	}
}
