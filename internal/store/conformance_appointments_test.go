package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

// setState puts an appointment into a state no fixture method reaches; the named state
// changes are tested with appointment_changes.go.
func setState(t *testing.T, st *store.Store, id, state string, extra string, args ...any) {
	t.Helper()
	exec(t, st, `UPDATE appointments SET state = ?`+extra+` WHERE id = ?`, append(append([]any{state}, args...), id)...)
}

// One live appointment per slot: the database refuses a second hold on a slot whose hold is
// live, whatever the code before the insert believed.
func TestASecondHoldOnAHeldSlotIsRefused(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		p := f.practice
		must(t, insertHold(t, st, hold(p, "apt_1", 1, 0)))
		if err := insertHold(t, st, hold(p, "apt_2", 1, 0)); !errors.Is(err, store.ErrSlotHeld) {
			t.Fatalf("a second hold on a held slot: %v, want ErrSlotHeld", err)
		}
		if _, err := st.Appointment(ctx, st.DBQ(), "apt_2"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the refused hold was stored: %v", err)
		}
		// Every live state holds the slot; so does a cancellation EMIS has not confirmed.
		for i, s := range []struct{ state, extra string }{
			{"confirming", ""}, {"booked", ""}, {"placeholder", ""},
			{"cancelled", ", emis_written = 'appointment'"}, {"cancelled", ", write_unknown = 1"},
		} {
			setState(t, st, "apt_1", s.state, s.extra)
			if err := insertHold(t, st, hold(p, "apt_x", 1, 0)); !errors.Is(err, store.ErrSlotHeld) {
				t.Fatalf("case %d: a hold on a slot whose appointment is %s%s: %v, want ErrSlotHeld", i, s.state, s.extra, err)
			}
			exec(t, st, `UPDATE appointments SET emis_written = '', write_unknown = 0 WHERE id = 'apt_1'`)
		}
		// Cancelled and confirmed by EMIS, failed or expired: the slot is free again.
		setState(t, st, "apt_1", "failed", "")
		must(t, insertHold(t, st, hold(p, "apt_3", 1, 0)))
		// A hold whose time ran out is expired by the next hold on its slot.
		c.advance(16 * time.Minute)
		nh := hold(p, "apt_4", 1, 0)
		nh.ReservedUntil = c.t.Add(15 * time.Minute)
		must(t, insertHold(t, st, nh))
		if a, _ := st.Appointment(ctx, st.DBQ(), "apt_3"); a.State != "expired" {
			t.Fatalf("the lapsed hold: %+v", a)
		}
		// Another practice's slot of the same id is another slot.
		q := setUp(t, st, "B82002")
		must(t, insertHold(t, st, hold(q.practice, "apt_5", 1, 0)))
	})
}

