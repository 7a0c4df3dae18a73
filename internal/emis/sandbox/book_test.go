package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// connected returns a bundle whose demo practice has followed the guide, and a connection.
func connected(t *testing.T, opts sandbox.Options) (*testBundle, *emis.Conn) {
	t.Helper()
	opts.Preconfigured = true
	b := setup(t, opts)
	return b, b.connect(t, "Herouser", sandbox.DemoAPIPassword)
}

// findSlot scans the next fortnight for a slot satisfying want.
func findSlot(t *testing.T, b *testBundle, conn *emis.Conn, want func(emis.Slot) bool) emis.Slot {
	t.Helper()
	ctx := context.Background()
	today := emis.Today(b.clock.Now())
	sessions, err := conn.GetAppointmentSessions(ctx, today, today.AddDays(13), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		slots, err := conn.GetSlotsForSession(ctx, s.DBID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range slots {
			if want(sl) {
				return sl
			}
		}
	}
	t.Fatal("no slot found")
	return emis.Slot{}
}

func freeFuture(b *testBundle) func(emis.Slot) bool {
	return func(s emis.Slot) bool {
		return s.Status == emis.SlotAvailable && s.Type.TypeID == 1 && s.Date > emis.Today(b.clock.Now()).String()
	}
}

func countsOf(t *testing.T, conn *emis.Conn, sl emis.Slot, typeID int) emis.SessionSlotCount {
	t.Helper()
	d, _ := emis.ParseDate(sl.Date)
	sessions, err := conn.GetAppointmentSessions(context.Background(), d, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.DBID == sl.SessionDBID {
			for _, c := range s.SlotTypes {
				if c.TypeID == typeID {
					return c
				}
			}
		}
	}
	t.Fatalf("session %d has no counts for type %d", sl.SessionDBID, typeID)
	return emis.SessionSlotCount{}
}

func TestBookingFollowsTheAppointmentBookRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	before := countsOf(t, conn, free, 1)

	booked, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001, Reason: "Review", BookedBy: "Hero Health"})
	if err != nil {
		t.Fatal(err)
	}
	if booked.Status != emis.SlotBooked || len(booked.Patients) != 1 || booked.Patients[0].FamilyName != "Demo" {
		t.Fatalf("booked slot = %+v", booked)
	}
	after := countsOf(t, conn, free, 1)
	if after.Booked != before.Booked+1 || after.Available != before.Available-1 || after.Total != before.Total {
		t.Fatalf("counts did not follow the booking: before %+v after %+v", before, after)
	}
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9002}); !errors.Is(err, emis.ErrSlotBooked) {
		t.Fatalf("booking a booked slot: %v, want 6 slot already booked", err)
	}
	if _, err := conn.SetSlotType(ctx, free.DBID, 6, "placeholder"); !errors.Is(err, emis.ErrSlotBooked) {
		t.Fatalf("SetSlotType on a booked slot: %v, want 6", err)
	}
	if err := conn.SetAppointmentStatus(ctx, free.DBID, "Arrived"); err != nil {
		t.Fatal(err)
	}
	appts, err := conn.GetPatientAppointments(ctx, 9001, emis.Today(b.clock.Now()), emis.Today(b.clock.Now()).AddDays(30))
	if err != nil || len(appts) != 1 || appts[0].DBID != free.DBID || appts[0].AppointmentStatus != "Arrived" {
		t.Fatalf("patient appointments = %+v, %v", appts, err)
	}
	if err := conn.CancelAppointment(ctx, free.DBID, "patient cancelled"); err != nil {
		t.Fatal(err)
	}
	if err := conn.CancelAppointment(ctx, free.DBID, "again"); !errors.Is(err, emis.ErrSlotNotBooked) {
		t.Fatalf("cancelling a free slot: %v, want 9", err)
	}
	if c := countsOf(t, conn, free, 1); c != before {
		t.Fatalf("counts after cancel %+v, want %+v", c, before)
	}
	if none, err := conn.GetPatientAppointments(ctx, 9001, emis.Today(b.clock.Now()), emis.Today(b.clock.Now()).AddDays(30)); err != nil || len(none) != 0 {
		t.Fatalf("after cancel the patient has %d appointments, %v", len(none), err)
	}
}

func TestSlotsThatCannotBeBookedAnswerEight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	today := emis.Today(b.clock.Now()).String()

	blocked := findSlot(t, b, conn, func(s emis.Slot) bool { return s.Status == emis.SlotBlocked && s.Date > today })
	embargoed := findSlot(t, b, conn, func(s emis.Slot) bool { return s.Status == emis.SlotEmbargoed && s.Date > today })
	admin := findSlot(t, b, conn, func(s emis.Slot) bool { return s.Type.TypeID == 5 && s.Status == emis.SlotAvailable && s.Date > today })
	for name, sl := range map[string]emis.Slot{"blocked": blocked, "embargoed": embargoed, "not bookable type": admin} {
		_, err := conn.BookAppointment(ctx, emis.Booking{SlotID: sl.DBID, PatientID: 9001})
		if !errors.Is(err, emis.ErrSlotNotBookable) {
			t.Errorf("%s slot: %v, want 8 slot not bookable", name, err)
		}
	}
	// Move the clock past a free slot: it is now in the past.
	free := findSlot(t, b, conn, freeFuture(b))
	d, _ := emis.ParseDate(free.Date)
	start, _ := emis.ParseClock(free.StartTime)
	b.clock.Advance(d.At(start).Sub(b.clock.Now()) + time.Minute)
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001}); !errors.Is(err, emis.ErrSlotNotBookable) {
		t.Errorf("past slot: %v, want 8", err)
	}
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID - free.DBID%1000 + 999, PatientID: 9001}); !errors.Is(err, emis.ErrNotFound) {
		t.Errorf("unknown slot: %v, want 5", err)
	}
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 123456}); !errors.Is(err, emis.ErrPatientNotFound) {
		t.Errorf("unknown patient: %v, want 7", err)
	}
}

