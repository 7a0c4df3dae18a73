package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Practitioners and locations are the same shape: a herolink record with a name, mapped 1:1
// to an EMIS id (a session holder, a site) or platform-only. The SQL for both lives here once;
// MappedKind says which table and column.

// MappedKind is one kind of herolink record mapped 1:1 to an EMIS id.
type MappedKind struct {
	table, emisColumn string
	what, emisWhat    string // for errors: "practitioner", "session holder"
	taken             error  // what the database's one-record-per-EMIS-id rule answers
}

var (
	// PractitionerRecords are practitioners, mapped to EMIS session holders.
	PractitionerRecords = MappedKind{table: "practitioners", emisColumn: "emis_holder_id", what: "practitioner", emisWhat: "session holder", taken: ErrHolderTaken}
	// LocationRecords are locations, mapped to EMIS sites.
	LocationRecords = MappedKind{table: "locations", emisColumn: "emis_site_id", what: "location", emisWhat: "site", taken: ErrSiteTaken}
)

// MappedRecord is a practitioner or location.
type MappedRecord struct {
	ID         int64
	PracticeID int64
	Name       string
	EMISID     int64 // 0: platform-only
	CreatedAt  time.Time
}

func (k MappedKind) columns() string {
	return `id, practice_id, name, ` + k.emisColumn + `, created_at`
}

