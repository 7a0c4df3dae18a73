package bench

import (
	"testing"

	"herolink/internal/emis"
)

func TestNearTermChangesAreTheNextThreeWorkingDays(t *testing.T) {
	friday := emis.Date{Year: 2026, Month: 11, Day: 27}
	for _, c := range []struct {
		day  emis.Date
		want bool
	}{
		{friday, true},
		{friday.AddDays(3), true},  // Monday
		{friday.AddDays(4), true},  // Tuesday
		{friday.AddDays(5), false}, // Wednesday
	} {
		if got := inNearTerm(friday, c.day); got != c.want {
			t.Errorf("from Friday %s, a change on %s %s counted near-term: %v, want %v", friday, c.day.Weekday(), c.day, got, c.want)
		}
	}
}
