package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SignInLockedUntil is when the lock on an account or client address ends (kind "account" or
// "address"); the zero time when there is none.
func (s *Store) SignInLockedUntil(ctx context.Context, kind, key string) (time.Time, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, `SELECT locked_until FROM signin_failures WHERE kind = ? AND key = ?`, kind, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: sign-in lock of %s: %w", kind, err)
	}
	if until == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(until), nil
}

// RecordSignInFailure counts one failed sign-in against an account or address, in one
// transaction with the row locked, so failures arriving at several instances at once are all
// counted. When the count reaches limit within window it locks for lock and says until when.
func (s *Store) RecordSignInFailure(ctx context.Context, kind, key string, now time.Time, limit int, window, lock time.Duration) (time.Time, bool, error) {
	var until time.Time
	var locked bool
	err := s.inTx(ctx, func(tx *Tx) error {
		nowMS := now.UnixMilli()
		// Make sure the row exists, then lock it: the read below decides the write.
		if _, err := tx.ExecContext(ctx, `INSERT INTO signin_failures (kind, key, count, first_at) VALUES (?, ?, 0, ?)
			ON CONFLICT (kind, key) DO NOTHING`, kind, key, nowMS); err != nil {
			return err
		}
		var count int
		var first, lockedUntil int64
		if err := tx.QueryRowContext(ctx, `SELECT count, first_at, locked_until FROM signin_failures WHERE kind = ? AND key = ?`+tx.forUpdate(),
			kind, key).Scan(&count, &first, &lockedUntil); err != nil {
			return err
		}
		if nowMS-first > window.Milliseconds() && nowMS >= lockedUntil {
			count, first = 0, nowMS
		}
		count++
		if count >= limit {
			count, first, lockedUntil = 0, nowMS, nowMS+lock.Milliseconds()
			until, locked = time.UnixMilli(lockedUntil), true
		}
		_, err := tx.ExecContext(ctx, `UPDATE signin_failures SET count = ?, first_at = ?, locked_until = ? WHERE kind = ? AND key = ?`,
			count, first, lockedUntil, kind, key)
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: record failed sign-in: %w", err)
	}
	return until, locked, nil
}

// ClearSignInFailures forgets an account's failures after a successful sign-in.
func (s *Store) ClearSignInFailures(ctx context.Context, kind, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM signin_failures WHERE kind = ? AND key = ?`, kind, key); err != nil {
		return fmt.Errorf("store: clear failed sign-ins: %w", err)
	}
	return nil
}

// PurgeSignInFailures deletes what no longer counts: failures older than window whose lock,
// if any, has ended.
func (s *Store) PurgeSignInFailures(ctx context.Context, now time.Time, window time.Duration) (int64, error) {
	nowMS := now.UnixMilli()
	res, err := s.db.ExecContext(ctx, `DELETE FROM signin_failures WHERE first_at < ? AND locked_until <= ?`, nowMS-window.Milliseconds(), nowMS)
	if err != nil {
		return 0, fmt.Errorf("store: purge failed sign-ins: %w", err)
	}
	return res.RowsAffected()
}
