package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/store"
)

// Staff see the week partners are offered: sessions by holder and site from the synced copy,
// free and booked slots, and herolink's own holds, bookings and placeholders marked.
func TestTheDiaryWeekShowsTheSyncedCopyWithHerolinksHoldsAndPlaceholdersMarked(t *testing.T) {
	b := setup(t)
	pid, ph := b.withPlaceholder(t)
	ctx := context.Background()
	p, _ := b.store.PracticeByID(ctx, pid)
	// A free slot in the placeholder's week, to hold.
	weekOf := mondayOf(emis.DateOf(ph.StartAt.In(emis.London)))
	from := weekOf.At(0)
	if from.Before(time.Now()) {
		from = time.Now()
	}
	page, err := b.booking.Slots(ctx, p.PracticeGroupID, booking.SlotQuery{From: from, To: weekOf.AddDays(7).At(0), Limit: 1})
	if err != nil || len(page.Slots) == 0 {
		t.Fatalf("slots: %+v, %v", page, err)
	}
	held, err := b.booking.Reserve(ctx, p.PracticeGroupID, "key", booking.ReserveRequest{SlotID: page.Slots[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if mondayOf(emis.DateOf(held.StartAt.In(emis.London))) != mondayOf(emis.DateOf(ph.StartAt.In(emis.London))) {
		t.Fatalf("the held slot (%v) is not in the placeholder's week (%v)", held.StartAt, ph.StartAt)
	}
	c := b.signedIn(t, "pm", store.RolePractice, pid)
	week := emis.DateOf(ph.StartAt.In(emis.London)).String()
	r := c.get(practicePath(pid) + "/diary?week=" + week)
	if r.status != http.StatusOK {
		t.Fatalf("diary: %d\n%s", r.status, r.body)
	}
	holders := b.demo.ListHolders()
	mustSay(t, r, "Diary, week of", "Placeholder "+ph.Reference+" (unregistered patient)", "Held by herolink until", "Free",
		holders[0].DisplayName(), "Session holder", "Site")
	monday := mondayOf(emis.DateOf(ph.StartAt.In(emis.London)))
	mustHave(t, r,
		`href="`+practicePath(pid)+`/diary?week=`+monday.AddDays(-7).String()+`"`,
		`href="`+practicePath(pid)+`/diary?week=`+monday.AddDays(7).String()+`"`,
		`tabindex="0" role="region" aria-label="Slots of `)
	// herolink's own appointments are listed without opening the session's slots.
	mine := regexp.MustCompile(`id="session-\d+-herolink">(?s:.*?)</dd>`).FindAllString(r.body, -1)
	if !strings.Contains(strings.Join(mine, ""), "Placeholder "+ph.Reference) || !strings.Contains(strings.Join(mine, ""), "Held by herolink until") {
		t.Errorf("herolink's placeholder and hold are not listed outside the slot lists: %q", mine)
	}

	// Another week starts on its Monday whatever day is asked for, and says when it has nothing.
	empty := c.get(practicePath(pid) + "/diary?week=" + monday.AddDays(-700+3).String())
	mustSay(t, empty, "No sessions.", "Diary, week of "+monday.AddDays(-700).At(12*60).Format("2 January 2006"))

	// A week that is not a date says so, in the title too.
	bad := c.get(practicePath(pid) + "/diary?week=next-tuesday")
	if bad.status != http.StatusBadRequest || !strings.HasPrefix(pageTitle(t, bad), "Error: ") {
		t.Fatalf("a bad week: %d %q", bad.status, pageTitle(t, bad))
	}

	// Another practice's staff cannot read it.
	elsewhere, err := b.store.EnsurePractice(ctx, "B99999", 99999, "Elsewhere Surgery")
	if err != nil {
		t.Fatal(err)
	}
	other := b.signedIn(t, "elsewhere", store.RolePractice, elsewhere.ID)
	if r := other.get(practicePath(pid) + "/diary"); r.status != http.StatusForbidden {
		t.Fatalf("another practice's diary: %d", r.status)
	}
}

func TestAWeekStartsOnMonday(t *testing.T) {
	for _, tc := range []struct{ day, monday string }{
		{"2026-12-07", "2026-12-07"}, {"2026-12-09", "2026-12-07"}, {"2026-12-13", "2026-12-07"}, {"2026-12-14", "2026-12-14"},
		{"2027-01-01", "2026-12-28"}, {"2026-03-29", "2026-03-23"},
	} {
		d, err := emis.ParseDate(tc.day)
		if err != nil {
			t.Fatal(err)
		}
		if got := mondayOf(d).String(); got != tc.monday {
			t.Errorf("the Monday of %s is %s, want %s", tc.day, got, tc.monday)
		}
	}
}
