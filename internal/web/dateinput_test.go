package web

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func TestTheDateInputReadsRealDatesAndSaysWhichPartIsWrong(t *testing.T) {
	for _, tc := range []struct {
		day, month, year string
		want             string // yyyy-mm-dd, or the error
		bad              string // the part linked from the summary
	}{
		{"1", "12", "2026", "2026-12-01", ""},
		{" 07 ", "03", "2027", "2027-03-07", ""},
		{"29", "2", "2028", "2028-02-29", ""},
		{"", "", "", "Enter the date of the slot", "date-day"},
		{"", "12", "2026", "The date of the slot must include a day", "date-day"},
		{"1", "", "", "The date of the slot must include a month and a year", "date-month"},
		{"30", "2", "2026", "The date of the slot must be a real date, for example 27 3 2026", "date-day"},
		{"1", "13", "2026", "The date of the slot must be a real date, for example 27 3 2026", "date-month"},
		{"1", "12", "26", "The year must be 4 numbers, for example 2026", "date-year"},
		{"one", "12", "2026", "The date of the slot must be a real date, for example 27 3 2026", "date-day"},
		{"-1", "12", "2026", "The date of the slot must be a real date, for example 27 3 2026", "date-day"},
		{"1", "12", "99999", "The year must be 4 numbers, for example 2026", "date-year"},
	} {
		in := dateInput{Name: "date", Day: tc.day, Month: tc.month, Year: tc.year}
		d, ok := parseDateInput(&in, "the slot")
		if tc.bad == "" {
			if !ok || d.String() != tc.want || in.Error != "" {
				t.Errorf("%q %q %q: %v %v %q, want %s", tc.day, tc.month, tc.year, d, ok, in.Error, tc.want)
			}
			continue
		}
		if ok || in.Error != tc.want || in.firstBad() != tc.bad {
			t.Errorf("%q %q %q: ok %v, error %q linked to %s; want %q linked to %s", tc.day, tc.month, tc.year, ok, in.Error, in.firstBad(), tc.want, tc.bad)
		}
	}
}

func TestTheTimeInputReadsTheTwentyFourHourClock(t *testing.T) {
	for _, tc := range []struct {
		hour, minute string
		want         int
		err, bad     string
	}{
		{"9", "30", 9*60 + 30, "", ""},
		{"14", "05", 14*60 + 5, "", ""},
		{"0", "0", 0, "", ""},
		{"", "", 0, "Enter the time of the slot", "time-hour"},
		{"9", "", 0, "The time of the slot must include minutes", "time-minute"},
		{"", "30", 0, "The time of the slot must include an hour", "time-hour"},
		{"24", "00", 0, "The time of the slot must be a real time on the 24-hour clock, for example 9 30 or 14 05", "time-hour"},
		{"9", "60", 0, "The time of the slot must be a real time on the 24-hour clock, for example 9 30 or 14 05", "time-minute"},
		{"9am", "30", 0, "The time of the slot must be a real time on the 24-hour clock, for example 9 30 or 14 05", "time-hour"},
	} {
		in := timeInput{Name: "time", Hour: tc.hour, Minute: tc.minute}
		m, ok := parseTimeInput(&in, "the slot")
		if tc.err == "" {
			if !ok || m != tc.want {
				t.Errorf("%q:%q = %d %v %q, want %d", tc.hour, tc.minute, m, ok, in.Error, tc.want)
			}
			continue
		}
		if ok || in.Error != tc.err || in.firstBad() != tc.bad {
			t.Errorf("%q:%q: ok %v, %q linked to %s; want %q linked to %s", tc.hour, tc.minute, ok, in.Error, in.firstBad(), tc.err, tc.bad)
		}
	}
}