func TestConformanceAppointmentReads(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		p := f.practice
		must(t, st.InsertPatient(ctx, st.DBQ(), store.PatientRow{ID: "pat_1", PracticeGroupID: p.PracticeGroupID}))
		a := hold(p, "apt_1", 1, 0)
		a.APIKeyID, a.AppointmentTypeID, a.Description, a.Comment, a.PatientID = "key1", f.apptType.ID, "desc", "comment", "pat_1"
		must(t, insertHold(t, st, a))
		got, err := st.Appointment(ctx, st.DBQ(), "apt_1")
		must(t, err)
		if got.Reference != "HL-apt_1" || got.PracticeID != p.ID || got.APIKeyID != "key1" || got.SlotID != 1000 || got.SessionID != 901 ||
			!got.StartAt.Equal(slotAt(1, 0)) || got.LengthMin != 10 || got.EMISSlotTypeID != 1 || got.AppointmentTypeID != f.apptType.ID ||
			got.State != "reserved" || !got.ReservedUntil.Equal(epoch.Add(15*time.Minute)) || got.Description != "desc" || got.Comment != "comment" ||
			got.PatientID != "pat_1" || got.Alternatives != "[]" || !got.CreatedAt.Equal(epoch) || !got.UpdatedAt.Equal(epoch) ||
			got.WriteUnknown || !got.ConfirmedAt.IsZero() {
			t.Fatalf("hold reads back as %+v", got)
		}
		if _, err := st.Appointment(ctx, st.ReadQ(), "apt_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown appointment: %v", err)
		}
		bad := hold(p, "apt_bad", 1, 1)
		bad.State = "wibble"
		if err := insertHold(t, st, bad); err == nil || errors.Is(err, store.ErrSlotHeld) {
			t.Fatalf("a hold in an unknown state: %v", err)
		}
		bad = hold(p, "apt_bad", 1, 1)
		bad.PatientID = "pat_nope"
		if err := insertHold(t, st, bad); err == nil || errors.Is(err, store.ErrSlotHeld) {
			t.Fatalf("a hold for an unknown patient: %v", err)
		}
		live, err := st.LiveAppointmentOnSlot(ctx, st.DBQ(), p.ID, 1000)
		must(t, err)
		if live.ID != "apt_1" {
			t.Fatalf("live on slot 1000: %+v", live)
		}
		if _, err := st.LiveAppointmentOnSlot(ctx, st.DBQ(), p.ID, 1001); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("live on a free slot: %v", err)
		}
		must(t, st.AddAppointmentEvent(ctx, st.DBQ(), "apt_1", "appointment.reserved", ""))
		if err := st.AddAppointmentEvent(ctx, st.DBQ(), "apt_nope", "appointment.reserved", ""); err == nil {
			t.Fatal("an event of an unknown appointment was stored")
		}
		must(t, st.AddEMISCalls(ctx, "apt_1", 2))
		must(t, st.AddEMISCalls(ctx, "apt_1", 3))
		if got, _ := st.Appointment(ctx, st.DBQ(), "apt_1"); got.EMISCalls != 5 {
			t.Fatalf("EMIS calls %d, want 5", got.EMISCalls)
		}
		// A reschedule: the new hold names the old booking; one at a time.
		setState(t, st, "apt_1", "booked", ", emis_written = 'appointment', written_at = ?", epoch.UnixMilli())
		if id, err := st.LiveRescheduleOf(ctx, "apt_1"); err != nil || id != "" {
			t.Fatalf("no reschedule yet: %q, %v", id, err)
		}
		r := hold(p, "apt_2", 1, 1)
		r.RescheduledFrom = "apt_1"
		must(t, insertHold(t, st, r))
		if id, _ := st.LiveRescheduleOf(ctx, "apt_1"); id != "apt_2" {
			t.Fatalf("live reschedule %q, want apt_2", id)
		}
		r2 := hold(p, "apt_3", 1, 2)
		r2.RescheduledFrom = "apt_1"
		if err := insertHold(t, st, r2); err == nil {
			t.Fatal("a second reschedule in flight was stored")
		}
		// Lists.
		ws, err := st.AppointmentsWhere(ctx, p.ID, "reserved", "booked")
		must(t, err)
		if len(ws) != 2 || ws[0].ID != "apt_1" || ws[1].ID != "apt_2" {
			t.Fatalf("appointments where reserved or booked: %+v", ws)
		}
		if ws, _ := st.AppointmentsWhere(ctx, p.ID); ws != nil {
			t.Fatalf("no states: %+v", ws)
		}
		setState(t, st, "apt_2", "placeholder", ", emis_written = 'placeholder', written_at = ?", epoch.UnixMilli())
		need, err := st.AppointmentsNeedingEMIS(ctx, epoch.Add(time.Minute), 10)
		must(t, err)
		if len(need) != 1 || need[0] != "apt_2" { // a placeholder never matched since
			t.Fatalf("needing EMIS: %v", need)
		}
		exec(t, st, `UPDATE appointments SET matched_at = ? WHERE id = 'apt_2'`, epoch.Add(2*time.Minute).UnixMilli())
		if need, _ := st.AppointmentsNeedingEMIS(ctx, epoch.Add(time.Minute), 10); len(need) != 0 {
			t.Fatalf("a placeholder matched recently needs EMIS: %v", need)
		}
		setState(t, st, "apt_1", "cancelled", "")
		if need, _ := st.AppointmentsNeedingEMIS(ctx, epoch, 10); len(need) != 1 || need[0] != "apt_1" {
			t.Fatalf("a cancellation still written in EMIS: %v", need)
		}
		// Expiry.
		must(t, insertHold(t, st, hold(p, "apt_4", 1, 3)))
		if n, _ := st.ExpireHolds(ctx); n != 0 {
			t.Fatalf("expired %d within their time", n)
		}
		c.advance(15 * time.Minute)
		n, err := st.ExpireHolds(ctx)
		must(t, err)
		if n != 1 {
			t.Fatalf("expired %d, want 1", n)
		}
		if a, _ := st.Appointment(ctx, st.DBQ(), "apt_4"); a.State != "expired" || !a.UpdatedAt.Equal(c.t) {
			t.Fatalf("an expired hold: %+v", a)
		}
	})
}

func TestConformanceVerifierReads(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		p := f.practice
		reach, err := st.PracticesReachable(ctx)
		must(t, err)
		if len(reach) != 1 || !reach[p.ID] {
			t.Fatalf("reachable: %v", reach)
		}
		for i, id := range []string{"apt_1", "apt_2", "apt_3"} {
			must(t, insertHold(t, st, hold(p, id, 1, i)))
		}
		setState(t, st, "apt_1", "booked", "")
		setState(t, st, "apt_2", "placeholder", "")
		list, err := st.BookingsToVerify(ctx, epoch, epoch.Add(time.Hour), 10)
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("bookings to verify: %+v", list)
		}
		must(t, st.MarkVerified(ctx, []string{"apt_1"}, epoch.Add(2*time.Hour)))
		must(t, st.MarkVerified(ctx, nil, epoch))
		list, _ = st.BookingsToVerify(ctx, epoch, epoch.Add(time.Hour), 10)
		if len(list) != 1 || list[0].ID != "apt_2" {
			t.Fatalf("after verifying apt_1: %+v", list)
		}
		if l, _ := st.BookingsToVerify(ctx, slotAt(2, 0), epoch.Add(time.Hour), 10); len(l) != 0 {
			t.Fatalf("bookings starting before from: %+v", l)
		}
	})
}
