package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

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

// EMISSite is a site as EMIS listed it.
type EMISSite struct {
	EMISID   int64
	Name     string
	Postcode string
	Gone     bool // EMIS no longer lists it; kept because a location is mapped to it
	ReadAt   time.Time
}

// EMISHolder is a session holder as EMIS listed it.
type EMISHolder struct {
	EMISID      int64
	Title       string
	FirstNames  string
	LastName    string
	JobCategory string
	DisplayName string // "Dr Sarah Ahmed"
	Gone        bool   // EMIS no longer lists it; kept because a practitioner is mapped to it
	ReadAt      time.Time
}

// EMISSlotType is a slot type as EMIS listed it, with the feature staff gave it.
type EMISSlotType struct {
	EMISID       int
	Name         string
	Colour       string
	EMISBookable bool
	Feature      string
	Gone         bool // EMIS no longer lists it; kept because it has a feature
	ReadAt       time.Time
}

// EMISConfiguration is a practice's appointment configuration as EMIS answered it.
type EMISConfiguration struct {
	Sites     []EMISSite
	Holders   []EMISHolder
	SlotTypes []EMISSlotType // Feature is ignored: it is herolink's, not EMIS's
}

// ConfigurationSaved says what saving a fresh configuration changed.
type ConfigurationSaved struct {
	Sites, Holders, SlotTypes int      // as EMIS listed them
	Gone                      []string // newly gone from EMIS, kept because they are mapped: "slot type \"Routine\""
	Removed                   int      // gone from EMIS and not mapped: deleted
}

