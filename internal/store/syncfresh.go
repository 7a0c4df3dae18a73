package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// queueRecordPass records the end of a sync pass in sync_state, inside the pass's transaction.
// A pass that read everything it had to is a success (a full one also the practice's
// freshness); an incomplete one records its reason and counts as a failure, and the last
// success stays where it was, since the sessions left unread are not known to be current.
// Until the first sync is done the row may not exist yet, and the pass that completes it sets
// the flag.
const recordPassSQL = `UPDATE sync_state SET last_success_at = ?, last_attempt_at = ?, last_error = '',
	consecutive_failures = 0, last_full_success_at = COALESCE(?, last_full_success_at) WHERE practice_id = ?`

// leaseHeldSQL narrows an update of a practice's sync_state to a pass whose instance still
// holds the practice's sync lease (its fence); %s is a row lock for the lease, or "".
const leaseHeldSQL = `
	AND EXISTS (SELECT 1 FROM sync_leases WHERE practice_id = ? AND holder = ? AND token = ? AND expires_at > ?%s)`

// leaseHeldArgs are leaseHeldSQL's arguments.
func leaseHeldArgs(practiceID int64, f *SyncFence, now int64) []any {
	return []any{practiceID, f.Holder, f.Token, now}
}

// recordUnchangedFencedSQL is recordPassSQL under a fence, for RecordUnchangedPass.
var recordUnchangedFencedSQL = recordPassSQL + fmt.Sprintf(leaseHeldSQL, "")

func queueRecordPass(ctx context.Context, b *batch, d DiaryDiff, now int64) error {
	var full any // NULL keeps the stored value
	if d.Full && d.Incomplete == "" {
		full = now
	}
	first := 0
	if d.FirstSyncDone {
		first = 1
	}
	switch {
	case d.Incomplete == "" && !d.wasFirst:
		return b.exec(ctx, recordPassSQL, now, now, full, d.PracticeID)
	case d.Incomplete == "":
		return b.exec(ctx, `INSERT INTO sync_state (practice_id, first_sync_done, last_success_at, last_full_success_at,
			last_attempt_at, last_error, consecutive_failures) VALUES (?, ?, ?, ?, ?, '', 0)
			ON CONFLICT (practice_id) DO UPDATE SET first_sync_done = `+keepFirstSyncDone+`,
			last_success_at = excluded.last_success_at, last_full_success_at = COALESCE(excluded.last_full_success_at, sync_state.last_full_success_at),
			last_attempt_at = excluded.last_attempt_at, last_error = '', consecutive_failures = 0`,
			d.PracticeID, first, now, full, now)
	case !d.wasFirst:
		return b.exec(ctx, `UPDATE sync_state SET last_attempt_at = ?, last_error = ?,
			consecutive_failures = consecutive_failures + 1 WHERE practice_id = ?`, now, d.Incomplete, d.PracticeID)
	default:
		return b.exec(ctx, `INSERT INTO sync_state (practice_id, first_sync_done, last_attempt_at, last_error,
			consecutive_failures) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (practice_id) DO UPDATE SET first_sync_done = `+keepFirstSyncDone+`,
			last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
			consecutive_failures = sync_state.consecutive_failures + 1`,
			d.PracticeID, first, now, d.Incomplete)
	}
}

// keepFirstSyncDone never undoes a first sync: the larger of the stored and the new flag,
// written as CASE because SQLite's scalar MAX(a, b) is an aggregate on PostgreSQL.
const keepFirstSyncDone = `CASE WHEN excluded.first_sync_done > sync_state.first_sync_done
	THEN excluded.first_sync_done ELSE sync_state.first_sync_done END`

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

// DiaryVersion is the practice's diary change counter. Migration 0027's triggers move it with
// every write to the stored diary or to the practice's slot types, in the writer's own
// transaction, whoever the writer is: the sync of any instance, herolink's own bookings
// recording what they wrote into EMIS (RecordSlotTx), staff changing which types are synced.
//
// On SQLite it is read on the writing connection: every sync pass reads it, and a reading
// connection's page cache is emptied whenever another connection has written (at 7,000
// practices, every few milliseconds), so there it cost a dozen page reads from the file,
// where the writer's cache holds the counters its own writes just moved.
//
// Reads asked for within a few milliseconds of one another are one query (gather.go).
func (s *Store) DiaryVersion(ctx context.Context, practiceID int64) (int64, error) {
	v, err := s.versions.do(ctx, practiceID, s.diaryVersionsOf)
	if err != nil {
		return 0, fmt.Errorf("store: diary version of practice %d: %w", practiceID, err)
	}
	return v, nil
}

// RecordUnchangedPass records a successful pass that found EMIS and the stored diary exactly
// as the previous pass of its window left them, so wrote nothing else: the freshness figures
// move on as if the whole diff had been applied. Under a fence it records only while the
// lease is still held. Passes ending within recordWindow of one another are recorded in one
// write (gather.go), each under its own fence; on SQLite that write also takes the
// record-only passes of ApplyDiaryPass ending with them (recordOnlyGathered).
func (s *Store) RecordUnchangedPass(ctx context.Context, practiceID int64, full bool, fence *SyncFence) error {
	refused, err := s.unchanged.do(ctx, unchangedPass{practiceID: practiceID, full: full, fence: fence}, s.recordUnchangedPasses)
	if err != nil {
		return fmt.Errorf("store: record an unchanged pass of practice %d: %w", practiceID, err)
	}
	return refused
}