func TestFiftyConcurrentBookingsOfOneSlotExactlyOneSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))

	const n = 50
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine is its own partner connection, as separate herolink workers would be.
			c, err := b.caller.Connect(ctx, emis.Credentials{CDB: sandbox.DemoCDB, Username: "Herouser", APIPassword: sandbox.DemoAPIPassword})
			if err != nil {
				results <- err
				return
			}
			_, err = c.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: int64(500 + i)})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	wins, taken := 0, 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, emis.ErrSlotBooked):
			taken++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 || taken != n-1 {
		t.Fatalf("%d bookings succeeded and %d were told the slot was taken; want 1 and %d", wins, taken, n-1)
	}
}

func TestPlaceholderSlotTypeChangeKeepsTheTimeReserved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	cfg, _ := conn.GetAppointmentConfiguration(ctx)
	unreg := 0
	for _, st := range cfg.SlotTypes {
		if st.Description == "Hero unregistered patient" {
			unreg = st.TypeID
		}
	}
	sl, err := conn.SetSlotType(ctx, free.DBID, unreg, "Hero booking HB-123: Jane Doe 01/02/1990")
	if err != nil || sl.Type.TypeID != unreg || sl.Notes == "" || sl.Type.Description != "Hero unregistered patient" {
		t.Fatalf("SetSlotType = %+v, %v", sl, err)
	}
	if _, err := conn.SetSlotType(ctx, free.DBID, 999, ""); !errors.Is(err, emis.ErrNotFound) {
		t.Fatalf("unknown slot type: %v, want 5", err)
	}
	c := countsOf(t, conn, free, unreg)
	if c.Total != 1 {
		t.Fatalf("session counts do not show the placeholder type: %+v", c)
	}
}

func TestDiaryTimesAreLondonWallClockOnClockChangeDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		day     emis.Date
		utcHour int // of an 08:30 London slot
	}{{emis.Date{Year: 2027, Month: 3, Day: 29}, 7}, {emis.Date{Year: 2026, Month: 10, Day: 26}, 8}} {
		// Mondays after the clocks change (spring 2027-03-28, autumn 2026-10-25), and the
		// Sunday change days themselves through an added session.
		t.Run(tc.day.String(), func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: tc.day.AddDays(-3).At(9 * 60)}
			b, conn := connected(t, sandbox.Options{Seed: 1, Now: clock.Now})
			b.clock = clock
			sessions, err := conn.GetAppointmentSessions(ctx, tc.day, tc.day, 0)
			if err != nil || len(sessions) == 0 {
				t.Fatalf("sessions on %s: %d, %v", tc.day, len(sessions), err)
			}
			var morning emis.Session
			for _, s := range sessions {
				if s.StartTime == "08:30" {
					morning = s
				}
			}
			if morning.DBID == 0 {
				t.Fatalf("no 08:30 session on %s", tc.day)
			}
			slots, _ := conn.GetSlotsForSession(ctx, morning.DBID)
			if slots[0].StartTime != "08:30" {
				t.Fatalf("first slot at %s", slots[0].StartTime)
			}
			var probe emis.Slot
			for _, sl := range slots {
				if sl.Status == emis.SlotAvailable && sl.Type.TypeID != 5 {
					probe = sl
					break
				}
			}
			if probe.DBID == 0 {
				t.Fatal("no available slot in the morning session")
			}
			start, _ := emis.ParseClock(probe.StartTime)
			first, _ := emis.ParseClock(slots[0].StartTime)
			if got := tc.day.At(first).UTC().Hour(); got != tc.utcHour {
				t.Fatalf("08:30 London is %02d:30 UTC, want %02d:30", got, tc.utcHour)
			}
			set := func(at time.Time) { clock.mu.Lock(); clock.now = at; clock.mu.Unlock() }
			// One minute after the slot's London start it is past; one minute before it is bookable.
			set(tc.day.At(start).Add(time.Minute))
			if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: probe.DBID, PatientID: 9001}); !errors.Is(err, emis.ErrSlotNotBookable) {
				t.Fatalf("slot one minute in the past: %v, want 8", err)
			}
			set(tc.day.At(start).Add(-time.Minute))
			if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: probe.DBID, PatientID: 9001}); err != nil {
				t.Fatalf("slot one minute ahead: %v", err)
			}
		})
	}
}

