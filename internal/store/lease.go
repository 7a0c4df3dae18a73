package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseLost is a write-back worker's lease on an appointment that lapsed or was taken by
// another worker: that worker must not write to EMIS for it.
var ErrLeaseLost = errors.New("store: the appointment's write-back lease was lost to another worker")

// RenewLease extends the lease held under token to d from now; false when it is no longer
// held (lapsed, released, or another worker's now).
func (s *Store) RenewLease(ctx context.Context, id, token string, d time.Duration) (bool, error) {
	now := s.nowMS()
	res, err := s.db.ExecContext(ctx, `UPDATE appointments SET lease_until = ?
		WHERE id = ? AND lease_token = ? AND lease_until > ?`, now+d.Milliseconds(), id, token, now)
	if err != nil {
		return false, fmt.Errorf("store: renew lease of appointment %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FenceWrite is the last thing before a write to EMIS: in one statement it checks that token
// still holds a live lease, extends it to d from now, and records that a write is under way
// (write_unknown, write_attempts). ErrLeaseLost means the caller must not write.
func (s *Store) FenceWrite(ctx context.Context, id, token string, attempts int, d time.Duration) error {
	now := s.nowMS()
	res, err := s.db.ExecContext(ctx, `UPDATE appointments SET write_unknown = 1, write_attempts = ?, lease_until = ?, updated_at = ?
		WHERE id = ? AND lease_token = ? AND lease_until > ?`, attempts, now+d.Milliseconds(), now, id, token, now)
	if err != nil {
		return fmt.Errorf("store: record write attempt of appointment %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("appointment %s: %w", id, ErrLeaseLost)
	}
	return nil
}

// LeaseFree says whether nobody holds a live lease on the appointment: never taken, released,
// or lapsed because its worker stopped renewing it.
func (s *Store) LeaseFree(ctx context.Context, id string) (bool, error) {
	var free bool
	err := s.db.QueryRowContext(ctx, `SELECT lease_until IS NULL OR lease_until <= ? FROM appointments WHERE id = ?`,
		s.nowMS(), id).Scan(&free)
	if err != nil {
		return false, fmt.Errorf("store: lease of appointment %s: %w", id, err)
	}
	return free, nil
}
