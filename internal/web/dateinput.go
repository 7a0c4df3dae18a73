package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"herolink/internal/emis"
)

// The NHS.UK date input (day, month, year boxes) and a time input in the same pattern (hour,
// minute boxes): readable at any width and the same in every browser, unlike the browsers' own
// date and time widgets. Fields are named <name>-day, <name>-month, <name>-year and <name>-hour,
// <name>-minute; errors say which part is wrong and link to it.

// dateInput is a date input's typed parts and what is wrong with them.
type dateInput struct {
	Name, Label, Hint string
	Day, Month, Year  string
	Error             string
	BadDay, BadMonth  bool
	BadYear           bool
}

// timeInput is a time input's typed parts and what is wrong with them.
type timeInput struct {
	Name, Label, Hint string
	Hour, Minute      string
	Error             string
	BadHour, BadMin   bool
}

// smallNumber reads 1 to 4 digits; anything else is not a number here.
func smallNumber(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseDateInput reads a date input's parts. what names the date in messages ("the slot").
func parseDateInput(in *dateInput, what string) (emis.Date, bool) {
	in.Day, in.Month, in.Year = strings.TrimSpace(in.Day), strings.TrimSpace(in.Month), strings.TrimSpace(in.Year)
	in.Error, in.BadDay, in.BadMonth, in.BadYear = "", false, false, false
	if in.Day == "" && in.Month == "" && in.Year == "" {
		in.Error, in.BadDay, in.BadMonth, in.BadYear = "Enter the date of "+what, true, true, true
		return emis.Date{}, false
	}
	var missing []string
	if in.Day == "" {
		missing, in.BadDay = append(missing, "a day"), true
	}
	if in.Month == "" {
		missing, in.BadMonth = append(missing, "a month"), true
	}
	if in.Year == "" {
		missing, in.BadYear = append(missing, "a year"), true
	}
	if len(missing) > 0 {
		in.Error = "The date of " + what + " must include " + strings.Join(missing, " and ")
		return emis.Date{}, false
	}
	d, okD := smallNumber(in.Day)
	m, okM := smallNumber(in.Month)
	y, okY := smallNumber(in.Year)
	in.BadDay, in.BadMonth, in.BadYear = !okD || d < 1 || d > 31, !okM || m < 1 || m > 12, !okY || len(in.Year) != 4 || y < 2000
	if in.BadYear && okD && okM && !in.BadDay && !in.BadMonth {
		in.Error = "The year must be 4 numbers, for example 2026"
		return emis.Date{}, false
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if in.BadDay || in.BadMonth || in.BadYear || t.Day() != d || int(t.Month()) != m {
		if !in.BadDay && !in.BadMonth && !in.BadYear {
			in.BadDay = true // 30 February: the day is what does not exist
		}
		in.Error = "The date of " + what + " must be a real date, for example 27 3 2026"
		return emis.Date{}, false
	}
	return emis.Date{Year: y, Month: time.Month(m), Day: d}, true
}

// parseTimeInput reads a time input's parts (24-hour clock) into minutes after midnight.
func parseTimeInput(in *timeInput, what string) (int, bool) {
	in.Hour, in.Minute = strings.TrimSpace(in.Hour), strings.TrimSpace(in.Minute)
	in.Error, in.BadHour, in.BadMin = "", false, false
	switch {
	case in.Hour == "" && in.Minute == "":
		in.Error, in.BadHour, in.BadMin = "Enter the time of "+what, true, true
		return 0, false
	case in.Hour == "":
		in.Error, in.BadHour = "The time of "+what+" must include an hour", true
		return 0, false
	case in.Minute == "":
		in.Error, in.BadMin = "The time of "+what+" must include minutes", true
		return 0, false
	}
	h, okH := smallNumber(in.Hour)
	m, okM := smallNumber(in.Minute)
	in.BadHour, in.BadMin = !okH || len(in.Hour) > 2 || h > 23, !okM || len(in.Minute) > 2 || m > 59
	if in.BadHour || in.BadMin {
		in.Error = "The time of " + what + " must be a real time on the 24-hour clock, for example 9 30 or 14 05"
		return 0, false
	}
	return h*60 + m, true
}

// firstBad is the id of a date input's first part at fault, for the error summary's link.
func (in dateInput) firstBad() string {
	switch {
	case in.BadDay:
		return in.Name + "-day"
	case in.BadMonth:
		return in.Name + "-month"
	}
	return in.Name + "-year"
}

func (in timeInput) firstBad() string {
	if in.BadHour || !in.BadMin {
		return in.Name + "-hour"
	}
	return in.Name + "-minute"
}

// partsView is a date or time input as the parts_input template shows it.
type partsView struct {
	Name, Label, Hint, Error string
	Parts                    []inputPart
}

type inputPart struct {
	Name, Label, Value string
	Width              int
	Bad                bool
}

func (in dateInput) View() partsView {
	return partsView{Name: in.Name, Label: in.Label, Hint: in.Hint, Error: in.Error, Parts: []inputPart{
		{"day", "Day", in.Day, 2, in.BadDay}, {"month", "Month", in.Month, 2, in.BadMonth}, {"year", "Year", in.Year, 4, in.BadYear}}}
}

func (in timeInput) View() partsView {
	return partsView{Name: in.Name, Label: in.Label, Hint: in.Hint, Error: in.Error, Parts: []inputPart{
		{"hour", "Hour", in.Hour, 2, in.BadHour}, {"minute", "Minute", in.Minute, 2, in.BadMin}}}
}

// setDate and setTime fill the inputs' parts from a date and a minute of the day.
func (in *dateInput) setDate(d emis.Date) {
	in.Day, in.Month, in.Year = strconv.Itoa(d.Day), strconv.Itoa(int(d.Month)), strconv.Itoa(d.Year)
}

func (in *timeInput) setTime(minute int) {
	in.Hour, in.Minute = strconv.Itoa(minute/60), fmt.Sprintf("%02d", minute%60)
}
