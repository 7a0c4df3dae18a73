package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// APIKey is a partner API key, stored by hash only.
type APIKey struct {
	ID              string
	PracticeGroupID string
	Name            string
	Partner         string // the partner's organisation, as staff typed it
	Prefix          string // the first characters, to recognise a key in lists
	KeyHash         string // hex SHA-256 of the whole key
	Scopes          string // space-separated
	CreatedBy       string
	CreatedAt       time.Time
	RevokedAt       time.Time // zero while the key works
	RotatedTo       string    // the key that replaced it, if it was rotated
	LastUsedAt      time.Time // zero: never used (written at most once a minute)
	Owner           string    // the partner it acts for: the first key's id, kept across rotations
}

// Active says whether the key still opens the API.
func (k APIKey) Active() bool { return k.RevokedAt.IsZero() }

const apiKeyColumns = `id, practice_group_id, name, partner, prefix, key_hash, scopes, created_by, created_at,
	revoked_at, COALESCE(rotated_to, ''), last_used_at, owner_id`

func scanAPIKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var created int64
	var revoked, used sql.NullInt64
	err := row.Scan(&k.ID, &k.PracticeGroupID, &k.Name, &k.Partner, &k.Prefix, &k.KeyHash, &k.Scopes, &k.CreatedBy,
		&created, &revoked, &k.RotatedTo, &used, &k.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = time.UnixMilli(created), msTime(revoked), msTime(used)
	return k, err
}

func insertAPIKeyTx(ctx context.Context, tx *Tx, k APIKey, now int64) error {
	owner := k.Owner
	if owner == "" {
		owner = k.ID // a new partner
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, practice_group_id, name, partner, prefix, key_hash, scopes, created_by, created_at, owner_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, k.ID, k.PracticeGroupID, k.Name, k.Partner, k.Prefix, k.KeyHash, k.Scopes, k.CreatedBy, now, owner)
	return err
}

// CreateAPIKey stores a new key's hash and its audit line in one transaction.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey, audit AuditEntry) error {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := insertAPIKeyTx(ctx, tx, k, now); err != nil {
			return err
		}
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return fmt.Errorf("store: create API key: %w", err)
	}
	return nil
}

// APIKeyByHash finds a working (not revoked) key by the hash of the whole key.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE key_hash = ? AND revoked_at IS NULL`, hash))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return k, fmt.Errorf("store: API key by hash: %w", err)
	}
	return k, err
}

