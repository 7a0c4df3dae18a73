package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The mapping of a practice's EMIS configuration to what patients and partners see: the
// features and channels, the sentinels its refusals answer with, the helpers the mapping files
// share, and importing practitioners and locations from EMIS.

// Slot type features: what herolink does with an EMIS slot type.
const (
	FeatureUnset        = "unset"        // not reviewed yet: not offered, not synced
	FeatureBookable     = "bookable"     // offered to patients as an appointment type
	FeatureNotBookable  = "not_bookable" // never offered
	FeatureUnregistered = "unregistered" // reserves time for patients not matched in EMIS; never offered
)

// Channels of an appointment type.
const (
	ChannelInPerson  = "in_person"
	ChannelTelephone = "telephone"
	ChannelVideo     = "video"
)

var (
	// ErrHolderTaken means the session holder is mapped to another practitioner already.
	ErrHolderTaken = errors.New("store: the session holder is mapped to another practitioner")
	// ErrSiteTaken means the site is mapped to another location already.
	ErrSiteTaken = errors.New("store: the site is mapped to another location")
	// ErrUnregisteredTaken means another slot type of the practice has the Unregistered feature.
	ErrUnregisteredTaken = errors.New("store: another slot type is for unregistered patients")
	// ErrNotInEMIS means an EMIS id that is not in herolink's copy of the practice's configuration.
	ErrNotInEMIS = errors.New("store: not in the EMIS configuration herolink last read")
)

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullID stores 0 as NULL: not mapped.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// updateOne runs a statement that must change exactly one row: none is ErrNotFound.
func updateOne(ctx context.Context, tx *Tx, q string, args ...any) error {
	r, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	n, err := r.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// mappingErr turns the database's refusals into the sentinels callers branch on.
func mappingErr(err, taken error, what string) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case isUniqueViolation(err):
		return taken
	case isForeignKeyViolation(err):
		return ErrNotInEMIS
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// ImportResult says what importing practitioners and locations from EMIS did.
type ImportResult struct {
	PractitionersCreated int // one per session holder not mapped yet
	PractitionersLinked  int // an unmapped practitioner of the same name was mapped instead
	LocationsCreated     int
	LocationsLinked      int
}

// Changed says whether the import changed anything.
func (r ImportResult) Changed() bool {
	return r.PractitionersCreated+r.PractitionersLinked+r.LocationsCreated+r.LocationsLinked > 0
}

// ImportFromEMIS gives every session holder and site EMIS still lists that is not mapped yet a
// practitioner or location, named as EMIS shows it, in one transaction. An unmapped record of
// the same name (ignoring case) is mapped rather than duplicated. Running it again does nothing.
// The audit line is written only when something changed; its detail says what.
func (s *Store) ImportFromEMIS(ctx context.Context, practiceID int64, audit AuditEntry) (ImportResult, error) {
	now := s.nowMS()
	var res ImportResult
	err := s.inTx(ctx, func(tx *Tx) error {
		res = ImportResult{}
		created, linked, err := importInto(ctx, tx, practiceID, now,
			`SELECT h.emis_id, h.display_name FROM emis_holders h WHERE h.practice_id = ? AND h.gone = 0
				AND NOT EXISTS (SELECT 1 FROM practitioners p WHERE p.practice_id = h.practice_id AND p.emis_holder_id = h.emis_id)
				ORDER BY h.emis_id`,
			`SELECT id, name FROM practitioners WHERE practice_id = ? AND emis_holder_id IS NULL ORDER BY id`,
			`UPDATE practitioners SET emis_holder_id = ? WHERE id = ?`,
			`INSERT INTO practitioners (practice_id, name, emis_holder_id, created_at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		res.PractitionersCreated, res.PractitionersLinked = created, linked
		created, linked, err = importInto(ctx, tx, practiceID, now,
			`SELECT t.emis_id, t.name FROM emis_sites t WHERE t.practice_id = ? AND t.gone = 0
				AND NOT EXISTS (SELECT 1 FROM locations l WHERE l.practice_id = t.practice_id AND l.emis_site_id = t.emis_id)
				ORDER BY t.emis_id`,
			`SELECT id, name FROM locations WHERE practice_id = ? AND emis_site_id IS NULL ORDER BY id`,
			`UPDATE locations SET emis_site_id = ? WHERE id = ?`,
			`INSERT INTO locations (practice_id, name, emis_site_id, created_at) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		res.LocationsCreated, res.LocationsLinked = created, linked
		if !res.Changed() {
			return nil
		}
		audit.PracticeID = practiceID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("practitioners: %d created, %d mapped by name; locations: %d created, %d mapped by name",
				res.PractitionersCreated, res.PractitionersLinked, res.LocationsCreated, res.LocationsLinked)
		}
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("store: import from EMIS for practice %d: %w", practiceID, err)
	}
	return res, nil
}

// importInto maps each unmapped EMIS row to an unmapped record of the same name, or creates one.
func importInto(ctx context.Context, tx *Tx, practiceID, now int64, unmappedEMIS, unmappedOwn, link, insert string) (created, linked int, err error) {
	type named struct {
		id   int64
		name string
	}
	read := func(q string) ([]named, error) {
		rows, err := tx.QueryContext(ctx, q, practiceID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []named
		for rows.Next() {
			var n named
			if err := rows.Scan(&n.id, &n.name); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, rows.Err()
	}
	emisRows, err := read(unmappedEMIS)
	if err != nil {
		return 0, 0, err
	}
	own, err := read(unmappedOwn)
	if err != nil {
		return 0, 0, err
	}
	byName := map[string][]int64{}
	for _, o := range own {
		k := strings.ToLower(strings.TrimSpace(o.name))
		byName[k] = append(byName[k], o.id)
	}
	for _, e := range emisRows {
		k := strings.ToLower(strings.TrimSpace(e.name))
		if ids := byName[k]; len(ids) > 0 {
			byName[k] = ids[1:]
			if _, err := tx.ExecContext(ctx, link, e.id, ids[0]); err != nil {
				return 0, 0, err
			}
			linked++
			continue
		}
		if _, err := tx.ExecContext(ctx, insert, practiceID, e.name, e.id, now); err != nil {
			return 0, 0, err
		}
		created++
	}
	return created, linked, nil
}
