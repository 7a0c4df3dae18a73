package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// Migration 0015 makes a cancelled booking whose undoing EMIS has not confirmed occupy its
// slot. A database from before it may already hold such a booking beside a later one on the
// same slot: the migration must still apply, keep the later booking, and let the old row go on
// being undone in EMIS; from then on the rule holds.
func TestTheSlotRuleMigrationAppliesOverBookingsMadeUnderTheOldRule(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "herolink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Everything before 0015, then data made under the old rule, then 0015.
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL);
		INSERT INTO schema_migrations VALUES ('0015_diary_truth', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `
		INSERT INTO practice_groups (id, name, created_at) VALUES ('grp', 'Group', 0);
		INSERT INTO practices (id, ods_code, cdb, name, practice_group_id, created_at) VALUES (1, 'A81001', 1, 'Riverside', 'grp', 0);`); err != nil {
		t.Fatal(err)
	}
	insert := func(id, state, written string, unknown int, slot int64) error {
		_, err := s.db.ExecContext(ctx, `INSERT INTO appointments (id, reference, practice_group_id, practice_id, slot_id, session_id,
			start_at, length_min, emis_slot_type_id, state, reserved_until, emis_written, write_unknown, created_at, updated_at)
			VALUES (?, ?, 'grp', 1, ?, 1, 0, 10, 1, ?, 0, ?, ?, 0, 0)`, id, "HL-"+id, slot, state, written, unknown)
		return err
	}
	for _, r := range []struct {
		id, state, written string
		unknown            int
		slot               int64
	}{
		{"old", "cancelled", "appointment", 0, 7}, // its cancellation still to be written...
		{"new", "booked", "appointment", 0, 7},    // ...and the slot already booked again
		{"pending", "cancelled", "", 1, 8},        // alone on its slot
	} {
		if err := insert(r.id, r.state, r.written, r.unknown, r.slot); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = '0015_diary_truth'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("0015 over bookings made under the old rule: %v", err)
	}
	old, err := s.Appointment(ctx, s.db, "old")
	if err != nil || old.EMISWritten != "appointment" {
		t.Fatalf("the old booking's undoing in EMIS was forgotten: %+v, %v", old, err)
	}
	// From now on a slot whose cancellation is unconfirmed takes no hold.
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.rollback(ctx)
	err = s.InsertHold(ctx, tx, AppointmentRow{ID: "hold", Reference: "HL-hold", PracticeGroupID: "grp", PracticeID: 1, SlotID: 8,
		SessionID: 1, LengthMin: 10, EMISSlotTypeID: 1, State: "reserved"})
	if !errors.Is(err, ErrSlotHeld) {
		t.Fatalf("a hold on a slot whose cancellation EMIS has not confirmed: %v, want ErrSlotHeld", err)
	}
}
