package sandbox_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// adminSlot is a slot as the admin API's session listing shows it.
type adminSlot struct {
	DBID      int64  `json:"dbid"`
	Date      string `json:"date"`
	StartTime string `json:"start_time"`
	Status    string `json:"status"`
}

func freeSlotsPath(from, to time.Time) string {
	return demoOrg + "/free-slots?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=" + url.QueryEscape(to.Format(time.RFC3339))
}

func TestReceptionFindsTheFreeSlotsOfAStretchOfTheBook(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	wednesday := emis.Today(tuesdayMorning).AddDays(1)
	from, to := wednesday.At(9*60), wednesday.At(12*60)

	// What the session listing says is free in the stretch, slot by slot.
	want := func() []int64 {
		sessions := mustDecode[[]struct {
			Slots []adminSlot `json:"slots"`
		}](t, b.mustAdmin(t, 200, "GET", demoOrg+"/sessions?slots=1&from="+wednesday.String()+"&to="+wednesday.String(), nil))
		var ids []int64
		for _, s := range sessions {
			for _, sl := range s.Slots {
				c, err := emis.ParseClock(sl.StartTime)
				if err != nil {
					t.Fatal(err)
				}
				if at := wednesday.At(c); sl.Status == emis.SlotAvailable && !at.Before(from) && at.Before(to) {
					ids = append(ids, sl.DBID)
				}
			}
		}
		slices.Sort(ids)
		return ids
	}
	got := func() []int64 {
		ids := mustDecode[[]int64](t, b.mustAdmin(t, 200, "GET", freeSlotsPath(from, to), nil))
		slices.Sort(ids)
		return ids
	}
	free := want()
	if len(free) < 2 {
		t.Fatalf("the demo practice has %d free slots on Wednesday morning; the test needs two", len(free))
	}
	if g := got(); !slices.Equal(g, free) {
		t.Fatalf("free slots %v, want %v", g, free)
	}

	// Reception books one: it is no longer free, and the others still are.
	b.mustAdmin(t, 200, "POST", fmt.Sprintf("%s/slots/%d/book", demoOrg, free[0]), map[string]any{"patient_id": 500, "reason": "test"})
	if g := got(); !slices.Equal(g, free[1:]) {
		t.Fatalf("after booking %d: free slots %v, want %v", free[0], g, free[1:])
	}

	// Exactly 62 days from midnight to midnight (the end excluded) is allowed.
	b.mustAdmin(t, 200, "GET", freeSlotsPath(wednesday.At(0), wednesday.AddDays(62).At(0)), nil)

	// A stretch ends before it starts or runs past 62 days: a specific refusal.
	for _, c := range []struct {
		path, says string
	}{
		{freeSlotsPath(to, from), "is not after"},
		{freeSlotsPath(from, from.AddDate(0, 3, 0)), "longer than 62 days"},
		{demoOrg + "/free-slots?from=tomorrow&to=" + url.QueryEscape(to.Format(time.RFC3339)), "from must be an RFC 3339 instant"},
	} {
		if status, body := b.admin(t, "GET", c.path, nil); status != 422 || !strings.Contains(string(body), c.says) {
			t.Errorf("GET %s: %d %s, want 422 saying %q", c.path, status, body, c.says)
		}
	}
}
