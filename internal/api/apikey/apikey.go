// Package apikey manages partner API keys: creation (the key is shown once), listing,
// rotation (the old key stops at once), revocation, and the lookup the partner API does on
// every request, cached in memory so a request costs no query. It depends on the store only,
// so the admin pages can use it without the API's handlers.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"herolink/internal/store"
)

// Scopes a key can hold.
const (
	ScopeBooking      = "booking"       // slots, appointments, patients
	ScopeBookingLinks = "booking_links" // self-booking links
	ScopeMessaging    = "messaging"     // messages to patients
)

// AllScopes in the order pages show them.
var AllScopes = []string{ScopeBooking, ScopeBookingLinks, ScopeMessaging}

// Secret keys look like hlk_live_ followed by 43 characters (32 random bytes, base64url).
const (
	keyPrefix  = "hlk_live_"
	shownChars = len(keyPrefix) + 6 // the part of a key kept to recognise it in lists
)

// Errors callers branch on.
var (
	ErrUnknownKey = errors.New("apikey: unknown or revoked API key")
	ErrNotFound   = errors.New("apikey: no such working key in this practice group")
)

// InvalidError is a refused create: Field says which input.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return "apikey: " + e.Field + ": " + e.Message }

// Key is a key as callers see it: never its secret or hash.
type Key struct {
	ID              string
	PracticeGroupID string
	Name            string
	Partner         string
	Prefix          string
	Scopes          []string
	CreatedBy       string
	CreatedAt       time.Time
	RevokedAt       time.Time
	RotatedTo       string
	LastUsedAt      time.Time
	// Owner is the partner the key acts for: the first key's id, kept when a key is rotated.
	// Appointments and patients belong to it.
	Owner string
}

// Active says whether the key still opens the API.
func (k Key) Active() bool { return k.RevokedAt.IsZero() }

// Has says whether the key holds a scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

func fromStore(k store.APIKey) Key {
	if k.Owner == "" {
		k.Owner = k.ID // a key stored before owners existed is its own partner
	}
	return Key{ID: k.ID, PracticeGroupID: k.PracticeGroupID, Name: k.Name, Partner: k.Partner, Prefix: k.Prefix,
		Scopes: strings.Fields(k.Scopes), CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt,
		RotatedTo: k.RotatedTo, LastUsedAt: k.LastUsedAt, Owner: k.Owner}
}

// Created is a new key with its secret, which exists only in this value: show it once.
type Created struct {
	Key    Key
	Secret string
}

// Actor is who changes keys, for the audit trail.
type Actor struct {
	Name       string // staff username, or "herolink demo"
	PracticeID int64  // the practice whose page the change was made from; 0 if none
}

// NewKey is what a key is created with.
type NewKey struct {
	Name    string   // what the practice calls it, e.g. "Triage tool production"
	Partner string   // who uses it
	Scopes  []string // a subset of AllScopes, at least one
}

// Service manages keys over the store and caches lookups.
type Service struct {
	Store *store.Store
	Log   *slog.Logger
	// CacheTTL bounds how long a looked-up key is trusted without asking the database: the
	// cache of this process is invalidated at once by Revoke and Rotate; the TTL bounds how long
	// another process's revocation takes to be seen. 30 s if zero.
	CacheTTL time.Duration
	// Now is the clock (tests); time.Now if nil.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cached   // by key hash
	gen   uint64              // bumped by every forget: a lookup begun before it is not cached
	loads map[string]*keyLoad // reads of the database in flight, by key hash
	rows  keyStore            // Store if nil (tests count and hold the reads)
}

