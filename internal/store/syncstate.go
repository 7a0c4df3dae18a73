package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SyncStatus is how fresh herolink's copy of a practice's diary is.
type SyncStatus struct {
	PracticeID          int64
	FirstSyncDone       bool
	LastSuccessAt       time.Time // zero: never
	LastAttemptAt       time.Time
	LastError           string
	ConsecutiveFailures int
	Sessions            int
	Slots               int
	ProgressDone        int // during the first sync: sessions whose slots have been read
	ProgressTotal       int
}

// SyncStatus reads a practice's sync state; a practice never synced has a zero status.
func (s *Store) SyncStatus(ctx context.Context, practiceID int64) (SyncStatus, error) {
	st := SyncStatus{PracticeID: practiceID}
	var done int
	var success, attempt sql.NullInt64
	// The counts are of the stored copy as it is now, counted when asked (a page shows them):
	// kept up to date by every pass, they cost a count of 1,800 slots a pass (migration 0031).
	err := s.db.QueryRowPrepared(ctx, `SELECT first_sync_done, last_success_at, last_attempt_at, last_error,
		consecutive_failures, (SELECT COUNT(*) FROM diary_sessions WHERE practice_id = ss.practice_id),
		(SELECT COUNT(*) FROM diary_slots WHERE practice_id = ss.practice_id), progress_done, progress_total
		FROM sync_state ss WHERE practice_id = ?`, practiceID).
		Scan(&done, &success, &attempt, &st.LastError, &st.ConsecutiveFailures, &st.Sessions, &st.Slots, &st.ProgressDone, &st.ProgressTotal)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("store: sync status of practice %d: %w", practiceID, err)
	}
	st.FirstSyncDone = done != 0
	st.LastSuccessAt, st.LastAttemptAt = msTime(success), msTime(attempt)
	return st, nil
}

// FirstSyncDone says whether the practice's first sync is done, without SyncStatus's counts:
// the sync asks it of every practice once after a start.
func (s *Store) FirstSyncDone(ctx context.Context, practiceID int64) (bool, error) {
	var done int
	err := s.db.QueryRowPrepared(ctx, firstSyncDoneSQL, practiceID).Scan(&done)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("store: first sync of practice %d: %w", practiceID, err)
	}
	return done != 0, nil
}
