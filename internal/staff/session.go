package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"herolink/internal/store"
)

// DefaultSessionTTL is how long a sign-in lasts.
const DefaultSessionTTL = 12 * time.Hour

// ErrNoSession means the token names no unexpired session.
var ErrNoSession = errors.New("staff: no such session")

// tokenLen is the decoded length of a session token: 32 random bytes.
const tokenLen = 32

// Sessions are sign-in sessions. The token lives only in the person's cookie; the database
// holds its SHA-256, so a copy of the database cannot sign anyone in.
type Sessions struct {
	Store *store.Store
	TTL   time.Duration    // DefaultSessionTTL if zero
	Now   func() time.Time // time.Now if nil; must agree with the store's clock
}

// Create starts a session for a user and returns its token.
func (s *Sessions) Create(ctx context.Context, userID int64) (string, error) {
	b := make([]byte, tokenLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("staff: read random token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := s.Store.CreateSession(ctx, TokenHash(token), userID, s.now().Add(s.ttl())); err != nil {
		return "", err
	}
	return token, nil
}

// Lookup finds the user of an unexpired session, or ErrNoSession.
func (s *Sessions) Lookup(ctx context.Context, token string) (store.StaffUser, error) {
	if !wellFormed(token) {
		return store.StaffUser{}, ErrNoSession
	}
	u, err := s.Store.SessionUser(ctx, TokenHash(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.StaffUser{}, ErrNoSession
	case err != nil:
		return store.StaffUser{}, fmt.Errorf("staff: look up session: %w", err)
	}
	return u, nil
}

// Delete ends a session. Ending a session that does not exist is not an error.
func (s *Sessions) Delete(ctx context.Context, token string) error {
	if !wellFormed(token) {
		return nil
	}
	if err := s.Store.DeleteSession(ctx, TokenHash(token)); err != nil {
		return fmt.Errorf("staff: delete session: %w", err)
	}
	return nil
}

// TokenHash is the hex SHA-256 of a session token, as stored.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == tokenLen
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL <= 0 {
		return DefaultSessionTTL
	}
	return s.TTL
}

func (s *Sessions) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
