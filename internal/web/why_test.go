package web

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

func TestWhyCantISeeThisSlotPageAnswersFromEMISAndTheCopy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	// The sync card before any sync, and the link to the page.
	mustSay(t, c.get("/admin/practices/"+strconv.FormatInt(id, 10)), "Copy of the EMIS diary", "Why can’t I see a slot?")

	// Bad input is refused field by field.
	r := c.get("/admin/practices/" + strconv.FormatInt(id, 10) + "/why?date=tomorrow&time=9&holder=")
	if r.status != 422 {
		t.Fatalf("bad input: %d", r.status)
	}
	mustSay(t, r, "Enter the date as year-month-day", "Enter the time as hours and minutes", "Choose the session holder")

	// A real slot: before herolink has synced, EMIS has it and the copy does not.
	today := emis.Today(time.Now())
	sessions, err := b.demo.ListSessions(today.AddDays(1), today.AddDays(7), true)
	if err != nil || len(sessions) == 0 {
		t.Fatal(err)
	}
	s := sessions[0]
	q := url.Values{"date": {s.Date}, "time": {s.Slots[2].StartTime}, "holder": {strconv.FormatInt(s.Holders[0].DBID, 10)}}
	r = c.get("/admin/practices/" + strconv.FormatInt(id, 10) + "/why?" + q.Encode())
	if r.status != 200 {
		t.Fatalf("why: %d %s", r.status, r.body)
	}
	mustSay(t, r, "Is the connection to EMIS healthy?", "When was the last sync?", "The first sync has not finished yet",
		"Is the session in EMIS?", s.Name, "Is the slot type active?")

	// After a sync the page says when.
	engine := &slotsync.Engine{Store: b.store, Conns: b.service}
	if _, err := engine.Sync(context.Background(), id, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}
	mustSay(t, c.get("/admin/practices/"+strconv.FormatInt(id, 10)+"/why?"+q.Encode()), "Last successful sync")
	mustSay(t, c.get("/admin/practices/"+strconv.FormatInt(id, 10)), "Last synced", "sessions")
}
