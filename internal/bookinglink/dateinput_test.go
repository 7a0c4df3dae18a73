package bookinglink_test

import (
	"errors"
	"testing"
	"time"

	"herolink/internal/bookinglink"
)

func TestDateInputReadsWhatPeopleTypeAndNamesThePartToFix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, d, m, y string
		want, part    string // part "-" means no error
		msg           string
	}{
		{"plain", "5", "3", "1980", "1980-03-05", "-", ""},
		{"leading zeros and spaces", " 05 ", "03", " 1980", "1980-03-05", "-", ""},
		{"month by name", "29", "February", "2000", "2000-02-29", "-", ""},
		{"month abbreviated", "1", "dec", "1999", "1999-12-01", "-", ""},
		{"nothing typed", "", "", "", "", "", "Enter your date of birth"},
		{"no year", "1", "2", "", "", "year", "Date of birth must include a year"},
		{"no day or month", "", "", "1980", "", "day", "Date of birth must include a day and month"},
		{"31 June", "31", "6", "1980", "", "", "Date of birth must be a real date"},
		{"29 February in a common year", "29", "2", "2001", "", "", "Date of birth must be a real date"},
		{"month 13", "1", "13", "1980", "", "month", "Date of birth must be a real date"},
		{"two-digit year", "1", "1", "80", "", "year", "Year must include 4 numbers"},
		{"day with letters", "1a", "1", "1980", "", "day", "Date of birth must be a real date"},
		{"negative day", "-1", "1", "1980", "", "day", "Date of birth must be a real date"},
		{"month too short a name", "1", "ju", "1980", "", "month", "Date of birth must be a real date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bookinglink.ParseDateInput(tc.d, tc.m, tc.y, "Date of birth")
			if tc.part == "-" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var de *bookinglink.DateInputError
			if !errors.As(err, &de) || de.Part != tc.part || de.Message != tc.msg || got != "" {
				t.Fatalf("got %q, %#v; want part %q message %q", got, err, tc.part, tc.msg)
			}
		})
	}
}

// Whatever is typed, the parser answers a real yyyy-mm-dd date or a message, never both,
// never a panic.
func FuzzParseDateInput(f *testing.F) {
	f.Add("5", "3", "1980")
	f.Add("31", "jun", "2020")
	f.Add("", "", "")
	f.Add("0", "00", "0000")
	f.Add("٣", "३", "１９８０")
	f.Fuzz(func(t *testing.T, d, m, y string) {
		got, err := bookinglink.ParseDateInput(d, m, y, "Date of birth")
		if err != nil {
			var de *bookinglink.DateInputError
			if got != "" || !errors.As(err, &de) || de.Message == "" {
				t.Fatalf("%q %q %q: %q, %v", d, m, y, got, err)
			}
			return
		}
		if _, perr := time.Parse(time.DateOnly, got); perr != nil {
			t.Fatalf("%q %q %q: %q is not a date", d, m, y, got)
		}
	})
}
