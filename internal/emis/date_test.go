package emis

import "testing"

func TestASessionEndingAtMidnightIsReadAsTheEndOfTheDay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in      string
		end     int // minutes after midnight; -1: refused
		startOK bool
	}{
		{"24:00", 24 * 60, false}, // EMIS writes the end of the day so; nothing starts then
		{"23:59", 23*60 + 59, true},
		{"00:00", 0, true},
		{"08:30", 8*60 + 30, true},
		{"24:01", -1, false},
		{"25:00", -1, false},
		{"24:00:00", -1, false},
		{"8:30", -1, false},
		{"", -1, false},
	} {
		end, err := ParseEndClock(c.in)
		if c.end < 0 {
			if err == nil {
				t.Errorf("ParseEndClock(%q) = %d, want an error", c.in, end)
			}
		} else if err != nil || end != c.end {
			t.Errorf("ParseEndClock(%q) = %d, %v; want %d", c.in, end, err, c.end)
		}
		if _, err := ParseClock(c.in); (err == nil) != c.startOK {
			t.Errorf("ParseClock(%q) error = %v; a start time valid: %v", c.in, err, c.startOK)
		}
	}
	// The end of the day is the next day's midnight, in London, on any day.
	d := Date{2026, 11, 24}
	if got, want := d.At(24*60), d.AddDays(1).At(0); !got.Equal(want) {
		t.Fatalf("24:00 on %s = %s, want %s", d, got, want)
	}
}
