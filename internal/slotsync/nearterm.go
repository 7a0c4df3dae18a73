package slotsync

import (
	"time"

	"herolink/internal/emis"
)

// DefaultNearDays is the near-term window's working days when Engine.NearDays is zero.
const DefaultNearDays = 3

// NearTermEnd is the last day of the near-term window that starts today: every day up to and
// including the days-th working day (Monday to Friday), today counted when it is one.
//
// Calendar days would leave a Friday evening's window with the rest of Friday and a weekend
// without sessions, and Monday morning, the week's busiest diary, to the full pass alone until
// Saturday; counted in working days the near-term passes read what patients book next, and the
// weekend between costs nothing where a practice has no sessions then (and is read when it
// has). Bank holidays count as working days: the window is then a day shorter, never wrong.
func NearTermEnd(today emis.Date, days int) emis.Date {
	d := today
	for n := 0; ; d = d.AddDays(1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			if n++; n >= days {
				return d
			}
		}
	}
}
