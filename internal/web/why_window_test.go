package web

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func TestWhyCantISeeThisSlotSaysWhenTheDateIsBeyondTheSyncedWindowAndHowToChangeIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	today := emis.Today(time.Now())
	// The sandbox's diary runs four weeks ahead; herolink keeps 14 days by default.
	sessions, err := b.demo.ListSessions(today.AddDays(17), today.AddDays(24), true)
	if err != nil || len(sessions) == 0 {
		t.Fatalf("no sessions beyond the window: %v", err)
	}
	s := sessions[0]
	q := url.Values{"date": {s.Date}, "time": {s.Slots[0].StartTime}, "holder": {strconv.FormatInt(s.Holders[0].DBID, 10)}}
	r := c.get("/admin/practices/" + strconv.FormatInt(id, 10) + "/why?" + q.Encode())
	if r.status != 200 {
		t.Fatalf("why: %d %s", r.status, r.body)
	}
	mustSay(t, r, "beyond the synced window", "14 days", today.AddDays(13).String(), "--sync-horizon-days", "HEROLINK_SYNC_HORIZON_DAYS", "at most 56")
}
