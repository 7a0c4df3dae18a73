package app_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/app"
)

func gauge(t *testing.T, a *app.App, name string) float64 {
	t.Helper()
	fams, err := a.Metrics.Gather()
	must(t, err)
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("/metrics lacks %s", name)
	return 0
}

// The gauges are read from the database: an instance that did nothing with the placeholders
// reports what another one wrote.
func TestEveryInstanceReportsTheSameOpenPlaceholdersAndTheOldestOnesAge(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		a, b, info := twoInstances(t, engine)
		if n := gauge(t, b, "herolink_placeholders_open"); n != 0 {
			t.Fatalf("open placeholders before any = %v", n)
		}
		p, err := a.Store.PracticeByODS(ctx, "A81001")
		must(t, err)
		now := time.Now()
		for i, ago := range []time.Duration{90 * time.Second, 30 * time.Second} {
			id := []string{"apt_old", "apt_new"}[i]
			_, err := a.Store.DBQ().ExecContext(ctx, `INSERT INTO appointments (id, reference, practice_group_id, practice_id, slot_id, session_id,
				start_at, length_min, emis_slot_type_id, state, reserved_until, emis_written, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, 1, ?, 10, 1, 'placeholder', 0, 'placeholder', ?, ?)`,
				id, "HL-"+id, info.PracticeGroupID, p.ID, 1000+i, now.Add(time.Hour).UnixMilli(), now.UnixMilli(), now.UnixMilli())
			must(t, err)
			_, err = a.Store.DBQ().ExecContext(ctx, `INSERT INTO appointment_events (appointment_id, at, event, detail) VALUES (?, ?, 'appointment.confirmed', 'placeholder')`,
				id, now.Add(-ago).UnixMilli())
			must(t, err)
		}
		for _, inst := range []*app.App{a, b} {
			if n := gauge(t, inst, "herolink_placeholders_open"); n != 2 {
				t.Fatalf("open placeholders = %v, want 2", n)
			}
			if age := gauge(t, inst, "herolink_placeholder_oldest_age_seconds"); age < 90 || age > 120 {
				t.Fatalf("oldest placeholder's age = %v s, want about 90", age)
			}
		}
	})
}
