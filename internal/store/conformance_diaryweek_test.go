package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
)

// The diary week shows the synced copy with herolink's own appointments marked: a live hold,
// a booking and a placeholder; a hold whose time ran out is a free slot again.
func TestConformanceDiaryWeekMarksHoldsBookingsAndPlaceholders(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		booked := slot(1, 4)
		booked.Status, booked.PatientID = "Booked", 5001
		diary(t, st, pid, 1, slot(1, 0), slot(1, 1), slot(1, 2), slot(1, 3), booked)
		diary(t, st, pid, 9, slot(9, 0)) // another week
		rows := []store.AppointmentRow{hold(f.practice, "apt_held", 1, 0), hold(f.practice, "apt_gone", 1, 1),
			hold(f.practice, "apt_booked", 1, 2), hold(f.practice, "apt_ph", 1, 3)}
		rows[1].ReservedUntil = epoch.Add(-time.Minute)
		rows[2].State, rows[3].State = "booked", "placeholder"
		for _, a := range rows {
			must(t, st.InTx(ctx, func(tx *store.Tx) error { return st.InsertHold(ctx, tx, a) }))
		}
		day := slotAt(1, 0).Format("2006-01-02")
		week, err := st.DiaryWeek(ctx, pid, day, slotAt(7, 0).Format("2006-01-02"), epoch)
		must(t, err)
		if len(week) != 1 || week[0].ID != 901 || week[0].Name != "Morning" || week[0].SiteID != 501 || len(week[0].HolderIDs) != 1 || week[0].HolderIDs[0] != 601 {
			t.Fatalf("sessions of the week: %+v", week)
		}
		got := week[0].Slots
		if len(got) != 5 {
			t.Fatalf("%d slots, want 5: %+v", len(got), got)
		}
		want := []struct{ herolink, ref, status string }{
			{"reserved", "HL-apt_held", "Available"}, {"", "", "Available"}, {"booked", "HL-apt_booked", "Available"},
			{"placeholder", "HL-apt_ph", "Available"}, {"", "", "Booked"}}
		for i, w := range want {
			if got[i].Herolink != w.herolink || got[i].Reference != w.ref || got[i].Status != w.status {
				t.Errorf("slot %d: herolink %q ref %q status %q, want %+v", i, got[i].Herolink, got[i].Reference, got[i].Status, w)
			}
		}
		if !got[0].HeldUntil.Equal(epoch.Add(15 * time.Minute)) {
			t.Errorf("held until %v", got[0].HeldUntil)
		}
		if empty, err := st.DiaryWeek(ctx, pid, "2020-01-06", "2020-01-12", epoch); err != nil || len(empty) != 0 {
			t.Fatalf("a week with no sessions: %+v, %v", empty, err)
		}
	})
}
