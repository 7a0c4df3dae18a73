package bookinglink

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateInputError says which part of an NHS date input is wrong, in the pattern's words.
type DateInputError struct {
	Part    string // "", "day", "month" or "year": the part to highlight ("" for all)
	Message string
}

func (e *DateInputError) Error() string { return "bookinglink: date input: " + e.Message }

// ParseDateInput reads the NHS date input pattern's three boxes (day, month, year) as typed by
// a person: spaces around are ignored, a month may be a number or a name ("3", "03", "mar",
// "March"), the year has four digits. It returns yyyy-mm-dd, or a *DateInputError saying what
// to fix. what names the date in messages ("Date of birth").
func ParseDateInput(day, month, year, what string) (string, error) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	var missing []string
	for _, p := range []struct{ name, v string }{{"day", day}, {"month", month}, {"year", year}} {
		if p.v == "" {
			missing = append(missing, p.name)
		}
	}
	switch {
	case len(missing) == 3:
		return "", &DateInputError{Message: "Enter your " + strings.ToLower(what)}
	case len(missing) == 2:
		return "", &DateInputError{Part: missing[0], Message: fmt.Sprintf("%s must include a %s and %s", what, missing[0], missing[1])}
	case len(missing) == 1:
		return "", &DateInputError{Part: missing[0], Message: fmt.Sprintf("%s must include a %s", what, missing[0])}
	}
	d, err := strconv.Atoi(day)
	if err != nil || d < 1 || d > 31 || len(day) > 2 {
		return "", &DateInputError{Part: "day", Message: what + " must be a real date"}
	}
	m, ok := monthOf(month)
	if !ok {
		return "", &DateInputError{Part: "month", Message: what + " must be a real date"}
	}
	y, err := strconv.Atoi(year)
	if err != nil || len(year) != 4 || y < 1000 {
		return "", &DateInputError{Part: "year", Message: "Year must include 4 numbers"}
	}
	t := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	if t.Day() != d || t.Month() != m { // 31 June rolls over: not a real date
		return "", &DateInputError{Message: what + " must be a real date"}
	}
	return t.Format(time.DateOnly), nil
}

func monthOf(s string) (time.Month, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= 12 && len(s) <= 2 {
			return time.Month(n), true
		}
		return 0, false
	}
	s = strings.ToLower(s)
	if len(s) < 3 {
		return 0, false
	}
	for m := time.January; m <= time.December; m++ {
		if name := strings.ToLower(m.String()); strings.HasPrefix(name, s) {
			return m, true
		}
	}
	return 0, false
}
