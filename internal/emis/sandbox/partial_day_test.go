package sandbox

import (
	"path/filepath"
	"testing"

	"herolink/internal/emis"
)

// firstFreeSlots returns up to n available slots of type 1 of a generated practice's next weekday, one per session.
func firstFreeSlots(t *testing.T, o *Org, n int) (emis.Date, []int64) {
	t.Helper()
	d := o.world.Today().AddDays(1)
	for d.Weekday() == 0 || d.Weekday() == 6 {
		d = d.AddDays(1)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var ids []int64
	for _, s := range o.dayLocked(d).Sessions {
		sid := sessionID(o.Serial, dayNum(d), s.Index)
		for i, sl := range s.Slots {
			if sl.Status == emis.SlotAvailable && sl.TypeID == 1 {
				ids = append(ids, slotID(sid, i))
				break
			}
		}
		if len(ids) == n {
			break
		}
	}
	if len(ids) < n {
		t.Fatalf("only %d free slots on %s", len(ids), d)
	}
	return d, ids
}

func sessionListOf(o *Org, d emis.Date) emis.SessionList {
	a := o.appointmentSessions(map[string][]string{"startDate": {d.String()}, "endDate": {d.String()}})
	return a.result.(emis.SessionList)
}

func TestABookingOnAGeneratedDayKeepsOnlyItsSession(t *testing.T) {
	w := New(Options{Seed: 1, Practices: 1, NoDemo: true})
	o := w.Orgs()[0]
	d, ids := firstFreeSlots(t, o, 2)
	before := sessionListOf(o, d)

	if a := o.book(BookInput{SlotID: ids[0], PatientID: emisNumber(1), Reason: "Review", BookedBy: "Reception"}); a.outcome != emis.OutcomeSuccess {
		t.Fatalf("book: %v %s", a.outcome, a.text)
	}
	stored := o.Days[dayNum(d)]
	if stored == nil || !stored.Partial || len(stored.Sessions) != 1 {
		t.Fatalf("after one booking the day keeps %+v; want a partial day with the one session", stored)
	}
	// A second booking in another session of the day adds that session alone.
	if a := o.book(BookInput{SlotID: ids[1], PatientID: emisNumber(2), Reason: "Review", BookedBy: "Reception"}); a.outcome != emis.OutcomeSuccess {
		t.Fatalf("book: %v %s", a.outcome, a.text)
	}
	if len(stored.Sessions) != 2 {
		t.Fatalf("after two bookings in two sessions the day keeps %d sessions, want 2", len(stored.Sessions))
	}

	// The answers show both bookings, and every other session as generated.
	after := sessionListOf(o, d)
	if len(after.Sessions) != len(before.Sessions) {
		t.Fatalf("sessions: %d before, %d after", len(before.Sessions), len(after.Sessions))
	}
	booked := 0
	for i := range after.Sessions {
		b, a := before.Sessions[i], after.Sessions[i]
		if b.DBID != a.DBID {
			t.Fatalf("session %d is %d after, %d before: order changed", i, a.DBID, b.DBID)
		}
		for k := range a.SlotTypes {
			booked += a.SlotTypes[k].Booked - b.SlotTypes[k].Booked
		}
	}
	if booked != 2 {
		t.Fatalf("the session list shows %d more booked slots, want 2", booked)
	}
	for i, id := range ids {
		r, ok := o.findSlotLocked(id, false)
		if !ok || r.slot.Status != emis.SlotBooked || r.slot.PatientID != emisNumber(i+1) {
			t.Fatalf("slot %d reads %+v", id, r.slot)
		}
	}

	// A bad slot id keeps nothing.
	if a := o.book(BookInput{SlotID: ids[0] + 900, PatientID: emisNumber(3)}); a.outcome != emis.OutcomeNotFound {
		t.Fatalf("booking a slot that does not exist: %v %s", a.outcome, a.text)
	}
	if len(stored.Sessions) != 2 {
		t.Fatalf("a refused booking kept a session: %d", len(stored.Sessions))
	}

	// Adding a session makes the day whole, bookings included.
	s0 := after.Sessions[0]
	if _, err := o.AddSession(SessionInput{Date: d.String(), StartTime: "19:00", EndTime: "19:30", SlotLength: 10,
		SiteID: s0.Site.DBID, HolderID: s0.Holders[0].DBID, SlotTypeID: 1, Name: "Evening"}); err != nil {
		t.Fatal(err)
	}
	if whole := o.Days[dayNum(d)]; whole.Partial || len(whole.Sessions) != len(before.Sessions)+1 {
		t.Fatalf("after adding a session the day is partial=%v with %d sessions, want whole with %d", whole.Partial, len(whole.Sessions), len(before.Sessions)+1)
	}
	for i, id := range ids {
		if r, ok := o.findSlotLocked(id, false); !ok || r.slot.PatientID != emisNumber(i+1) {
			t.Fatalf("after adding a session, slot %d reads %+v", id, r.slot)
		}
	}
}

func TestPartialDaysSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	w := New(Options{Seed: 1, Practices: 1, NoDemo: true})
	o := w.Orgs()[0]
	d, ids := firstFreeSlots(t, o, 1)
	if a := o.book(BookInput{SlotID: ids[0], PatientID: emisNumber(1), BookedBy: "Reception"}); a.outcome != emis.OutcomeSuccess {
		t.Fatalf("book: %v %s", a.outcome, a.text)
	}
	want := sessionListOf(o, d)
	if err := w.SaveState(path); err != nil {
		t.Fatal(err)
	}
	w2 := New(Options{Seed: 1, Practices: 1, NoDemo: true})
	if err := w2.LoadState(path); err != nil {
		t.Fatal(err)
	}
	o2 := w2.Orgs()[0]
	got := sessionListOf(o2, d)
	a, _ := appendEnvelope(nil, "x", ok(want))
	b, _ := appendEnvelope(nil, "x", ok(got))
	if string(a) != string(b) {
		t.Fatal("the session list after a restart differs from before it")
	}
	if r, ok := o2.findSlotLocked(ids[0], false); !ok || r.slot.Status != emis.SlotBooked {
		t.Fatalf("after a restart the booked slot reads %+v", r.slot)
	}
}
