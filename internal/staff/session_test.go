package staff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

type testBundle struct {
	store    *store.Store
	sessions *staff.Sessions
	user     store.StaffUser
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	hash, err := staff.HashPassword("Support1!")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateStaffUser(ctx, store.StaffUser{Username: "Ada", DisplayName: "Ada Support", PasswordHash: hash, Role: store.RoleSupport})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{store: st, sessions: &staff.Sessions{Store: st}, user: u}
}

func TestSessionFindsItsUserUntilDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	token, err := b.sessions.Create(ctx, b.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := b.sessions.Lookup(ctx, token)
	if err != nil || u.ID != b.user.ID || u.Role != store.RoleSupport {
		t.Fatalf("lookup = %+v, %v", u, err)
	}
	if err := b.sessions.Delete(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := b.sessions.Lookup(ctx, token); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("lookup after delete = %v, want ErrNoSession", err)
	}
}

func TestExpiredSessionIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.sessions.TTL = time.Hour
	token, err := b.sessions.Create(ctx, b.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.store.SetClock(func() time.Time { return time.Now().Add(59 * time.Minute) })
	if _, err := b.sessions.Lookup(ctx, token); err != nil {
		t.Fatalf("lookup before expiry = %v", err)
	}
	b.store.SetClock(func() time.Time { return time.Now().Add(61 * time.Minute) })
	if _, err := b.sessions.Lookup(ctx, token); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("lookup after expiry = %v, want ErrNoSession", err)
	}
}

func TestSessionTokensAreRandomAndStoredOnlyAsHashes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	t1, _ := b.sessions.Create(ctx, b.user.ID)
	t2, _ := b.sessions.Create(ctx, b.user.ID)
	if t1 == t2 || len(t1) != 43 {
		t.Fatalf("tokens %q and %q: want two different 43-character base64url tokens", t1, t2)
	}
	var n int
	if err := b.store.DBQ().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM staff_sessions WHERE token_hash IN (?, ?)`, t1, t2).Scan(&n); err != nil || n != 0 {
		t.Fatalf("raw tokens found in the database: %d, %v", n, err)
	}
	for _, bad := range []string{"", "not-a-token", t1 + "x", t1[:42]} {
		if _, err := b.sessions.Lookup(ctx, bad); !errors.Is(err, staff.ErrNoSession) {
			t.Errorf("lookup %q = %v, want ErrNoSession", bad, err)
		}
	}
}

func TestUnknownUserAndWrongPasswordAreRefusedAlike(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if u, err := staff.Authenticate(ctx, b.store, " ADA ", "Support1!"); err != nil || u.ID != b.user.ID {
		t.Fatalf("right credentials = %+v, %v", u, err)
	}
	for _, c := range [][2]string{{"ada", "support1!"}, {"nobody", "Support1!"}} {
		if _, err := staff.Authenticate(ctx, b.store, c[0], c[1]); !errors.Is(err, staff.ErrWrongCredentials) {
			t.Errorf("%q/%q = %v, want ErrWrongCredentials", c[0], c[1], err)
		}
	}
}
