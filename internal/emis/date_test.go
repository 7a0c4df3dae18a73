package emis

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

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

// Dates and clock times are written by hand for speed; they must read exactly as fmt writes
// them, in range and out of it (the wire's yyyy-mm-dd and HH:MM).
func TestDatesAndClockTimesAreWrittenAsFmtWritesThem(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := Date{Year: rapid.IntRange(-20, 10050).Draw(t, "year"), Month: time.Month(rapid.IntRange(-3, 120).Draw(t, "month")),
			Day: rapid.IntRange(-3, 120).Draw(t, "day")}
		if got, want := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day); got != want {
			t.Fatalf("Date%+v.String() = %q, want %q", d, got, want)
		}
		m := rapid.IntRange(-200, 7000).Draw(t, "minute")
		if got, want := FormatClock(m), fmt.Sprintf("%02d:%02d", m/60, m%60); got != want {
			t.Fatalf("FormatClock(%d) = %q, want %q", m, got, want)
		}
	})
}