func TestSessionsCannotCoverTheHourTheClocksChange(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	for _, day := range []string{"2027-03-28", "2026-10-25"} {
		status, body := b.admin(t, "POST", demoOrg+"/sessions", map[string]any{"date": day, "start_time": "00:30",
			"end_time": "03:30", "slot_length": 30, "site_id": 101, "holder_id": 201, "slot_type_id": 1})
		if status != 422 || !strings.Contains(string(body), "clocks change") {
			t.Fatalf("%s 00:30-03:30: %d %s", day, status, body)
		}
		// The same day outside that hour is fine, with wall-clock times kept.
		v := mustDecodeWire[sandbox.SessionView](t, b.mustAdmin(t, 201, "POST", demoOrg+"/sessions", map[string]any{"date": day,
			"start_time": "03:00", "end_time": "04:00", "slot_length": 30, "site_id": 101, "holder_id": 201, "slot_type_id": 1}))
		if len(v.Slots) != 2 || v.Slots[1].StartTime != "03:30" {
			t.Fatalf("%s 03:00-04:00: %+v", day, v.Session)
		}
	}
}

func TestAPlaceholderReservesTheTimeUntilItsTypeIsSetBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	const notes = "Hero booking HB-123: Jane Doe 01/02/1990"
	if _, err := conn.SetSlotType(ctx, free.DBID, 6, notes); err != nil {
		t.Fatal(err)
	}
	// Nobody can book it, and the placeholder's notes survive the attempt.
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9002, Notes: "someone else"}); !errors.Is(err, emis.ErrSlotBooked) {
		t.Fatalf("booking a placeholder: %v, want 6", err)
	}
	if status, _ := b.admin(t, "POST", demoOrg+"/slots/"+strconv.FormatInt(free.DBID, 10)+"/book", map[string]any{"patient_id": 9002}); status != 409 {
		t.Fatalf("reception booking a placeholder: %d", status)
	}
	if _, err := conn.SetSlotType(ctx, free.DBID, 6, "another placeholder"); !errors.Is(err, emis.ErrSlotBooked) {
		t.Fatalf("a second placeholder on the slot: %v, want 6", err)
	}
	if sl := slotNow(t, b, free.DBID); sl.Notes != notes {
		t.Fatalf("placeholder notes = %q", sl.Notes)
	}
	// Reconciling: the type goes back (no notes) and the real appointment is booked.
	if _, err := conn.SetSlotType(ctx, free.DBID, 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: free.DBID, PatientID: 9001}); err != nil {
		t.Fatalf("booking after the placeholder was cleared: %v", err)
	}
}

func TestReceptionClearingAPlaceholdersNotesInEMISFreesTheTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	if _, err := conn.SetSlotType(ctx, free.DBID, 6, "Hero booking HB-9: Ann Example"); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(free.DBID, 10)
	if status, body := b.admin(t, "PATCH", demoOrg+"/slots/"+id, map[string]any{"slot_type_id": 1, "notes": ""}); status != 200 {
		t.Fatalf("edit slot: %d %s", status, body)
	}
	if status, body := b.admin(t, "POST", demoOrg+"/slots/"+id+"/book", map[string]any{"patient_id": 9002}); status != 200 && status != 201 {
		t.Fatalf("reception booking the freed slot: %d %s", status, body)
	}
}

func TestSlotTypeCannotBeChangedOnPastBlockedOrEmbargoedSlots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	today := emis.Today(b.clock.Now()).String()
	for name, want := range map[string]func(emis.Slot) bool{
		"blocked":   func(s emis.Slot) bool { return s.Status == emis.SlotBlocked && s.Date > today },
		"embargoed": func(s emis.Slot) bool { return s.Status == emis.SlotEmbargoed && s.Date > today },
	} {
		sl := findSlot(t, b, conn, want)
		if _, err := conn.SetSlotType(ctx, sl.DBID, 6, "x"); !errors.Is(err, emis.ErrSlotNotBookable) {
			t.Errorf("%s slot: %v, want 8", name, err)
		}
	}
	free := findSlot(t, b, conn, freeFuture(b))
	d, _ := emis.ParseDate(free.Date)
	start, _ := emis.ParseClock(free.StartTime)
	b.clock.Advance(d.At(start).Sub(b.clock.Now()) + time.Minute)
	if _, err := conn.SetSlotType(ctx, free.DBID, 6, "x"); !errors.Is(err, emis.ErrSlotNotBookable) {
		t.Errorf("past slot: %v, want 8", err)
	}
}

func TestTwoWorldsFromOneSeedAreIdentical(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var lists [2][]emis.Session
	for i := range lists {
		b, conn := connected(t, sandbox.Options{Seed: 7, Practices: 3})
		_ = b
		today := emis.Today(tuesdayMorning)
		s, err := conn.GetAppointmentSessions(ctx, today, today.AddDays(13), 0)
		if err != nil {
			t.Fatal(err)
		}
		lists[i] = s
	}
	if fmt.Sprint(lists[0]) != fmt.Sprint(lists[1]) {
		t.Fatal("the same seed built different diaries")
	}
}
