package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrSyncLeaseLost is a sync pass whose instance no longer holds the practice's lease (it
// lapsed, was released, or another instance took it): its write is refused.
var ErrSyncLeaseLost = errors.New("store: this instance no longer holds the practice's sync lease")

// SyncFence is the lease a sync pass was started under; ApplyDiary commits the pass only while
// the lease is still held with this token.
type SyncFence struct {
	Holder string
	Token  int64
}

// SyncLease is one practice this instance holds.
type SyncLease struct {
	PracticeID int64
	Token      int64
}

// SyncLeaseRound is what one round of lease keeping gave an instance.
type SyncLeaseRound struct {
	Held      []SyncLease // the practices this instance holds now, until the round's start plus the TTL
	Live      int         // live instances, this one included
	Practices int         // syncable practices
	Share     int         // what this instance aims to hold: ceil(Practices / Live)
}

// syncableWhere picks the practices the sync keeps fresh (as SyncablePractices).
const syncableWhere = `p.credentials_rejected = 0 AND EXISTS
	(SELECT 1 FROM emis_connections c WHERE c.practice_id = p.id AND c.state = 'active')`

// SyncLeaseRound is one instance's round of lease keeping, in one transaction: it records
// the instance's heartbeat, renews the leases it holds, releases those above its share
// (ceil(practices / live instances)) and takes free or lapsed ones up to its share. A lease
// and a heartbeat last ttl from now unless renewed; a stopped instance's practices are free
// ttl after its last round.
func (s *Store) SyncLeaseRound(ctx context.Context, holder string, ttl time.Duration) (SyncLeaseRound, error) {
	if holder == "" || ttl <= 0 {
		return SyncLeaseRound{}, errors.New("store: a sync lease round needs an instance id and a positive TTL")
	}
	now := s.nowMS()
	until := now + ttl.Milliseconds()
	var r SyncLeaseRound
	err := s.inTx(ctx, func(tx *Tx) error {
		r = SyncLeaseRound{}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sync_instances (instance_id, started_at, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (instance_id) DO UPDATE SET expires_at = excluded.expires_at`, holder, now, until); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_instances WHERE expires_at < ?`, now-time.Hour.Milliseconds()); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_instances WHERE expires_at > ?`, now).Scan(&r.Live); err != nil {
			return err
		}
		// Every syncable practice has a lease row; a practice that stopped being syncable
		// loses its row, and with it any pass still writing to it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO sync_leases (practice_id, holder, token, expires_at)
			SELECT p.id, '', 0, 0 FROM practices p WHERE `+syncableWhere+`
			AND NOT EXISTS (SELECT 1 FROM sync_leases l WHERE l.practice_id = p.id) ON CONFLICT (practice_id) DO NOTHING`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_leases WHERE NOT EXISTS
			(SELECT 1 FROM practices p WHERE p.id = sync_leases.practice_id AND `+syncableWhere+`)`); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_leases`).Scan(&r.Practices); err != nil {
			return err
		}
		live := max(r.Live, 1)
		r.Share = (r.Practices + live - 1) / live
		if _, err := tx.ExecContext(ctx, `UPDATE sync_leases SET expires_at = ? WHERE holder = ? AND expires_at > ?`, until, holder, now); err != nil {
			return err
		}
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_leases WHERE holder = ? AND expires_at > ?`, holder, now).Scan(&held); err != nil {
			return err
		}
		switch {
		case held > r.Share:
			// Above its share (another instance joined): the excess is freed at once, for
			// the others to take; a pass still running on it will find its write refused.
			if _, err := tx.ExecContext(ctx, `UPDATE sync_leases SET expires_at = 0 WHERE holder = ? AND practice_id IN
				(SELECT practice_id FROM sync_leases WHERE holder = ? AND expires_at > ? ORDER BY practice_id DESC LIMIT ?)`,
				holder, holder, now, held-r.Share); err != nil {
				return err
			}
		case held < r.Share:
			// The outer condition decides: of two instances choosing the same free lease
			// at once, the second finds it no longer free. On PostgreSQL SKIP LOCKED lets
			// them choose different ones.
			skip := ""
			if tx.Dialect() == Postgres {
				skip = " FOR UPDATE SKIP LOCKED"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sync_leases SET holder = ?, token = token + 1, expires_at = ?
				WHERE expires_at <= ? AND practice_id IN
				(SELECT practice_id FROM sync_leases WHERE expires_at <= ? ORDER BY practice_id LIMIT ?`+skip+`)`,
				holder, until, now, now, r.Share-held); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT practice_id, token FROM sync_leases WHERE holder = ? AND expires_at > ? ORDER BY practice_id`, holder, now)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l SyncLease
			if err := rows.Scan(&l.PracticeID, &l.Token); err != nil {
				return err
			}
			r.Held = append(r.Held, l)
		}
		return rows.Err()
	})
	if err != nil {
		return SyncLeaseRound{}, fmt.Errorf("store: sync lease round of %s: %w", holder, err)
	}
	return r, nil
}

// ReleaseSyncLeases frees every lease an instance holds and ends its heartbeat: a clean
// shutdown hands its practices to the others at their next round instead of after the TTL.
func (s *Store) ReleaseSyncLeases(ctx context.Context, holder string) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sync_leases SET expires_at = 0 WHERE holder = ?`, holder); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sync_instances WHERE instance_id = ?`, holder)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release sync leases of %s: %w", holder, err)
	}
	return nil
}

// SyncLeaseHolder says who holds a practice's live lease ("" if nobody), for tests and the
// admin pages.
func (s *Store) SyncLeaseHolder(ctx context.Context, practiceID int64) (string, error) {
	var holder string
	err := s.db.QueryRowContext(ctx, `SELECT holder FROM sync_leases WHERE practice_id = ? AND expires_at > ?`, practiceID, s.nowMS()).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: sync lease of practice %d: %w", practiceID, err)
	}
	return holder, nil
}

// syncFenceSQL finds a sync pass's lease if it is still held with its token. On PostgreSQL the
// pass's write locks the lease row until it commits, so no other instance can take the lease
// between the check and the commit.
const syncFenceSQL = `SELECT token FROM sync_leases WHERE practice_id = ? AND holder = ? AND token = ? AND expires_at > ?`

// queueSyncFence checks the fence of a sync pass's write with b, locking the lease, and sets
// *held to false if the lease is lost (a nil fence is not checked): the write is then refused
// with ErrSyncLeaseLost.
func queueSyncFence(ctx context.Context, b *batch, practiceID int64, f *SyncFence, now int64, held *bool) error {
	if f == nil {
		return nil
	}
	return b.queryRow(ctx, func(r Row) error {
		var token int64
		err := r.Scan(&token)
		if errors.Is(err, sql.ErrNoRows) {
			*held, err = false, nil
		}
		return err
	}, syncFenceSQL+b.tx.forUpdate(), practiceID, f.Holder, f.Token, now)
}
