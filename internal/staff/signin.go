package staff

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"herolink/internal/store"
)

// ErrWrongCredentials means the username or the password is not right; which one is never
// said.
var ErrWrongCredentials = errors.New("staff: the username or password is not right")

// dummyHash is verified against when the username is unknown, so that an unknown username
// costs as much time as a wrong password and usernames cannot be discovered by timing.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("herolink-no-such-user")
	if err != nil {
		panic(err)
	}
	return h
})

// Authenticate finds the staff user and checks the password. It answers ErrWrongCredentials
// for an unknown username and for a wrong password alike, after the same work.
func Authenticate(ctx context.Context, st *store.Store, username, password string) (store.StaffUser, error) {
	u, err := st.StaffUserByUsername(ctx, username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_, _ = VerifyPassword(dummyHash(), password)
		return store.StaffUser{}, ErrWrongCredentials
	case err != nil:
		return store.StaffUser{}, fmt.Errorf("staff: find user: %w", err)
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return store.StaffUser{}, fmt.Errorf("staff: user %d: %w", u.ID, err)
	}
	if !ok {
		return store.StaffUser{}, ErrWrongCredentials
	}
	return u, nil
}
