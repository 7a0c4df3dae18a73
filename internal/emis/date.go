package emis

import (
	"fmt"
	"time"
	_ "time/tzdata" // EMIS shows Europe/London wall-clock times; do not depend on the host's zoneinfo.
)

// London is the zone every EMIS date and time is expressed in.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("emis: load %s: %v", name, err))
	}
	return loc
}

// Date is a calendar date in the practice's diary, with no time zone of its own.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads yyyy-mm-dd, rejecting impossible dates such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not a valid yyyy-mm-dd date", s)
	}
	return DateOf(t), nil
}

// DateOf is the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today is the date in London at instant now.
func Today(now time.Time) Date { return DateOf(now.In(London)) }

func (d Date) String() string {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// Written by hand: the sandbox and the sync format a date for every slot, and fmt was a
	// third of a slot list's cost.
	b := [10]byte{'0' + byte(d.Year/1000), '0' + byte(d.Year/100%10), '0' + byte(d.Year/10%10), '0' + byte(d.Year%10), '-',
		'0' + byte(d.Month/10), '0' + byte(d.Month%10), '-', '0' + byte(d.Day/10), '0' + byte(d.Day%10)}
	return string(b[:])
}

// AddDays moves by n calendar days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// DaysSince counts calendar days from o to d.
func (d Date) DaysSince(o Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	b := time.Date(o.Year, o.Month, o.Day, 0, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Hours() / 24)
}

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool { return d.DaysSince(o) < 0 }

// Weekday of the date.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// At is the instant of a London wall-clock time on this date. On the days the clocks change
// the hour from 01:00 is missing or repeated; the sandbox refuses sessions covering it, and
// time.Date picks the instant Go documents for such a time.
func (d Date) At(minuteOfDay int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, minuteOfDay/60, minuteOfDay%60, 0, 0, London)
}

// ParseClock reads HH:MM into minutes after midnight.
func ParseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("time %q is not a valid HH:MM time", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ParseEndClock reads a session's end time: HH:MM, or 24:00 for a session that runs to
// midnight, which is how EMIS writes the end of the day (a start time is never 24:00).
func ParseEndClock(s string) (int, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	return ParseClock(s)
}

// FormatClock writes minutes after midnight as HH:MM.
func FormatClock(minuteOfDay int) string {
	h, m := minuteOfDay/60, minuteOfDay%60
	if minuteOfDay < 0 || h > 99 {
		return fmt.Sprintf("%02d:%02d", h, m)
	}
	b := [5]byte{'0' + byte(h/10), '0' + byte(h%10), ':', '0' + byte(m/10), '0' + byte(m%10)}
	return string(b[:])
}
