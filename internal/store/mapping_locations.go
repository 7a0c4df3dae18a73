package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Location is a place patients go to, as herolink knows it.
type Location struct {
	ID         int64
	PracticeID int64
	Name       string
	EMISSiteID int64 // 0: platform-only
	CreatedAt  time.Time
}

const locationColumns = `id, practice_id, name, emis_site_id, created_at`

func scanLocation(row interface{ Scan(...any) error }) (Location, error) {
	var l Location
	var site sql.NullInt64
	var at int64
	err := row.Scan(&l.ID, &l.PracticeID, &l.Name, &site, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	l.EMISSiteID, l.CreatedAt = site.Int64, time.UnixMilli(at)
	return l, err
}

// Locations lists a practice's locations by name.
func (s *Store) Locations(ctx context.Context, practiceID int64) ([]Location, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+locationColumns+` FROM locations WHERE practice_id = ? ORDER BY lower(name), id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: locations of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []Location
	for rows.Next() {
		l, err := scanLocation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: locations of practice %d: %w", practiceID, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Location finds one of a practice's locations.
func (s *Store) Location(ctx context.Context, practiceID, id int64) (Location, error) {
	l, err := scanLocation(s.db.QueryRowContext(ctx, `SELECT `+locationColumns+` FROM locations WHERE practice_id = ? AND id = ?`, practiceID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, fmt.Errorf("store: location %d: %w", id, err)
	}
	return l, err
}

// LocationBySite finds the location mapped to a site.
func (s *Store) LocationBySite(ctx context.Context, practiceID, emisSiteID int64) (Location, error) {
	l, err := scanLocation(s.db.QueryRowContext(ctx, `SELECT `+locationColumns+` FROM locations
		WHERE practice_id = ? AND emis_site_id = ?`, practiceID, emisSiteID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, fmt.Errorf("store: location of site %d: %w", emisSiteID, err)
	}
	return l, err
}

// CreateLocation adds a location, mapped when EMISSiteID is set. The database refuses a site
// mapped already (ErrSiteTaken) or unknown (ErrNotInEMIS).
func (s *Store) CreateLocation(ctx context.Context, l Location, audit AuditEntry) (Location, error) {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO locations (practice_id, name, emis_site_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			l.PracticeID, l.Name, nullID(l.EMISSiteID), now).Scan(&l.ID); err != nil {
			return err
		}
		audit.PracticeID = l.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return Location{}, mappingErr(err, ErrSiteTaken, "create location")
	}
	l.CreatedAt = time.UnixMilli(now)
	return l, nil
}

// UpdateLocation saves a location's name and site (0: unmapped).
func (s *Store) UpdateLocation(ctx context.Context, l Location, audit AuditEntry) (Location, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `UPDATE locations SET name = ?, emis_site_id = ? WHERE practice_id = ? AND id = ?`,
			l.Name, nullID(l.EMISSiteID), l.PracticeID, l.ID); err != nil {
			return err
		}
		audit.PracticeID = l.PracticeID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil {
		return Location{}, mappingErr(err, ErrSiteTaken, "update location")
	}
	return s.Location(ctx, l.PracticeID, l.ID)
}

// DeleteLocation removes a location.
func (s *Store) DeleteLocation(ctx context.Context, practiceID, id int64, audit AuditEntry) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `DELETE FROM locations WHERE practice_id = ? AND id = ?`, practiceID, id); err != nil {
			return err
		}
		audit.PracticeID = practiceID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: delete location %d: %w", id, err)
	}
	return err
}