// unchangedPass is one RecordUnchangedPass call, or on SQLite one record-only pass.
type unchangedPass struct {
	practiceID int64
	full       bool
	fence      *SyncFence
	// recordOnly is a record-only pass of ApplyDiaryPass with nothing to prune, applied as
	// applyRecordOnlyTx applies it at the batch's time, written to at (its DiaryApplied.At);
	// it is refused with errRecordOnlyChecks when one of its checks failed. SQLite only.
	recordOnly *DiaryDiff
	at         *int64
}

// errRecordOnlyChecks refuses a gathered record-only pass one of whose checks failed: it
// wrote nothing, and the pass takes its whole transaction, which says which.
var errRecordOnlyChecks = errors.New("store: a record-only pass's checks failed")

// refusal is what recording p was answered when no row was written.
func (p unchangedPass) refusal() error {
	if p.fence != nil {
		return fmt.Errorf("practice %d: %w", p.practiceID, ErrSyncLeaseLost)
	}
	return fmt.Errorf("store: record an unchanged pass of practice %d: no sync state", p.practiceID)
}

// recordUnchangedBatchPostgres records several unchanged passes in one statement, each under
// its own fence (a NULL holder: none); it returns the practices recorded.
const recordUnchangedBatchPostgres = `UPDATE sync_state s SET last_success_at = ?, last_attempt_at = ?, last_error = '',
	consecutive_failures = 0, last_full_success_at = COALESCE(r.full_at, s.last_full_success_at)
	FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[]) AS r(practice_id, full_at, holder, token)
	WHERE s.practice_id = r.practice_id AND (r.holder IS NULL OR EXISTS (SELECT 1 FROM sync_leases l
		WHERE l.practice_id = r.practice_id AND l.holder = r.holder AND l.token = r.token AND l.expires_at > ?))
	RETURNING s.practice_id`

// recordUnchangedPasses records ps, answering each nil or its refusal: one statement on
// PostgreSQL, one transaction on SQLite.
func (s *Store) recordUnchangedPasses(ctx context.Context, ps []unchangedPass) ([]error, error) {
	now := s.nowMS()
	switch {
	case len(ps) == 1 && ps[0].recordOnly == nil:
		refused, err := recordUnchanged(ctx, s.db.ExecPrepared, ps[0], now)
		return []error{refused}, err
	case s.dialect == SQLite:
		out := make([]error, len(ps))
		err := s.inTx(ctx, func(tx *Tx) error {
			for i, p := range ps {
				var err error
				if p.recordOnly != nil {
					out[i], err = recordOnlyInBatch(ctx, tx, p, now)
				} else {
					out[i], err = recordUnchanged(ctx, tx.ExecContext, p, now)
				}
				if err != nil {
					return fmt.Errorf("practice %d: %w", p.practiceID, err) // every pass of the batch is answered it
				}
			}
			return nil
		})
		return out, err
	}
	return s.recordUnchangedBatch(ctx, ps, now)
}

// recordUnchanged records one unchanged pass with exec, answering its refusal if it wrote
// nothing.
func recordUnchanged(ctx context.Context, exec func(context.Context, string, ...any) (sql.Result, error), p unchangedPass, now int64) (refused, err error) {
	var fullAt any // NULL keeps the stored value
	if p.full {
		fullAt = now
	}
	q, args := recordPassSQL, []any{now, now, fullAt, p.practiceID}
	if p.fence != nil {
		q, args = recordUnchangedFencedSQL, append(args, leaseHeldArgs(p.practiceID, p.fence, now)...)
	}
	res, err := exec(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p.refusal(), nil
	}
	return nil, nil
}

// recordUnchangedBatch records several unchanged passes on PostgreSQL in one statement
// (recordUnchangedBatchPostgres).
func (s *Store) recordUnchangedBatch(ctx context.Context, ps []unchangedPass, now int64) ([]error, error) {
	ids := make([]int64, len(ps))
	fulls := make([]*int64, len(ps))
	holders := make([]*string, len(ps))
	tokens := make([]*int64, len(ps))
	for i, p := range ps {
		ids[i] = p.practiceID
		if p.full {
			fulls[i] = &now
		}
		if p.fence != nil {
			holders[i], tokens[i] = &p.fence.Holder, &p.fence.Token
		}
	}
	rows, err := s.db.QueryPrepared(ctx, recordUnchangedBatchPostgres, now, now, ids, fulls, holders, tokens, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	recorded := make(map[int64]bool, len(ps))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		recorded[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]error, len(ps))
	for i, p := range ps {
		if !recorded[p.practiceID] {
			out[i] = p.refusal()
		}
	}
	return out, nil
}