// The date and time inputs read what staff type, which is outside input: whatever it is, they
// either give a real date and time or say what is wrong, never panic or accept nonsense.
func FuzzDateAndTimeInputs(f *testing.F) {
	f.Add("1", "12", "2026", "9", "30")
	f.Add("31", "4", "2026", "24", "60")
	f.Add("", "", "", "", "")
	f.Add("٣", "12", "2026", "0", "0")
	f.Fuzz(func(t *testing.T, day, month, year, hour, minute string) {
		in := dateInput{Name: "date", Day: day, Month: month, Year: year}
		d, ok := parseDateInput(&in, "the slot")
		if ok {
			back, err := emis.ParseDate(d.String())
			if err != nil || back != d || in.Error != "" || d.Year < 2000 || d.Year > 9999 {
				t.Fatalf("accepted %q %q %q as %v (%v)", day, month, year, d, err)
			}
		} else if in.Error == "" || !(in.BadDay || in.BadMonth || in.BadYear) {
			t.Fatalf("refused %q %q %q without saying why", day, month, year)
		}
		ti := timeInput{Name: "time", Hour: hour, Minute: minute}
		m, ok := parseTimeInput(&ti, "the slot")
		if ok && (m < 0 || m >= 24*60 || ti.Error != "") {
			t.Fatalf("accepted %q:%q as minute %d", hour, minute, m)
		}
		if !ok && (ti.Error == "" || !(ti.BadHour || ti.BadMin)) {
			t.Fatalf("refused %q:%q without saying why", hour, minute)
		}
	})
}

func TestTheWhyPageAsksForTheDateAndTimeWithNHSInputsAndLinksEachError(t *testing.T) {
	b := setup(t)
	id := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "pm", store.RolePractice, id)
	path := practicePath(id) + "/why"
	r := c.get(path)
	mustHave(t, r, `class="nhsuk-date-input" id="date"`, `id="date-day" name="date-day" type="text" inputmode="numeric"`,
		`id="date-month" name="date-month"`, `id="date-year" name="date-year"`, `id="time-hour" name="time-hour"`, `id="time-minute" name="time-minute"`,
		`<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Date of the slot</legend>`)

	bad := c.get(path + "?" + url.Values{"date-day": {"30"}, "date-month": {"2"}, "date-year": {"2026"}, "time-hour": {"9"}, "time-minute": {""}, "holder": {""}}.Encode())
	if bad.status != 422 || !strings.HasPrefix(pageTitle(t, bad), "Error: ") {
		t.Fatalf("bad date and time: %d %q", bad.status, pageTitle(t, bad))
	}
	mustHave(t, bad, `<a href="#date-day">The date of the slot must be a real date, for example 27 3 2026</a>`,
		`<a href="#time-minute">The time of the slot must include minutes</a>`, `<a href="#holder">Choose the session holder`,
		`id="date-day" name="date-day" type="text" inputmode="numeric" value="30"`, `nhsuk-input--error" id="time-minute"`)

	// A real slot asked with the boxes is answered, and the boxes keep what was typed.
	today := emis.Today(time.Now())
	sessions, err := b.demo.ListSessions(today.AddDays(1), today.AddDays(7), true)
	if err != nil || len(sessions) == 0 {
		t.Fatal(err)
	}
	s := sessions[0]
	d, _ := emis.ParseDate(s.Date)
	clock, _ := emis.ParseClock(s.Slots[0].StartTime)
	q := url.Values{"date-day": {strconv.Itoa(d.Day)}, "date-month": {strconv.Itoa(int(d.Month))}, "date-year": {strconv.Itoa(d.Year)},
		"time-hour": {strconv.Itoa(clock / 60)}, "time-minute": {strconv.Itoa(clock % 60)}, "holder": {strconv.FormatInt(s.Holders[0].DBID, 10)}}
	ok := c.get(path + "?" + q.Encode())
	if ok.status != 200 || strings.HasPrefix(pageTitle(t, ok), "Error") {
		t.Fatalf("a real slot: %d %q\n%s", ok.status, pageTitle(t, ok), ok.body)
	}
	mustSay(t, ok, "Is the session in EMIS?", s.Name)
}

var browserWidget = regexp.MustCompile(`<input[^>]*type="(date|time|datetime-local|month|week)"`)

// Admin forms use the NHS.UK date input pattern, never the browser's own date or time widget.
func TestNoAdminFormUsesTheBrowsersDateOrTimeWidget(t *testing.T) {
	files, _ := filepath.Glob("templates/*.html")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := browserWidget.FindString(string(data)); m != "" {
			t.Errorf("%s: %s", f, m)
		}
	}
}
