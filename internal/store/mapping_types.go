package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Slot types and the features staff give them, and the appointment types Bookable slot
// types are published as.

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
	err := s.db.QueryRowPrepared(ctx, `SELECT COUNT(*) FROM emis_slot_types WHERE practice_id = ? AND feature <> 'unset'`, practiceID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: slot type features of practice %d: %w", practiceID, err)
	}
	return n > 0, nil
}
