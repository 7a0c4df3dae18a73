package sandbox_test

import (
	"context"
	"errors"
	"fmt"
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
			first := slots[0]
			start, _ := emis.ParseClock(first.StartTime)
			if got := tc.day.At(start).UTC().Hour(); got != tc.utcHour || first.StartTime != "08:30" {
				t.Fatalf("first slot %s London is %02d:30 UTC, want %02d:30", first.StartTime, got, tc.utcHour)
			}
			// One minute after 08:30 London the slot is past; one minute before it is bookable.
			clock.mu.Lock()
			clock.now = tc.day.At(start).Add(-time.Minute)
			clock.mu.Unlock()
			if first.Status == emis.SlotAvailable {
				probe := first.DBID
				clock.mu.Lock()
				clock.now = tc.day.At(start).Add(time.Minute)
				clock.mu.Unlock()
				if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: probe, PatientID: 9001}); !errors.Is(err, emis.ErrSlotNotBookable) {
					t.Fatalf("slot one minute in the past: %v, want 8", err)
				}
				clock.mu.Lock()
				clock.now = tc.day.At(start).Add(-time.Minute)
				clock.mu.Unlock()
				if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: probe, PatientID: 9001}); err != nil {
					t.Fatalf("slot one minute ahead: %v", err)
				}
			}
		})
	}
}

func TestAddedSessionOnTheDayTheClocksGoForwardKeepsWallClockTimes(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	body := b.mustAdmin(t, 201, "POST", demoOrg+"/sessions", map[string]any{"date": "2027-03-28", "start_time": "00:30",
		"end_time": "03:30", "slot_length": 30, "site_id": 101, "holder_id": 201, "slot_type_id": 1, "name": "Out of hours"})
	v := mustDecode[sandbox.SessionView](t, body)
	if len(v.Slots) != 6 || v.Slots[2].StartTime != "01:30" || v.EndTime != "03:30" {
		t.Fatalf("added session = %+v", v.Session)
	}
	d := emis.Date{Year: 2027, Month: 3, Day: 28}
	// 01:30 does not exist on that day in London: Go normalises it to 02:30 BST (01:30 UTC).
	if got := d.At(90).UTC().Format("15:04"); got != "01:30" {
		t.Fatalf("01:30 on the spring-forward day is %s UTC", got)
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