// APIKeyByID finds a practice group's key, revoked or not.
func (s *Store) APIKeyByID(ctx context.Context, groupID, id string) (APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE id = ? AND practice_group_id = ?`, id, groupID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return k, fmt.Errorf("store: API key %s: %w", id, err)
	}
	return k, err
}

// ListAPIKeys lists a practice group's keys, working ones first, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, groupID string) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE practice_group_id = ?
		ORDER BY revoked_at IS NOT NULL, created_at DESC, id`, groupID)
	if err != nil {
		return nil, fmt.Errorf("store: list API keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list API keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// revokeAPIKeyTx revokes a working key of the group; ErrNotFound if there is none.
func revokeAPIKeyTx(ctx context.Context, tx *Tx, groupID, id, rotatedTo string, now int64) error {
	var to any
	if rotatedTo != "" {
		to = rotatedTo
	}
	res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?, rotated_to = ?
		WHERE id = ? AND practice_group_id = ? AND revoked_at IS NULL`, now, to, id, groupID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return bumpCacheVersionTx(ctx, tx, CacheAPIKeys) // every instance forgets the key
}

// RevokeAPIKey stops a working key of the group at once, with its audit line. ErrNotFound if
// the group has no such working key.
func (s *Store) RevokeAPIKey(ctx context.Context, groupID, id string, audit AuditEntry) error {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := revokeAPIKeyTx(ctx, tx, groupID, id, "", now); err != nil {
			return err
		}
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: revoke API key: %w", err)
	}
	return err
}

// RotateAPIKey replaces a working key of the group with next in one transaction: next is
// stored, the old key revoked and pointed at it, the audit line written. ErrNotFound if the
// group has no such working key.
func (s *Store) RotateAPIKey(ctx context.Context, groupID, oldID string, next APIKey, audit AuditEntry) error {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := insertAPIKeyTx(ctx, tx, next, now); err != nil {
			return err
		}
		if err := revokeAPIKeyTx(ctx, tx, groupID, oldID, next.ID, now); err != nil {
			return err
		}
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: rotate API key: %w", err)
	}
	return err
}

// TouchAPIKey records that a key was used at a time.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, at.UnixMilli(), id); err != nil {
		return fmt.Errorf("store: touch API key: %w", err)
	}
	return nil
}

// Idempotency is what is kept of a request sent with an Idempotency-Key.
type Idempotency struct {
	RequestHash string
	Status      int               // 0: the first request is still being answered
	Headers     map[string]string // the response headers a replay repeats
	Body        []byte
	LeaseUntil  time.Time
	// Ref is what the request's operation made, recorded in the operation's own transaction
	// (MarkIdempotentTx): set with Status 0, the operation is done but its answer was never
	// kept, and it must be answered from Ref rather than run again.
	Ref string
}

// ErrIdempotencyClaimLost refuses to commit an operation whose Idempotency-Key is no longer
// this request's to use: another request with the key committed its operation first.
var ErrIdempotencyClaimLost = errors.New("store: the Idempotency-Key was used by another request meanwhile")

// BeginIdempotent claims (apiKeyID, key) for a request whose hash is hash. If nobody holds it
// (or its previous holder's lease or its kept answer expired) it is claimed for lease and
// started is true; otherwise the row found is returned for the caller to compare, replay or
// refuse. Expired rows of every key are purged on the way.
func (s *Store) BeginIdempotent(ctx context.Context, apiKeyID, key, hash string, lease, keep time.Duration) (rec Idempotency, started bool, err error) {
	now := s.nowMS()
	err = s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, now); err != nil {
			return err
		}
		// Claim first, then read: on PostgreSQL two requests with one key run at once, and a
		// read-then-insert would let both see no row and the second fail on the primary key.
		// ON CONFLICT DO NOTHING waits for the other's claim to commit; FOR UPDATE then holds
		// the row while deciding whether to take it over.
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, lease_until, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (api_key_id, idem_key) DO NOTHING`,
			apiKeyID, key, hash, now+lease.Milliseconds(), now, now+keep.Milliseconds())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			started = true
			return nil
		}
		var headers string
		var leaseUntil int64
		err = tx.QueryRowContext(ctx, `SELECT request_hash, status, headers, body, lease_until, result_ref FROM idempotency_keys
			WHERE api_key_id = ? AND idem_key = ?`+tx.forUpdate(), apiKeyID, key).Scan(&rec.RequestHash, &rec.Status, &headers, &rec.Body, &leaseUntil, &rec.Ref)
		if err != nil {
			return err
		}
		rec.LeaseUntil = time.UnixMilli(leaseUntil)
		if err := json.Unmarshal([]byte(headers), &rec.Headers); err != nil {
			return fmt.Errorf("headers of idempotency key: %w", err)
		}
		if rec.Status == 0 && rec.Ref == "" && rec.RequestHash == hash && leaseUntil <= now {
			// The first attempt's process died or gave up without an answer: take over.
			started = true
			_, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET lease_until = ? WHERE api_key_id = ? AND idem_key = ?`,
				now+lease.Milliseconds(), apiKeyID, key)
			return err
		}
		return nil
	})
	if err != nil {
		return Idempotency{}, false, fmt.Errorf("store: begin idempotent request: %w", err)
	}
	return rec, started, nil
}

// MarkIdempotentTx records, inside the transaction of the operation a claimed request runs,
// that the operation made ref. Only the first operation for a key may commit: if another
// already did (the lease of a slow first request ran out and a retry took it over), it
// answers ErrIdempotencyClaimLost and the caller's transaction must roll back.
func (s *Store) MarkIdempotentTx(ctx context.Context, tx *Tx, apiKeyID, key, hash, ref string) error {
	res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET result_ref = ?
		WHERE api_key_id = ? AND idem_key = ? AND request_hash = ? AND status = 0 AND result_ref = ''`, ref, apiKeyID, key, hash)
	if err != nil {
		return fmt.Errorf("store: mark idempotent request done: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrIdempotencyClaimLost
	}
	return nil
}

// FinishIdempotent keeps the answer of a claimed request for replays; the first answer kept
// stays.
func (s *Store) FinishIdempotent(ctx context.Context, apiKeyID, key string, status int, headers map[string]string, body []byte) error {
	h, err := json.Marshal(headers)
	if err != nil {
		return fmt.Errorf("store: finish idempotent request: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, headers = ?, body = ?, lease_until = 0
		WHERE api_key_id = ? AND idem_key = ? AND status = 0`, status, string(h), body, apiKeyID, key)
	if err != nil {
		return fmt.Errorf("store: finish idempotent request: %w", err)
	}
	return nil
}

// AbandonIdempotent forgets a claimed request whose answer must not be replayed (a server
// error): the same key may be sent again. A request whose operation committed is kept, so
// its retry is answered from what it made instead of running it again.
func (s *Store) AbandonIdempotent(ctx context.Context, apiKeyID, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE api_key_id = ? AND idem_key = ? AND status = 0 AND result_ref = ''`, apiKeyID, key)
	if err != nil {
		return fmt.Errorf("store: abandon idempotent request: %w", err)
	}
	return nil
}

// PurgeIdempotency deletes the kept answers whose day is over. Requests purge on the way too,
// but the answers (which may hold a registered patient's details) must not outlive their day
// when no partner sends an Idempotency-Key for a while.
func (s *Store) PurgeIdempotency(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, s.nowMS())
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
