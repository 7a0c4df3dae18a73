package store

import (
	"context"
	"fmt"
)

// A pass that read EMIS and found nothing to change, at most sessions whose slots a refresh
// found exactly as stored, writes only its record and those sessions' refresh times. At 7,000
// practices that is most passes that are not remembered (rolling refreshes are), and the whole
// pass's transaction (the lease, the version read and locked, the first sync's flag, the
// version read again) cost each three to four statements more than it needs: on PostgreSQL
// each is a round trip.
//
// recordOnlyPassSQL records such a pass in one statement that also proves what the full
// transaction would have checked first: the first sync is done, nothing else wrote the diary
// since the pass read its version (locked until commit on PostgreSQL, as diaryVersionTx locks
// it), and, under a fence, the lease is still held (likewise locked). When any of them fails it
// changes nothing and the pass takes the full transaction, which says which.
const recordOnlyPassSQL = recordPassSQL + ` AND first_sync_done = 1
	AND COALESCE((SELECT diary FROM slot_versions WHERE practice_id = ? AND shard = -1%s), 0) = ?`

// recordOnlyPass are the statements without and with a fence, the checked rows unlocked
// (SQLite's writer is alone); recordOnlyPassPostgres locks them FOR UPDATE until commit, as
// the full transaction does: a weaker lock would have to be upgraded when a check fails and the
// pass takes the full transaction, and two passes upgrading at once deadlock.
var recordOnlyPass, recordOnlyPassPostgres = recordOnlyPassStatements(""), recordOnlyPassStatements(" FOR UPDATE")

func recordOnlyPassStatements(lock string) [2]string {
	q := fmt.Sprintf(recordOnlyPassSQL, lock)
	return [2]string{q, q + fmt.Sprintf(leaseHeldSQL, lock)}
}

// recordOnlyAlonePostgres are recordOnlyPassPostgres's statements (without and with a fence)
// made a whole record-only pass outside a transaction: the checked update of the pass's record,
// and the confirmed sessions' refresh times written only if it matched. Data-modifying
// statements in WITH all run, in one snapshot and one implicit transaction, so the rows it
// locks stay locked until both are written. One round trip where BEGIN, the update, the
// sessions' update and COMMIT took three.
var recordOnlyAlonePostgres = func() (q [2]string) {
	for i, rec := range recordOnlyPassPostgres {
		q[i] = `WITH rec AS (` + rec + ` RETURNING 1), marked AS (UPDATE diary_sessions SET slots_synced_at = ?
	WHERE practice_id = ? AND session_id = ANY(?) AND EXISTS (SELECT 1 FROM rec) RETURNING 1)
	SELECT COUNT(*) FROM rec`
	}
	return q
}()