// SaveEMISConfiguration replaces herolink's copy of a practice's appointment configuration in
// one transaction. Rows EMIS no longer lists are deleted, or marked gone when herolink refers
// to them (a mapped site or holder, a slot type with a feature); rows that come back are no
// longer gone. The audit entry's detail says what changed.
func (s *Store) SaveEMISConfiguration(ctx context.Context, practiceID int64, cfg EMISConfiguration, audit AuditEntry) (ConfigurationSaved, error) {
	now := s.nowMS()
	res := ConfigurationSaved{Sites: len(cfg.Sites), Holders: len(cfg.Holders), SlotTypes: len(cfg.SlotTypes)}
	err := s.inTx(ctx, func(tx *Tx) error {
		res.Gone, res.Removed = nil, 0
		seen := map[int64]bool{}
		for _, site := range cfg.Sites {
			seen[site.EMISID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO emis_sites (practice_id, emis_id, name, postcode, gone, read_at)
				VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (practice_id, emis_id) DO UPDATE SET
				name = excluded.name, postcode = excluded.postcode, gone = 0, read_at = excluded.read_at`,
				practiceID, site.EMISID, site.Name, site.Postcode, now); err != nil {
				return err
			}
		}
		if err := retireMissing(ctx, tx, &res, practiceID, "emis_sites", "name", "site", seen,
			`EXISTS (SELECT 1 FROM locations l WHERE l.practice_id = t.practice_id AND l.emis_site_id = t.emis_id)`); err != nil {
			return err
		}
		seen = map[int64]bool{}
		for _, h := range cfg.Holders {
			seen[h.EMISID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO emis_holders (practice_id, emis_id, title, first_names, last_name, job_category, display_name, gone, read_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (practice_id, emis_id) DO UPDATE SET
				title = excluded.title, first_names = excluded.first_names, last_name = excluded.last_name,
				job_category = excluded.job_category, display_name = excluded.display_name, gone = 0, read_at = excluded.read_at`,
				practiceID, h.EMISID, h.Title, h.FirstNames, h.LastName, h.JobCategory, h.DisplayName, now); err != nil {
				return err
			}
		}
		if err := retireMissing(ctx, tx, &res, practiceID, "emis_holders", "display_name", "session holder", seen,
			`EXISTS (SELECT 1 FROM practitioners p WHERE p.practice_id = t.practice_id AND p.emis_holder_id = t.emis_id)`); err != nil {
			return err
		}
		seen = map[int64]bool{}
		for _, st := range cfg.SlotTypes {
			seen[int64(st.EMISID)] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO emis_slot_types (practice_id, emis_id, name, colour, emis_bookable, gone, read_at)
				VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (practice_id, emis_id) DO UPDATE SET
				name = excluded.name, colour = excluded.colour, emis_bookable = excluded.emis_bookable, gone = 0, read_at = excluded.read_at`,
				practiceID, st.EMISID, st.Name, st.Colour, boolInt(st.EMISBookable), now); err != nil {
				return err
			}
		}
		if err := retireMissing(ctx, tx, &res, practiceID, "emis_slot_types", "name", "slot type", seen,
			`(t.feature <> 'unset' OR EXISTS (SELECT 1 FROM appointment_types a WHERE a.practice_id = t.practice_id AND a.emis_slot_type_id = t.emis_id))`); err != nil {
			return err
		}
		audit.PracticeID = practiceID
		if audit.Detail == "" {
			audit.Detail = fmt.Sprintf("EMIS lists %d sites, %d session holders, %d slot types", res.Sites, res.Holders, res.SlotTypes)
			if len(res.Gone) > 0 {
				audit.Detail += "; no longer in EMIS, kept because mapped: " + strings.Join(res.Gone, ", ")
			}
		}
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return ConfigurationSaved{}, fmt.Errorf("store: save EMIS configuration of practice %d: %w", practiceID, err)
	}
	return res, nil
}

// retireMissing deletes the rows of table (aliased t in referenced) that EMIS no longer lists,
// or marks them gone when referenced says herolink refers to them.
func retireMissing(ctx context.Context, tx *Tx, res *ConfigurationSaved, practiceID int64, table, nameColumn, kind string, seen map[int64]bool, referenced string) error {
	rows, err := tx.QueryContext(ctx, `SELECT t.emis_id, t.`+nameColumn+`, t.gone, `+referenced+` FROM `+table+` t WHERE t.practice_id = ?`, practiceID)
	if err != nil {
		return err
	}
	type missing struct {
		id         int64
		name       string
		gone, used bool
	}
	var all []missing
	for rows.Next() {
		var m missing
		if err := rows.Scan(&m.id, &m.name, &m.gone, &m.used); err != nil {
			rows.Close()
			return err
		}
		if !seen[m.id] {
			all = append(all, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range all {
		if !m.used {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE practice_id = ? AND emis_id = ?`, practiceID, m.id); err != nil {
				return err
			}
			res.Removed++
			continue
		}
		if m.gone {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET gone = 1 WHERE practice_id = ? AND emis_id = ?`, practiceID, m.id); err != nil {
			return err
		}
		res.Gone = append(res.Gone, fmt.Sprintf("%s %q", kind, m.name))
	}
	return nil
}

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

// EMISConfigurationReadAt is when herolink last read the practice's configuration (zero: never).
func (s *Store) EMISConfigurationReadAt(ctx context.Context, practiceID int64) (time.Time, error) {
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(read_at) FROM (
		SELECT read_at FROM emis_slot_types WHERE practice_id = ?
		UNION ALL SELECT read_at FROM emis_holders WHERE practice_id = ?
		UNION ALL SELECT read_at FROM emis_sites WHERE practice_id = ?) r`, practiceID, practiceID, practiceID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: EMIS configuration read time of practice %d: %w", practiceID, err)
	}
	return msTime(at), nil
}

// EMISSites lists the practice's sites as herolink last read them.
func (s *Store) EMISSites(ctx context.Context, practiceID int64) ([]EMISSite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT emis_id, name, postcode, gone, read_at FROM emis_sites
		WHERE practice_id = ? ORDER BY gone, lower(name), emis_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: EMIS sites of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []EMISSite
	for rows.Next() {
		var x EMISSite
		var at int64
		if err := rows.Scan(&x.EMISID, &x.Name, &x.Postcode, &x.Gone, &at); err != nil {
			return nil, fmt.Errorf("store: EMIS sites of practice %d: %w", practiceID, err)
		}
		x.ReadAt = time.UnixMilli(at)
		out = append(out, x)
	}
	return out, rows.Err()
}

// EMISSite finds one site of herolink's copy of the configuration.
func (s *Store) EMISSite(ctx context.Context, practiceID, emisID int64) (EMISSite, error) {
	x := EMISSite{EMISID: emisID}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT name, postcode, gone, read_at FROM emis_sites WHERE practice_id = ? AND emis_id = ?`,
		practiceID, emisID).Scan(&x.Name, &x.Postcode, &x.Gone, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return x, ErrNotFound
	}
	if err != nil {
		return x, fmt.Errorf("store: EMIS site %d of practice %d: %w", emisID, practiceID, err)
	}
	x.ReadAt = time.UnixMilli(at)
	return x, nil
}

const holderColumns = `emis_id, title, first_names, last_name, job_category, display_name, gone, read_at`

func scanHolder(row interface{ Scan(...any) error }) (EMISHolder, error) {
	var h EMISHolder
	var at int64
	err := row.Scan(&h.EMISID, &h.Title, &h.FirstNames, &h.LastName, &h.JobCategory, &h.DisplayName, &h.Gone, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	h.ReadAt = time.UnixMilli(at)
	return h, err
}

// EMISHolders lists the practice's session holders as herolink last read them.
func (s *Store) EMISHolders(ctx context.Context, practiceID int64) ([]EMISHolder, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+holderColumns+` FROM emis_holders
		WHERE practice_id = ? ORDER BY gone, lower(last_name), lower(first_names), emis_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: EMIS session holders of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []EMISHolder
	for rows.Next() {
		h, err := scanHolder(rows)
		if err != nil {
			return nil, fmt.Errorf("store: EMIS session holders of practice %d: %w", practiceID, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// EMISHolder finds one session holder of herolink's copy of the configuration.
func (s *Store) EMISHolder(ctx context.Context, practiceID, emisID int64) (EMISHolder, error) {
	h, err := scanHolder(s.db.QueryRowContext(ctx, `SELECT `+holderColumns+` FROM emis_holders WHERE practice_id = ? AND emis_id = ?`, practiceID, emisID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return h, fmt.Errorf("store: EMIS session holder %d of practice %d: %w", emisID, practiceID, err)
	}
	return h, err
}

const slotTypeColumns = `emis_id, name, colour, emis_bookable, feature, gone, read_at`

func scanSlotType(row interface{ Scan(...any) error }) (EMISSlotType, error) {
	var t EMISSlotType
	var at int64
	err := row.Scan(&t.EMISID, &t.Name, &t.Colour, &t.EMISBookable, &t.Feature, &t.Gone, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNotFound
	}
	t.ReadAt = time.UnixMilli(at)
	return t, err
}

// EMISSlotTypes lists the practice's slot types with their features, in EMIS's order.
func (s *Store) EMISSlotTypes(ctx context.Context, practiceID int64) ([]EMISSlotType, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+slotTypeColumns+` FROM emis_slot_types WHERE practice_id = ? ORDER BY emis_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: slot types of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []EMISSlotType
	for rows.Next() {
		t, err := scanSlotType(rows)
		if err != nil {
			return nil, fmt.Errorf("store: slot types of practice %d: %w", practiceID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// EMISSlotType finds one slot type.
func (s *Store) EMISSlotType(ctx context.Context, practiceID int64, emisID int) (EMISSlotType, error) {
	t, err := scanSlotType(s.db.QueryRowContext(ctx, `SELECT `+slotTypeColumns+` FROM emis_slot_types WHERE practice_id = ? AND emis_id = ?`, practiceID, emisID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return t, fmt.Errorf("store: slot type %d of practice %d: %w", emisID, practiceID, err)
	}
	return t, err
}

// SetSlotTypeFeature gives a slot type its feature. publish, when not nil, is the appointment
// type to create for it unless it has one already (an existing one keeps staff's wording).
// A second Unregistered type is refused by the database: ErrUnregisteredTaken.
func (s *Store) SetSlotTypeFeature(ctx context.Context, practiceID int64, emisID int, feature string, publish *AppointmentType, audit AuditEntry) error {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE emis_slot_types SET feature = ? WHERE practice_id = ? AND emis_id = ?`, feature, practiceID, emisID)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		if publish != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO appointment_types (practice_id, emis_slot_type_id, name, duration_minutes, channel, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (practice_id, emis_slot_type_id) DO NOTHING`,
				practiceID, emisID, publish.Name, publish.DurationMinutes, publish.Channel, now, now); err != nil {
				return err
			}
		}
		audit.PracticeID = practiceID
		return appendAuditTx(ctx, tx, audit, now)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return err
	case isUniqueViolation(err):
		return ErrUnregisteredTaken
	}
	return fmt.Errorf("store: set feature of slot type %d of practice %d: %w", emisID, practiceID, err)
}

// ActiveSlotTypeIDs lists the slot types the sync keeps fresh: Bookable and Unregistered ones
// EMIS still lists. Empty until staff have given features.
func (s *Store) ActiveSlotTypeIDs(ctx context.Context, practiceID int64) ([]int, error) {
	return s.slotTypeIDs(ctx, practiceID, `feature IN ('bookable', 'unregistered')`)
}

// BookableSlotTypeIDs lists the slot types offered to patients: Bookable in herolink, bookable
// in EMIS, and still listed by EMIS.
func (s *Store) BookableSlotTypeIDs(ctx context.Context, practiceID int64) ([]int, error) {
	return s.slotTypeIDs(ctx, practiceID, `feature = 'bookable' AND emis_bookable = 1`)
}

func (s *Store) slotTypeIDs(ctx context.Context, practiceID int64, cond string) ([]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT emis_id FROM emis_slot_types WHERE practice_id = ? AND gone = 0 AND `+cond+` ORDER BY emis_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: slot type ids of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: slot type ids of practice %d: %w", practiceID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Practitioner is a clinician as herolink knows them.
type Practitioner struct {
	ID           int64
	PracticeID   int64
	Name         string
	EMISHolderID int64 // 0: platform-only
	CreatedAt    time.Time
}

const practitionerColumns = `id, practice_id, name, emis_holder_id, created_at`

func scanPractitioner(row interface{ Scan(...any) error }) (Practitioner, error) {
	var p Practitioner
	var holder sql.NullInt64
	var at int64
	err := row.Scan(&p.ID, &p.PracticeID, &p.Name, &holder, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	p.EMISHolderID, p.CreatedAt = holder.Int64, time.UnixMilli(at)
	return p, err
}

// Practitioners lists a practice's practitioners by name.
func (s *Store) Practitioners(ctx context.Context, practiceID int64) ([]Practitioner, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners WHERE practice_id = ? ORDER BY lower(name), id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: practitioners of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []Practitioner
	for rows.Next() {
		p, err := scanPractitioner(rows)
		if err != nil {
			return nil, fmt.Errorf("store: practitioners of practice %d: %w", practiceID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Practitioner finds one of a practice's practitioners.
func (s *Store) Practitioner(ctx context.Context, practiceID, id int64) (Practitioner, error) {
	p, err := scanPractitioner(s.db.QueryRowContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners WHERE practice_id = ? AND id = ?`, practiceID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practitioner %d: %w", id, err)
	}
	return p, err
}

// PractitionerByHolder finds the practitioner mapped to a session holder.
func (s *Store) PractitionerByHolder(ctx context.Context, practiceID, emisHolderID int64) (Practitioner, error) {
	p, err := scanPractitioner(s.db.QueryRowContext(ctx, `SELECT `+practitionerColumns+` FROM practitioners
		WHERE practice_id = ? AND emis_holder_id = ?`, practiceID, emisHolderID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return p, fmt.Errorf("store: practitioner of session holder %d: %w", emisHolderID, err)
	}
	return p, err
}

// CreatePractitioner adds a practitioner, mapped when EMISHolderID is set. The database refuses
// a session holder mapped already (ErrHolderTaken) or unknown (ErrNotInEMIS).
func (s *Store) CreatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO practitioners (practice_id, name, emis_holder_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			p.PracticeID, p.Name, nullID(p.EMISHolderID), now).Scan(&p.ID); err != nil {
			return err
		}
		audit.PracticeID = p.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if err != nil {
		return Practitioner{}, mappingErr(err, ErrHolderTaken, "create practitioner")
	}
	p.CreatedAt = time.UnixMilli(now)
	return p, nil
}

// UpdatePractitioner saves a practitioner's name and session holder (0: unmapped).
func (s *Store) UpdatePractitioner(ctx context.Context, p Practitioner, audit AuditEntry) (Practitioner, error) {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `UPDATE practitioners SET name = ?, emis_holder_id = ? WHERE practice_id = ? AND id = ?`,
			p.Name, nullID(p.EMISHolderID), p.PracticeID, p.ID); err != nil {
			return err
		}
		audit.PracticeID = p.PracticeID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil {
		return Practitioner{}, mappingErr(err, ErrHolderTaken, "update practitioner")
	}
	return s.Practitioner(ctx, p.PracticeID, p.ID)
}

// DeletePractitioner removes a practitioner.
func (s *Store) DeletePractitioner(ctx context.Context, practiceID, id int64, audit AuditEntry) error {
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `DELETE FROM practitioners WHERE practice_id = ? AND id = ?`, practiceID, id); err != nil {
			return err
		}
		audit.PracticeID = practiceID
		return appendAuditTx(ctx, tx, audit, s.nowMS())
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: delete practitioner %d: %w", id, err)
	}
	return err
}

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

// The drivers say which constraint refused a row only in their messages; SQLite says
// "UNIQUE constraint failed" and "FOREIGN KEY constraint failed", PostgreSQL "violates unique
// constraint" and "violates foreign key constraint".
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

// AppointmentType is a Bookable slot type as patients and partners see it.
type AppointmentType struct {
	ID              int64
	PracticeID      int64
	EMISSlotTypeID  int
	Name            string
	DurationMinutes int
	Channel         string
	// Published: its slot type is Bookable in herolink and in EMIS and EMIS still lists it.
	// Otherwise the appointment type is kept, hidden, with staff's wording.
	Published bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

const appointmentTypeSelect = `SELECT a.id, a.practice_id, a.emis_slot_type_id, a.name, a.duration_minutes, a.channel,
	(t.feature = 'bookable' AND t.emis_bookable = 1 AND t.gone = 0), a.created_at, a.updated_at
	FROM appointment_types a JOIN emis_slot_types t ON t.practice_id = a.practice_id AND t.emis_id = a.emis_slot_type_id`

func scanAppointmentType(row interface{ Scan(...any) error }) (AppointmentType, error) {
	var a AppointmentType
	var created, updated int64
	err := row.Scan(&a.ID, &a.PracticeID, &a.EMISSlotTypeID, &a.Name, &a.DurationMinutes, &a.Channel, &a.Published, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	a.CreatedAt, a.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return a, err
}

// AppointmentTypes lists a practice's appointment types, published and hidden, in slot type order.
func (s *Store) AppointmentTypes(ctx context.Context, practiceID int64) ([]AppointmentType, error) {
	rows, err := s.db.QueryContext(ctx, appointmentTypeSelect+` WHERE a.practice_id = ? ORDER BY a.emis_slot_type_id`, practiceID)
	if err != nil {
		return nil, fmt.Errorf("store: appointment types of practice %d: %w", practiceID, err)
	}
	defer rows.Close()
	var out []AppointmentType
	for rows.Next() {
		a, err := scanAppointmentType(rows)
		if err != nil {
			return nil, fmt.Errorf("store: appointment types of practice %d: %w", practiceID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppointmentType finds one of a practice's appointment types.
func (s *Store) AppointmentType(ctx context.Context, practiceID, id int64) (AppointmentType, error) {
	a, err := scanAppointmentType(s.db.QueryRowContext(ctx, appointmentTypeSelect+` WHERE a.practice_id = ? AND a.id = ?`, practiceID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return a, fmt.Errorf("store: appointment type %d: %w", id, err)
	}
	return a, err
}

// UpdateAppointmentType saves an appointment type's name, duration and channel.
func (s *Store) UpdateAppointmentType(ctx context.Context, a AppointmentType, audit AuditEntry) (AppointmentType, error) {
	now := s.nowMS()
	err := s.inTx(ctx, func(tx *Tx) error {
		if err := updateOne(ctx, tx, `UPDATE appointment_types SET name = ?, duration_minutes = ?, channel = ?, updated_at = ?
			WHERE practice_id = ? AND id = ?`, a.Name, a.DurationMinutes, a.Channel, now, a.PracticeID, a.ID); err != nil {
			return err
		}
		audit.PracticeID = a.PracticeID
		return appendAuditTx(ctx, tx, audit, now)
	})
	if errors.Is(err, ErrNotFound) {
		return AppointmentType{}, err
	}
	if err != nil {
		return AppointmentType{}, fmt.Errorf("store: update appointment type %d: %w", a.ID, err)
	}
	return s.AppointmentType(ctx, a.PracticeID, a.ID)
}

// SlotTypeFeaturesSet reports whether staff have given any of the practice's slot types a
// feature. Until they have, the sync treats every slot type as active.
func (s *Store) SlotTypeFeaturesSet(ctx context.Context, practiceID int64) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM emis_slot_types WHERE practice_id = ? AND feature <> 'unset'`, practiceID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: slot type features of practice %d: %w", practiceID, err)
	}
	return n > 0, nil
}
