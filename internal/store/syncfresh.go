package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// recordPassTx records the end of a sync pass in sync_state, inside the pass's transaction. A
// pass that read everything it had to is a success (a full one also the practice's freshness);
// an incomplete one records its reason and counts as a failure, and the last success stays where
// it was, since the sessions left unread are not known to be current. recount recounts the
// practice's stored sessions and slots (two COUNT(*) scans; skipped when nothing was written).
func recordPassTx(ctx context.Context, tx *Tx, d DiaryDiff, now int64, recount bool) error {
	var full any // NULL keeps the stored value
	if d.Full && d.Incomplete == "" {
		full = now
	}
	first := 0
	if d.FirstSyncDone {
		first = 1
	}
	var err error
	switch {
	case d.Incomplete == "" && !recount:
		_, err = tx.ExecContext(ctx, `UPDATE sync_state SET last_success_at = ?, last_attempt_at = ?, last_error = '',
			consecutive_failures = 0, last_full_success_at = COALESCE(?, last_full_success_at) WHERE practice_id = ?`,
			now, now, full, d.PracticeID)
	case d.Incomplete == "":
		_, err = tx.ExecContext(ctx, `INSERT INTO sync_state (practice_id, first_sync_done, last_success_at, last_full_success_at,
			last_attempt_at, last_error, consecutive_failures, sessions, slots)
			VALUES (?, ?, ?, ?, ?, '', 0, (SELECT COUNT(*) FROM diary_sessions WHERE practice_id = ?), (SELECT COUNT(*) FROM diary_slots WHERE practice_id = ?))
			ON CONFLICT (practice_id) DO UPDATE SET first_sync_done = CASE WHEN sync_state.first_sync_done > excluded.first_sync_done THEN sync_state.first_sync_done ELSE excluded.first_sync_done END,
			last_success_at = excluded.last_success_at, last_full_success_at = COALESCE(excluded.last_full_success_at, sync_state.last_full_success_at),
			last_attempt_at = excluded.last_attempt_at, last_error = '', consecutive_failures = 0, sessions = excluded.sessions, slots = excluded.slots`,
			d.PracticeID, first, now, full, now, d.PracticeID, d.PracticeID)
	case !recount:
		_, err = tx.ExecContext(ctx, `UPDATE sync_state SET last_attempt_at = ?, last_error = ?,
			consecutive_failures = consecutive_failures + 1 WHERE practice_id = ?`, now, d.Incomplete, d.PracticeID)
	default:
		_, err = tx.ExecContext(ctx, `INSERT INTO sync_state (practice_id, first_sync_done, last_attempt_at, last_error,
			consecutive_failures, sessions, slots)
			VALUES (?, ?, ?, ?, 1, (SELECT COUNT(*) FROM diary_sessions WHERE practice_id = ?), (SELECT COUNT(*) FROM diary_slots WHERE practice_id = ?))
			ON CONFLICT (practice_id) DO UPDATE SET first_sync_done = CASE WHEN sync_state.first_sync_done > excluded.first_sync_done THEN sync_state.first_sync_done ELSE excluded.first_sync_done END,
			last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
			consecutive_failures = sync_state.consecutive_failures + 1, sessions = excluded.sessions, slots = excluded.slots`,
			d.PracticeID, first, now, d.Incomplete, d.PracticeID, d.PracticeID)
	}
	return err
}

// SyncFreshness is how fresh the stored diaries of every practice the sync keeps are, as the
// database knows it: true across restarts.
type SyncFreshness struct {
	Practices    int       // syncable: an active connection whose credentials EMIS has not refused
	FirstSyncing int       // first sync not done yet
	Failing      int       // first sync done, the last pass failed or was incomplete
	Stale        int       // first sync done, last complete full pass before the staleness bound
	OldestFull   time.Time // the least recent last complete full pass (zero: none done, or never recorded)
}

// SyncFreshness reads the freshness of every syncable practice; staleBefore is the bound
// before which a practice's last complete full pass makes it stale.
func (s *Store) SyncFreshness(ctx context.Context, staleBefore time.Time) (SyncFreshness, error) {
	var f SyncFreshness
	var oldest sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN COALESCE(ss.first_sync_done, 0) = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN ss.first_sync_done = 1 AND ss.consecutive_failures > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN ss.first_sync_done = 1 AND COALESCE(ss.last_full_success_at, 0) < ? THEN 1 ELSE 0 END), 0),
		MIN(CASE WHEN ss.first_sync_done = 1 THEN COALESCE(ss.last_full_success_at, 0) END)
		FROM practices p LEFT JOIN sync_state ss ON ss.practice_id = p.id
		WHERE p.credentials_rejected = 0 AND EXISTS
		(SELECT 1 FROM emis_connections c WHERE c.practice_id = p.id AND c.state = 'active')`, staleBefore.UnixMilli()).
		Scan(&f.Practices, &f.FirstSyncing, &f.Failing, &f.Stale, &oldest)
	if err != nil {
		return f, fmt.Errorf("store: sync freshness: %w", err)
	}
	if oldest.Valid && oldest.Int64 > 0 {
		f.OldestFull = time.UnixMilli(oldest.Int64)
	} else if oldest.Valid {
		f.OldestFull = time.UnixMilli(0) // done, but no full success recorded: as old as can be
	}
	return f, nil
}
