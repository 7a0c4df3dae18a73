package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Staff roles: support sees every practice; practice staff see their own.
const (
	RoleSupport  = "support"
	RolePractice = "practice"
)

// StaffUser is a person who signs in to /admin.
type StaffUser struct {
	ID           int64
	Username     string
	DisplayName  string
	PasswordHash string // argon2id, PHC format
	Role         string
	PracticeID   int64 // for RolePractice
}

// ErrDuplicate is a unique constraint refusing a second row.
var ErrDuplicate = errors.New("store: already exists")

// CreateStaffUser adds a staff user. Usernames are unique without regard to case.
func (s *Store) CreateStaffUser(ctx context.Context, u StaffUser) (StaffUser, error) {
	var pid any
	if u.PracticeID != 0 {
		pid = u.PracticeID
	}
	u.Username = strings.ToLower(u.Username)
	err := s.db.QueryRowContext(ctx, `INSERT INTO staff_users (username, display_name, password_hash, role, practice_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, u.Username, u.DisplayName, u.PasswordHash, u.Role, pid, s.nowMS()).Scan(&u.ID)
	if err != nil {
		if isUniqueViolation(err) { // the engine's code (SQLSTATE 23505), not its message
			return StaffUser{}, fmt.Errorf("staff user %q: %w", u.Username, ErrDuplicate)
		}
		return StaffUser{}, fmt.Errorf("store: create staff user: %w", err)
	}
	return u, nil
}

func scanStaff(row interface{ Scan(...any) error }) (StaffUser, error) {
	var u StaffUser
	var pid sql.NullInt64
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Role, &pid)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffUser{}, ErrNotFound
	}
	u.PracticeID = pid.Int64
	return u, err
}

// StaffUserByUsername finds a staff user.
func (s *Store) StaffUserByUsername(ctx context.Context, username string) (StaffUser, error) {
	u, err := scanStaff(s.db.QueryRowContext(ctx, `SELECT id, username, display_name, password_hash, role, practice_id
		FROM staff_users WHERE username = ?`, strings.ToLower(strings.TrimSpace(username))))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return u, fmt.Errorf("store: staff user: %w", err)
	}
	return u, err
}

// UpdateStaffPassword replaces a staff user's password hash and signs out all their sessions.
func (s *Store) UpdateStaffPassword(ctx context.Context, id int64, hash string) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff_users SET password_hash = ? WHERE id = ?`, hash, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE user_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update staff password: %w", err)
	}
	return nil
}

// CreateSession stores a sign-in session by the hash of its token, and drops expired ones so
// the table stays the size of the sessions in use.
func (s *Store) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM staff_sessions WHERE expires_at <= ?`, s.nowMS()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			tokenHash, userID, s.nowMS(), expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionUser finds the user of an unexpired session.
func (s *Store) SessionUser(ctx context.Context, tokenHash string) (StaffUser, error) {
	return scanStaff(s.db.QueryRowContext(ctx, `SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.practice_id
		FROM staff_sessions s JOIN staff_users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, s.nowMS()))
}

// DeleteSession signs a session out.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM staff_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