// keyStore is what a lookup reads and writes of the store.
type keyStore interface {
	APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

func (s *Service) db() keyStore {
	if s.rows != nil {
		return s.rows
	}
	return s.Store
}

// keyLoad is one read of a key's row that every request needing it meanwhile waits for: a
// burst of a partner's requests arriving as its key's cache entry expires (every CacheTTL) or
// after a restart reads the key once, not once a request, and the requests behind it do not
// queue for database connections the holds they carry need.
type keyLoad struct {
	done chan struct{}
	row  store.APIKey
	err  error
}

// loadTimeout bounds a shared read: it is not cut short when the request that began it goes
// away, since others wait for it.
const loadTimeout = 10 * time.Second

type cached struct {
	key     Key
	loaded  time.Time
	touched time.Time // when last_used_at was last written
}

const (
	cacheMax      = 10000
	touchInterval = time.Minute
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Hash is how keys are stored: hex SHA-256 of the whole key. Keys are 32 random bytes, so a
// slow hash would add nothing.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newSecret() (id, secret string) {
	return "key_" + randomString(9), keyPrefix + randomString(32)
}

// Validate normalises a NewKey: trimmed names, known scopes, each once, in AllScopes order.
func (n NewKey) Validate() (NewKey, error) {
	n.Name, n.Partner = strings.TrimSpace(n.Name), strings.TrimSpace(n.Partner)
	switch {
	case n.Name == "":
		return n, &InvalidError{Field: "name", Message: "Enter a name for the key, for example the partner product and environment."}
	case utf8.RuneCountInString(n.Name) > 100:
		return n, &InvalidError{Field: "name", Message: "The name must be 100 characters or fewer."}
	case n.Partner == "":
		return n, &InvalidError{Field: "partner", Message: "Enter the partner organisation that will use the key."}
	case utf8.RuneCountInString(n.Partner) > 100:
		return n, &InvalidError{Field: "partner", Message: "The partner name must be 100 characters or fewer."}
	}
	var scopes []string
	for _, sc := range n.Scopes {
		if !slices.Contains(AllScopes, sc) {
			return n, &InvalidError{Field: "scopes", Message: fmt.Sprintf("There is no scope %q.", sc)}
		}
	}
	for _, sc := range AllScopes {
		if slices.Contains(n.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return n, &InvalidError{Field: "scopes", Message: "Choose at least one scope."}
	}
	n.Scopes = scopes
	return n, nil
}

// Create makes a key for a practice group. The secret is returned once; only its hash is kept.
func (s *Service) Create(ctx context.Context, a Actor, groupID string, n NewKey) (Created, error) {
	n, err := n.Validate()
	if err != nil {
		return Created{}, err
	}
	id, secret := newSecret()
	row := store.APIKey{ID: id, PracticeGroupID: groupID, Name: n.Name, Partner: n.Partner, Prefix: secret[:shownChars],
		KeyHash: Hash(secret), Scopes: strings.Join(n.Scopes, " "), CreatedBy: a.Name, Owner: id}
	audit := store.AuditEntry{Actor: a.Name, Action: "api_key.created", PracticeID: a.PracticeID,
		Detail: fmt.Sprintf("API key %s %q for %s, scopes %s", id, n.Name, n.Partner, strings.Join(n.Scopes, ", "))}
	if err := s.Store.CreateAPIKey(ctx, row, audit); err != nil {
		return Created{}, err
	}
	row.CreatedAt = s.now()
	return Created{Key: fromStore(row), Secret: secret}, nil
}

// List lists a practice group's keys, working ones first.
func (s *Service) List(ctx context.Context, groupID string) ([]Key, error) {
	rows, err := s.Store.ListAPIKeys(ctx, groupID)
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromStore(r))
	}
	return out, nil
}

// Get finds one of a practice group's keys.
func (s *Service) Get(ctx context.Context, groupID, id string) (Key, error) {
	k, err := s.Store.APIKeyByID(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Key{}, ErrNotFound
	}
	return fromStore(k), err
}

// Rotate replaces a working key with a new one of the same name, partner and scopes. The old
// key stops at once; the new secret is returned once.
func (s *Service) Rotate(ctx context.Context, a Actor, groupID, id string) (Created, error) {
	old, err := s.Store.APIKeyByID(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !old.Active()) {
		return Created{}, ErrNotFound
	}
	if err != nil {
		return Created{}, err
	}
	nid, secret := newSecret()
	owner := old.Owner
	if owner == "" {
		owner = old.ID
	}
	row := store.APIKey{ID: nid, PracticeGroupID: groupID, Name: old.Name, Partner: old.Partner, Prefix: secret[:shownChars],
		KeyHash: Hash(secret), Scopes: old.Scopes, CreatedBy: a.Name, Owner: owner}
	audit := store.AuditEntry{Actor: a.Name, Action: "api_key.rotated", PracticeID: a.PracticeID,
		Detail: fmt.Sprintf("API key %s %q replaced by %s", old.ID, old.Name, nid)}
	err = s.Store.RotateAPIKey(ctx, groupID, id, row, audit)
	s.forget(id) // even on error: the database, not the cache, decides
	if errors.Is(err, store.ErrNotFound) {
		return Created{}, ErrNotFound
	}
	if err != nil {
		return Created{}, err
	}
	row.CreatedAt = s.now()
	return Created{Key: fromStore(row), Secret: secret}, nil
}

