package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BookingLink is a patient booking link (migration 0024). Its token is never stored: only
// TokenHash.
type BookingLink struct {
	ID                string
	TokenHash         string
	PracticeGroupID   string
	PracticeID        int64
	OwnerID           string // the partner that made it; "" for staff
	AppointmentTypeID string
	LocationID        string
	PractitionerID    string
	GivenName         string // the patient; all empty for an open link
	FamilyName        string
	DateOfBirth       string
	NHSNumber         string
	FromDate, ToDate  string // yyyy-mm-dd
	ExpiresAt         time.Time
	MaxUses           int
	Uses              int
	FailedAttempts    int
	LockedAt          time.Time
	RevokedAt         time.Time
	CreatedBy         string
	CreatedAt         time.Time
}

const bookingLinkColumns = `id, token_hash, practice_group_id, practice_id, owner_id, appointment_type_id,
	location_id, practitioner_id, patient_given_name, patient_family_name, patient_dob, patient_nhs_number,
	from_date, to_date, expires_at, max_uses, uses, failed_attempts, locked_at, revoked_at, created_by, created_at`

func scanBookingLink(row interface{ Scan(...any) error }) (BookingLink, error) {
	var l BookingLink
	var expires, created int64
	var locked, revoked sql.NullInt64
	err := row.Scan(&l.ID, &l.TokenHash, &l.PracticeGroupID, &l.PracticeID, &l.OwnerID, &l.AppointmentTypeID,
		&l.LocationID, &l.PractitionerID, &l.GivenName, &l.FamilyName, &l.DateOfBirth, &l.NHSNumber,
		&l.FromDate, &l.ToDate, &expires, &l.MaxUses, &l.Uses, &l.FailedAttempts, &locked, &revoked, &l.CreatedBy, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, err
	}
	l.ExpiresAt, l.CreatedAt = time.UnixMilli(expires), time.UnixMilli(created)
	l.LockedAt, l.RevokedAt = msTime(locked), msTime(revoked)
	return l, nil
}

func (s *Store) queryBookingLinks(ctx context.Context, query string, args ...any) ([]BookingLink, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: booking links: %w", err)
	}
	defer rows.Close()
	var out []BookingLink
	for rows.Next() {
		l, err := scanBookingLink(rows)
		if err != nil {
			return nil, fmt.Errorf("store: booking links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: booking links: %w", err)
	}
	return out, rows.Close()
}

// CreateBookingLink stores a new link; CreatedAt is set here.
func (s *Store) CreateBookingLink(ctx context.Context, l BookingLink) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO booking_links (id, token_hash, practice_group_id, practice_id,
		owner_id, appointment_type_id, location_id, practitioner_id, patient_given_name, patient_family_name,
		patient_dob, patient_nhs_number, from_date, to_date, expires_at, max_uses, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.TokenHash, l.PracticeGroupID, l.PracticeID, l.OwnerID, l.AppointmentTypeID, l.LocationID,
		l.PractitionerID, l.GivenName, l.FamilyName, l.DateOfBirth, l.NHSNumber, l.FromDate, l.ToDate,
		l.ExpiresAt.UnixMilli(), l.MaxUses, l.CreatedBy, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: create booking link: %w", err)
	}
	return nil
}