func scanMapped(row interface{ Scan(...any) error }) (MappedRecord, error) {
	var m MappedRecord
	var emisID sql.NullInt64
	var at int64
	err := row.Scan(&m.ID, &m.PracticeID, &m.Name, &emisID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	m.EMISID, m.CreatedAt = emisID.Int64, time.UnixMilli(at)
	return m, err
}

// MappedRecords lists a practice's records of a kind by name.
func (s *Store) MappedRecords(ctx context.Context, k MappedKind, practiceID int64) ([]MappedRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+k.columns()+` FROM `+k.table+` WHERE practice_id = ? ORDER BY lower(name), id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: %ss of practice %d: %w", k.what, practiceID, err)
	}
	defer rows.Close()
	var out []MappedRecord
	for rows.Next() {
		m, err := scanMapped(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %ss of practice %d: %w", k.what, practiceID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MappedRecord finds one of a practice's records of a kind.
func (s *Store) MappedRecord(ctx context.Context, k MappedKind, practiceID, id int64) (MappedRecord, error) {
	m, err := scanMapped(s.db.QueryRowContext(ctx, `SELECT `+k.columns()+` FROM `+k.table+` WHERE practice_id = ? AND id = ?`, practiceID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return m, fmt.Errorf("store: %s %d: %w", k.what, id, err)
	}
	return m, err
}

// MappedRecordByEMIS finds the record mapped to an EMIS id.
func (s *Store) MappedRecordByEMIS(ctx context.Context, k MappedKind, practiceID, emisID int64) (MappedRecord, error) {
	m, err := scanMapped(s.db.QueryRowContext(ctx, `SELECT `+k.columns()+` FROM `+k.table+`
		WHERE practice_id = ? AND `+k.emisColumn+` = ?`, practiceID, emisID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return m, fmt.Errorf("store: %s of %s %d: %w", k.what, k.emisWhat, emisID, err)
	}
	return m, err
}

// CreateMappedRecord adds a record, mapped when EMISID is set, with its audit line. The
// database refuses an EMIS id mapped already (ErrHolderTaken, ErrSiteTaken) or unknown
// (ErrNotInEMIS).
func (s *Store) CreateMappedRecord(ctx context.Context, k MappedKind, m MappedRecord, audit AuditEntry) (MappedRecord, error) {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO `+k.table+` (practice_id, name, `+k.emisColumn+`, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			m.PracticeID, m.Name, nullID(m.EMISID), now).Scan(&m.ID); err != nil {
			return err
		}
		audit.PracticeID = m.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return MappedRecord{}, mappingErr(err, k.taken, "create "+k.what)
	}
	m.CreatedAt = time.UnixMilli(now)
	return m, nil
}

// UpdateMappedRecord saves a record's name and EMIS id (0: unmapped), with its audit line.
func (s *Store) UpdateMappedRecord(ctx context.Context, k MappedKind, m MappedRecord, audit AuditEntry) (MappedRecord, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `UPDATE `+k.table+` SET name = ?, `+k.emisColumn+` = ? WHERE practice_id = ? AND id = ?`,
			m.Name, nullID(m.EMISID), m.PracticeID, m.ID); err != nil {
			return err
		}
		audit.PracticeID = m.PracticeID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil {
		return MappedRecord{}, mappingErr(err, k.taken, "update "+k.what)
	}
	return s.MappedRecord(ctx, k, m.PracticeID, m.ID)
}

// DeleteMappedRecord removes a record, with its audit line.
func (s *Store) DeleteMappedRecord(ctx context.Context, k MappedKind, practiceID, id int64, audit AuditEntry) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `DELETE FROM `+k.table+` WHERE practice_id = ? AND id = ?`, practiceID, id); err != nil {
			return err
		}
		audit.PracticeID = practiceID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: delete %s %d: %w", k.what, id, err)
	}
	return err
}

// Practitioner is a clinician as herolink knows them.
type Practitioner struct {
	ID           int64
	PracticeID   int64
	Name         string
	EMISHolderID int64 // 0: platform-only
	CreatedAt    time.Time
}

// Location is a place patients go to, as herolink knows it.
type Location struct {
	ID         int64
	PracticeID int64
	Name       string
	EMISSiteID int64 // 0: platform-only
	CreatedAt  time.Time
}

func practitionerOf(m MappedRecord) Practitioner {
	return Practitioner{ID: m.ID, PracticeID: m.PracticeID, Name: m.Name, EMISHolderID: m.EMISID, CreatedAt: m.CreatedAt}
}

func (p Practitioner) mapped() MappedRecord {
	return MappedRecord{ID: p.ID, PracticeID: p.PracticeID, Name: p.Name, EMISID: p.EMISHolderID, CreatedAt: p.CreatedAt}
}

func locationOf(m MappedRecord) Location {
	return Location{ID: m.ID, PracticeID: m.PracticeID, Name: m.Name, EMISSiteID: m.EMISID, CreatedAt: m.CreatedAt}
}

func (l Location) mapped() MappedRecord {
	return MappedRecord{ID: l.ID, PracticeID: l.PracticeID, Name: l.Name, EMISID: l.EMISSiteID, CreatedAt: l.CreatedAt}
}

func each[A, B any](xs []A, f func(A) B) []B {
	if xs == nil {
		return nil
	}
	out := make([]B, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// The named methods below are the mapped records' methods for callers that know the kind.

// Practitioners lists a practice's practitioners by name.
func (s *Store) Practitioners(ctx context.Context, practiceID int64) ([]Practitioner, error) {
	ms, err := s.MappedRecords(ctx, PractitionerRecords, practiceID)
	return each(ms, practitionerOf), err
}

// Practitioner finds one of a practice's practitioners.
func (s *Store) Practitioner(ctx context.Context, practiceID, id int64) (Practitioner, error) {
	m, err := s.MappedRecord(ctx, PractitionerRecords, practiceID, id)
	return practitionerOf(m), err
}

// PractitionerByHolder finds the practitioner mapped to a session holder.
func (s *Store) PractitionerByHolder(ctx context.Context, practiceID, emisHolderID int64) (Practitioner, error) {
	m, err := s.MappedRecordByEMIS(ctx, PractitionerRecords, practiceID, emisHolderID)
	return practitionerOf(m), err
}

// CreatePractitioner adds a practitioner (see CreateMappedRecord).
func (s *Store) CreatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	m, err := s.CreateMappedRecord(ctx, PractitionerRecords, p.mapped(), audit)
	return practitionerOf(m), err
}

// UpdatePractitioner saves a practitioner's name and session holder (0: unmapped).
func (s *Store) UpdatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	m, err := s.UpdateMappedRecord(ctx, PractitionerRecords, p.mapped(), audit)
	return practitionerOf(m), err
}

// DeletePractitioner removes a practitioner.
func (s *Store) DeletePractitioner(ctx context.Context, practiceID, id int64, audit AuditEntry) error {
	return s.DeleteMappedRecord(ctx, PractitionerRecords, practiceID, id, audit)
}

// Locations lists a practice's locations by name.
func (s *Store) Locations(ctx context.Context, practiceID int64) ([]Location, error) {
	ms, err := s.MappedRecords(ctx, LocationRecords, practiceID)
	return each(ms, locationOf), err
}

// Location finds one of a practice's locations.
func (s *Store) Location(ctx context.Context, practiceID, id int64) (Location, error) {
	m, err := s.MappedRecord(ctx, LocationRecords, practiceID, id)
	return locationOf(m), err
}

// LocationBySite finds the location mapped to a site.
func (s *Store) LocationBySite(ctx context.Context, practiceID, emisSiteID int64) (Location, error) {
	m, err := s.MappedRecordByEMIS(ctx, LocationRecords, practiceID, emisSiteID)
	return locationOf(m), err
}

// CreateLocation adds a location (see CreateMappedRecord).
func (s *Store) CreateLocation(ctx context.Context, l Location, audit AuditEntry) (Location, error) {
	m, err := s.CreateMappedRecord(ctx, LocationRecords, l.mapped(), audit)
	return locationOf(m), err
}

// UpdateLocation saves a location's name and site (0: unmapped).
func (s *Store) UpdateLocation(ctx context.Context, l Location, audit AuditEntry) (Location, error) {
	m, err := s.UpdateMappedRecord(ctx, LocationRecords, l.mapped(), audit)
	return locationOf(m), err
}

// DeleteLocation removes a location.
func (s *Store) DeleteLocation(ctx context.Context, practiceID, id int64, audit AuditEntry) error {
	return s.DeleteMappedRecord(ctx, LocationRecords, practiceID, id, audit)
}