// recordOnlyPassAlone applies a record-only pass without pruning on PostgreSQL in one statement
// (recordOnlyAlonePostgres); ok is false, with nothing written, when one of the checks failed
// and the pass is to take the full transaction.
func (s *Store) recordOnlyPassAlone(ctx context.Context, d DiaryDiff, now int64) (ok bool, err error) {
	q, args := recordOnlyStatement(recordOnlyAlonePostgres, d, now)
	confirmed := d.Confirmed
	if confirmed == nil {
		confirmed = []int64{} // an empty array, not NULL
	}
	args = append(args, now, d.PracticeID, confirmed)
	var n int64
	if err := s.db.QueryRowPrepared(ctx, q, args...).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// recordOnlyGathered applies a record-only pass without pruning on SQLite in the transaction
// of the unchanged passes and record-only passes ending with it (RecordUnchangedPass's batch):
// at 7,000 practices a hundred passes a second, each a transaction of its own, and a BEGIN
// and a COMMIT (its WAL frames written apart) cost more than its statements. It is recorded,
// and its lease checked, at the batch's time, which at says. ok is false, with nothing
// written, when one of its checks failed.
//
// As for RecordUnchangedPass, the batch runs under its own bound (gatherTimeout), not ctx: a
// pass whose ctx ends while it waits is answered ctx's error, and its record may still be
// written. The sync calls it under a context that does not end before that bound.
func (s *Store) recordOnlyGathered(ctx context.Context, d DiaryDiff) (at int64, ok bool, err error) {
	refused, err := s.unchanged.do(ctx, unchangedPass{practiceID: d.PracticeID, recordOnly: &d, at: &at}, s.recordUnchangedPasses)
	if err != nil {
		return 0, false, err
	}
	return at, refused == nil, nil
}

// recordOnlyInBatch is applyRecordOnlyTx for a gathered pass (recordOnlyGathered), at now.
func recordOnlyInBatch(ctx context.Context, tx *Tx, p unchangedPass, now int64) (refused, err error) {
	*p.at = now // read by the pass once the batch is answered
	_, ok, err := applyRecordOnlyTx(ctx, tx, *p.recordOnly, now)
	if err != nil || ok {
		return nil, err
	}
	return errRecordOnlyChecks, nil
}

// recordOnlyStatement picks, of stmts (without and with a fence), the one for d's pass and
// gives the arguments of its checked record.
func recordOnlyStatement(stmts [2]string, d DiaryDiff, now int64) (string, []any) {
	var full any // NULL keeps the stored value
	if d.Full {
		full = now
	}
	if d.Fence == nil {
		return stmts[0], []any{now, now, full, d.PracticeID, d.PracticeID, d.VersionRead}
	}
	return stmts[1], append([]any{now, now, full, d.PracticeID, d.PracticeID, d.VersionRead},
		leaseHeldArgs(d.PracticeID, d.Fence, now)...)
}

// recordOnly says whether a pass writes nothing to the diary but refresh times.
func (d DiaryDiff) recordOnly() bool {
	return len(d.Upsert) == 0 && len(d.Slots) == 0 && len(d.Remove) == 0 && d.Incomplete == ""
}

// recordFirst says whether ApplyDiaryPass tries the pass's shorter write before its whole
// transaction (a record-only pass with nothing to prune): the transaction then follows only
// when the shorter write's checks failed, and does not try it again.
func (d DiaryDiff) recordFirst() bool { return d.recordOnly() && d.PruneBefore == "" }

// applyRecordOnlyTx applies a record-only pass (DiaryDiff.recordOnly) if the first sync is
// done, the diary version is still d.VersionRead and any fence still holds; ok is false, with
// nothing written, otherwise. version is the diary version the pass leaves.
func applyRecordOnlyTx(ctx context.Context, tx *Tx, d DiaryDiff, now int64) (version int64, ok bool, err error) {
	stmts := recordOnlyPass
	if tx.dialect == Postgres {
		stmts = recordOnlyPassPostgres
	}
	q, args := recordOnlyStatement(stmts, d, now)
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	version = d.VersionRead
	if d.PruneBefore != "" {
		pruned, err := pruneTx(ctx, tx, d.PracticeID, d.PruneBefore)
		if err != nil {
			return 0, false, err
		}
		if pruned {
			// Deleting slots moves the version (migration 0027's triggers); only this
			// transaction can meanwhile, since the row is locked or SQLite's writer is alone.
			if version, err = diaryVersionTx(ctx, tx, d.PracticeID); err != nil {
				return 0, false, err
			}
		}
	}
	if err := markSlotsReadTx(ctx, tx, d.PracticeID, d.Confirmed, now); err != nil {
		return 0, false, err
	}
	return version, true, nil
}

// pruneTx deletes a practice's sessions dated before day and their slots, saying whether it
// deleted any.
func pruneTx(ctx context.Context, tx *Tx, practiceID int64, day string) (bool, error) {
	slots, err := tx.ExecContext(ctx, pruneSlotsSQL, practiceID, practiceID, day)
	if err != nil {
		return false, err
	}
	sessions, err := tx.ExecContext(ctx, pruneSessionsSQL, practiceID, day)
	if err != nil {
		return false, err
	}
	a, _ := slots.RowsAffected()
	b, _ := sessions.RowsAffected()
	return a+b > 0, nil
}

// markSlotsReadTx records that sessions' slots were read at now (a refresh that confirmed them).
func markSlotsReadTx(ctx context.Context, tx *Tx, practiceID int64, sessionIDs []int64, now int64) error {
	if len(sessionIDs) == 0 {
		return nil // most record-only passes on SQLite: no batch to make
	}
	b := tx.newBatch()
	if err := queueSlotsRead(ctx, b, practiceID, sessionIDs, now); err != nil {
		return err
	}
	return b.flush(ctx)
}

// queueSlotsRead is markSlotsReadTx with b.
func queueSlotsRead(ctx context.Context, b *batch, practiceID int64, sessionIDs []int64, now int64) error {
	return execChunked(ctx, b, slotsSyncedSQL, []any{now, practiceID}, int64sAsArgs(sessionIDs), 1)
}
