package slotsync_test

import (
	"context"
	"strings"
	"testing"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
)

func TestWhyCantISeeThisSlotAnswersTheFourQuestions(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	x := &slotsync.Explainer{Store: b.store, Conns: b.practices, Now: b.clock.Now}
	ctx := context.Background()
	sl := b.firstSlot(t, free)
	d, _ := emis.ParseDate(sl.Date)
	minute, _ := emis.ParseClock(sl.StartTime)
	sessions := b.emisSessions(t)
	var holder int64
	for _, s := range sessions {
		if s.DBID == sl.SessionDBID {
			holder = s.Holders[0].DBID
		}
	}
	answers := func() map[string]slotsync.Answer {
		got, err := x.Explain(ctx, b.practiceID, d, minute, holder)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]slotsync.Answer{}
		for _, a := range got {
			m[a.Question] = a
		}
		return m
	}

	// Before any sync: the session is in EMIS but herolink has not synced.
	a := answers()
	if !a["Is the session in EMIS?"].OK || a["When was the last sync?"].OK || !strings.Contains(a["When was the last sync?"].Detail, "first sync has not finished") {
		t.Fatalf("before sync: %+v", a)
	}
	if !a["Is the connection to EMIS healthy?"].OK || !a["Is the slot type active?"].OK {
		t.Fatalf("before sync: %+v", a)
	}
	if f := a["Is the slot free?"]; f.OK || !strings.Contains(f.Detail, "not yet in herolink's copy") {
		t.Fatalf("before sync, slot: %+v", f)
	}

	b.sync(t)
	if a = answers(); !a["When was the last sync?"].OK || !a["Is the slot free?"].OK {
		t.Fatalf("after sync: %+v", a)
	}

	// Reception books it: EMIS says so.
	_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
	must(t, err)
	if f := answers()["Is the slot free?"]; f.OK || !strings.Contains(f.Detail, "In EMIS the slot is Booked") {
		t.Fatalf("booked slot: %+v", f)
	}

	// The slot type is not active for online booking.
	x.ActiveTypes = func(context.Context, int64) ([]int, error) { return []int{3}, nil }
	if ty := answers()["Is the slot type active?"]; ty.OK || !strings.Contains(ty.Detail, "not active for online booking") {
		t.Fatalf("inactive type: %+v", ty)
	}

	// No session for that holder at that time.
	got, err := x.Explain(ctx, b.practiceID, d, 3*60, holder)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if g.Question == "Is the session in EMIS?" && (g.OK || !strings.Contains(g.Detail, "EMIS has no session")) {
			t.Fatalf("03:00: %+v", g)
		}
	}
}

func TestWhyCantISeeThisSlotFindsASessionRunningToMidnight(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	x := &slotsync.Explainer{Store: b.store, Conns: b.practices, Now: b.clock.Now}
	day := emis.Today(b.clock.Now()).AddDays(5)
	_, err := b.demo.AddSession(sandbox.SessionInput{Date: day.String(), StartTime: "23:00", EndTime: "24:00",
		SlotLength: 15, SiteID: 101, HolderID: 201, SlotTypeID: 1, Name: "Overnight"})
	must(t, err)
	got, err := x.Explain(context.Background(), b.practiceID, day, 23*60+30, 201)
	must(t, err)
	for _, a := range got {
		if a.Question == "Is the session in EMIS?" && !a.OK {
			t.Fatalf("a session ending 24:00 was not found at 23:30: %+v", a)
		}
	}
}