// Revoke stops a working key at once.
func (s *Service) Revoke(ctx context.Context, a Actor, groupID, id string) error {
	old, err := s.Store.APIKeyByID(ctx, groupID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !old.Active()) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	audit := store.AuditEntry{Actor: a.Name, Action: "api_key.revoked", PracticeID: a.PracticeID,
		Detail: fmt.Sprintf("API key %s %q revoked", old.ID, old.Name)}
	err = s.Store.RevokeAPIKey(ctx, groupID, id, audit)
	s.forget(id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// forget drops a key from the cache.
func (s *Service) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	clear(s.loads) // a request from now on reads again, not what a read begun before found
	for h, c := range s.cache {
		if c.key.ID == id {
			delete(s.cache, h)
		}
	}
}

// Authenticate finds the working key whose secret this is (ErrUnknownKey if none), from the
// cache when it can. It records the key's last use at most once a minute.
func (s *Service) Authenticate(ctx context.Context, secret string) (Key, error) {
	if secret == "" || len(secret) > 200 {
		return Key{}, ErrUnknownKey
	}
	hash := Hash(secret)
	now := s.now()
	ttl := s.CacheTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	s.mu.Lock()
	c, ok := s.cache[hash]
	if ok && now.Sub(c.loaded) >= ttl {
		delete(s.cache, hash)
		ok = false
	}
	gen := s.gen
	s.mu.Unlock()
	if !ok {
		row, err := s.load(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return Key{}, ErrUnknownKey
		}
		if err != nil {
			return Key{}, err
		}
		c = cached{key: fromStore(row), loaded: now, touched: row.LastUsedAt}
	}
	if ok && now.Sub(c.touched) < touchInterval {
		return c.key, nil // a cache hit with nothing to record: no second lock
	}
	s.mu.Lock()
	// Of the requests that shared one read, or found the same entry due for its use to be
	// recorded, the first records it: the others see it done.
	if prev, found := s.cache[hash]; found && prev.touched.After(c.touched) {
		c.touched = prev.touched
	}
	touch := now.Sub(c.touched) >= touchInterval
	if touch {
		c.touched = now
	}
	// A key revoked or rotated while it was being read is not cached: the next request reads
	// the database again and finds it revoked.
	if s.gen == gen {
		if s.cache == nil {
			s.cache = map[string]cached{}
		}
		if len(s.cache) >= cacheMax {
			clear(s.cache) // keys in use come back on their next request
		}
		s.cache[hash] = c
	}
	s.mu.Unlock()
	if touch {
		if err := s.db().TouchAPIKey(ctx, c.key.ID, now); err != nil {
			s.log().Warn("record API key use", "key_id", c.key.ID, "err", err)
		}
	}
	return c.key, nil
}

// load reads a key's row, or waits for the read of it already in flight.
func (s *Service) load(ctx context.Context, hash string) (store.APIKey, error) {
	s.mu.Lock()
	l, waiting := s.loads[hash]
	if !waiting {
		if s.loads == nil {
			s.loads = map[string]*keyLoad{}
		}
		l = &keyLoad{done: make(chan struct{})}
		s.loads[hash] = l
	}
	s.mu.Unlock()
	if waiting {
		select {
		case <-l.done:
			return l.row, l.err
		case <-ctx.Done():
			return store.APIKey{}, ctx.Err()
		}
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	l.row, l.err = s.db().APIKeyByHash(lctx, hash)
	cancel()
	s.mu.Lock()
	if s.loads[hash] == l { // a forget may have dropped it already
		delete(s.loads, hash)
	}
	s.mu.Unlock()
	close(l.done)
	return l.row, l.err
}

// ForgetAll empties the cache: another instance revoked or rotated a key, and this one cannot
// tell which of its cached keys that was. Keys in use are read again at their next request.
func (s *Service) ForgetAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	clear(s.loads)
	clear(s.cache)
}