// BookingLink reads one link by id.
func (s *Store) BookingLink(ctx context.Context, id string) (BookingLink, error) {
	l, err := scanBookingLink(s.db.QueryRowContext(ctx, `SELECT `+bookingLinkColumns+` FROM booking_links WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, fmt.Errorf("store: booking link %s: %w", id, err)
	}
	return l, err
}

// BookingLinkByTokenHash finds the link a token opens.
func (s *Store) BookingLinkByTokenHash(ctx context.Context, hash string) (BookingLink, error) {
	l, err := scanBookingLink(s.db.QueryRowContext(ctx, `SELECT `+bookingLinkColumns+` FROM booking_links WHERE token_hash = ?`, hash))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, fmt.Errorf("store: booking link by token: %w", err)
	}
	return l, err
}

// BookingLinksOf lists a partner's links in a practice group, newest first.
func (s *Store) BookingLinksOf(ctx context.Context, group, owner string) ([]BookingLink, error) {
	return s.queryBookingLinks(ctx, `SELECT `+bookingLinkColumns+` FROM booking_links
		WHERE practice_group_id = ? AND owner_id = ? ORDER BY created_at DESC, id`, group, owner)
}

// BookingLinksOfPractice lists every link of a practice (any partner's or staff's), newest
// first, at most limit.
func (s *Store) BookingLinksOfPractice(ctx context.Context, practiceID int64, limit int) ([]BookingLink, error) {
	return s.queryBookingLinks(ctx, `SELECT `+bookingLinkColumns+` FROM booking_links
		WHERE practice_id = ? ORDER BY created_at DESC, id LIMIT ?`, practiceID, limit)
}

// RevokeBookingLink stops a link of a practice group for good (owner "": whoever made it).
// ErrNotFound when the group (or owner) has no such link; revoking twice changes nothing.
func (s *Store) RevokeBookingLink(ctx context.Context, group, owner, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE booking_links SET revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ? AND practice_group_id = ? AND (owner_id = ? OR ? = '')`, s.nowMS(), id, group, owner, owner)
	if err != nil {
		return fmt.Errorf("store: revoke booking link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UnlockBookingLink lets a locked link be used again, its wrong answers forgotten.
// ErrNotFound when the practice has no such link.
func (s *Store) UnlockBookingLink(ctx context.Context, practiceID int64, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE booking_links SET locked_at = NULL, failed_attempts = 0
		WHERE id = ? AND practice_id = ?`, id, practiceID)
	if err != nil {
		return fmt.Errorf("store: unlock booking link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RecordWrongDateOfBirth counts one wrong answer against a link and locks it when the count
// reaches lockAt, in one statement: several instances answering at once count every answer.
// It returns the count and whether the link is locked now. A link already locked is not
// counted further.
func (s *Store) RecordWrongDateOfBirth(ctx context.Context, id string, lockAt int) (int, bool, error) {
	now := s.nowMS()
	var n int
	var locked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `UPDATE booking_links SET failed_attempts = failed_attempts + 1,
		locked_at = CASE WHEN failed_attempts + 1 >= ? THEN CAST(? AS BIGINT) ELSE NULL END
		WHERE id = ? AND locked_at IS NULL RETURNING failed_attempts, locked_at`, lockAt, now, id).Scan(&n, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		l, err := s.BookingLink(ctx, id)
		if err != nil {
			return 0, false, err
		}
		return l.FailedAttempts, !l.LockedAt.IsZero(), nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: count wrong date of birth: %w", err)
	}
	return n, locked.Valid, nil
}

// ClaimBookingLinkUse takes one of a link's uses for a booking about to be confirmed, in one
// statement, so two patients confirming at once never exceed max_uses. False when the link is
// used up, revoked, locked or expired at now.
func (s *Store) ClaimBookingLinkUse(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE booking_links SET uses = uses + 1
		WHERE id = ? AND uses < max_uses AND revoked_at IS NULL AND locked_at IS NULL AND expires_at > ?`,
		id, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: claim booking link use: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseBookingLinkUse gives back a use claimed for a booking that was not confirmed.
func (s *Store) ReleaseBookingLinkUse(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE booking_links SET uses = uses - 1 WHERE id = ? AND uses > 0`, id)
	if err != nil {
		return fmt.Errorf("store: release booking link use: %w", err)
	}
	return nil
}

// BookingLinkVisit is one patient's visit to a link (see migration 0024).
type BookingLinkVisit struct {
	TokenHash     string
	LinkID        string
	Verified      bool
	GivenName     string
	FamilyName    string
	DateOfBirth   string
	NHSNumber     string
	AppointmentID string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// CreateBookingLinkVisit stores a new visit.
func (s *Store) CreateBookingLinkVisit(ctx context.Context, v BookingLinkVisit) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO booking_link_visits (token_hash, link_id, verified, given_name,
		family_name, dob, nhs_number, appointment_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.TokenHash, v.LinkID, boolInt(v.Verified), v.GivenName, v.FamilyName, v.DateOfBirth, v.NHSNumber,
		v.AppointmentID, s.nowMS(), v.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: create booking link visit: %w", err)
	}
	return nil
}

// BookingLinkVisit reads a visit of one link that has not expired. ErrNotFound for a visit of
// another link, an expired one or none.
func (s *Store) BookingLinkVisit(ctx context.Context, linkID, tokenHash string) (BookingLinkVisit, error) {
	var v BookingLinkVisit
	var verified int
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT token_hash, link_id, verified, given_name, family_name, dob, nhs_number,
		appointment_id, created_at, expires_at FROM booking_link_visits WHERE token_hash = ? AND link_id = ? AND expires_at > ?`,
		tokenHash, linkID, s.nowMS()).Scan(&v.TokenHash, &v.LinkID, &verified, &v.GivenName, &v.FamilyName,
		&v.DateOfBirth, &v.NHSNumber, &v.AppointmentID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("store: booking link visit: %w", err)
	}
	v.Verified, v.CreatedAt, v.ExpiresAt = verified == 1, time.UnixMilli(created), time.UnixMilli(expires)
	return v, nil
}

// UpdateBookingLinkVisit writes what a visit proved, typed and holds.
func (s *Store) UpdateBookingLinkVisit(ctx context.Context, v BookingLinkVisit) error {
	res, err := s.db.ExecContext(ctx, `UPDATE booking_link_visits SET verified = ?, given_name = ?, family_name = ?,
		dob = ?, nhs_number = ?, appointment_id = ? WHERE token_hash = ? AND link_id = ?`,
		boolInt(v.Verified), v.GivenName, v.FamilyName, v.DateOfBirth, v.NHSNumber, v.AppointmentID, v.TokenHash, v.LinkID)
	if err != nil {
		return fmt.Errorf("store: update booking link visit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PurgeBookingLinkVisits deletes visits that expired before now: they hold what patients typed.
func (s *Store) PurgeBookingLinkVisits(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM booking_link_visits WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: purge booking link visits: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
