package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// herolink's copy of a practice's EMIS appointment configuration (sites, session holders,
// slot types), replaced whole by each refresh.

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
