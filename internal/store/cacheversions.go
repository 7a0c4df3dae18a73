package store

import (
	"context"
	"fmt"
)

// Scopes of cache_versions: what a bump tells the other instances to drop.
const (
	// CacheAPIKeys moves when an API key is revoked or rotated.
	CacheAPIKeys = "api_keys"
	// CacheConnections moves when a practice's EMIS credentials in force change.
	CacheConnections = "emis_connections"
)

// bumpCacheVersionTx tells every instance, once tx commits, that what scope covers changed.
func bumpCacheVersionTx(ctx context.Context, tx *Tx, scope string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO cache_versions (scope, version) VALUES (?, 1)
		ON CONFLICT (scope) DO UPDATE SET version = cache_versions.version + 1`, scope)
	if err != nil {
		return fmt.Errorf("store: bump cache version %s: %w", scope, err)
	}
	return nil
}

// CacheVersions reads every scope's version: an instance polls it and drops the caches of
// the scopes that moved since its last look.
func (s *Store) CacheVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT scope, version FROM cache_versions`)
	if err != nil {
		return nil, fmt.Errorf("store: cache versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var scope string
		var v int64
		if err := rows.Scan(&scope, &v); err != nil {
			return nil, fmt.Errorf("store: cache versions: %w", err)
		}
		out[scope] = v
	}
	return out, rows.Err()
}

// ActiveConnectionIDs maps every practice with credentials in force that EMIS has not
// rejected to its connection's id: an instance compares it with the connections it keeps
// logged on after CacheConnections moved.
func (s *Store) ActiveConnectionIDs(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.practice_id, c.id FROM emis_connections c JOIN practices p ON p.id = c.practice_id
		WHERE c.state = 'active' AND p.credentials_rejected = 0`)
	if err != nil {
		return nil, fmt.Errorf("store: active connections: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var p, id int64
		if err := rows.Scan(&p, &id); err != nil {
			return nil, fmt.Errorf("store: active connections: %w", err)
		}
		out[p] = id
	}
	return out, rows.Err()
}
