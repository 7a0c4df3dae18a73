package slotsync_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/emis"
)

func TestTheFirstFullPassOfEachDayDeletesTheDaysBefore(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	b.sync(t) // a second pass the same day: pruning is not due again
	stored := func() []string {
		t.Helper()
		sessions, err := b.store.DiarySessions(context.Background(), b.practiceID, "2000-01-01", "2100-01-01")
		must(t, err)
		var days []string
		for _, s := range sessions {
			days = append(days, s.Date)
		}
		return days
	}
	for day := range 3 {
		b.clock.Advance(24 * time.Hour)
		b.sync(t)
		today := emis.Today(b.clock.Now()).String()
		for _, d := range stored() {
			if d < today {
				t.Fatalf("day %d: a session of %s is still stored after the first full pass of %s", day+1, d, today)
			}
		}
	}
}
