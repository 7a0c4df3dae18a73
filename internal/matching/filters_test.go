package matching

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// checkFilter fails unless every term of filter is one the sandbox's parser reads as intended: a
// valid NHS number, a dd/mm/yyyy date or a word of letters (never mistaken for a date, an NHS
// number or a postcode, all of which need digits).
func checkFilter(t *testing.T, filter string) {
	t.Helper()
	terms := strings.Fields(filter)
	if len(terms) == 0 || strings.Join(terms, " ") != filter {
		t.Fatalf("filter %q is empty or oddly spaced", filter)
	}
	for _, term := range terms {
		switch {
		case validNHSNumber(term) == term:
		case strings.Count(term, "/") == 2:
			if _, err := time.Parse("02/01/2006", term); err != nil {
				t.Fatalf("filter %q has a date EMIS cannot read: %q", filter, term)
			}
		default:
			for _, r := range term {
				if !unicode.IsLetter(r) {
					t.Fatalf("filter %q has a name term %q holding %q", filter, term, r)
				}
			}
		}
	}
}

func TestSearchFiltersGoFromTheNHSNumberToTheBirthdayAlone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		given Demographics
		want  []string
	}{
		{"everything given, with accents",
			Demographics{NHSNumber: "943 476 5919", FamilyName: "O'Brien", GivenName: "Seán", DateOfBirth: "1958-05-06", Postcode: "LS1 4AP"},
			[]string{"9434765919", "o seán 06/05/1958", "o sean 06/05/1958", "06/05/1958"}},
		{"no accents: no second names filter",
			Demographics{FamilyName: "Smith-Jones", GivenName: "Anna Maria", DateOfBirth: "1971-11-30"},
			[]string{"smith anna 30/11/1971", "30/11/1971"}},
		{"an invalid NHS number is not searched",
			Demographics{NHSNumber: "9434765918", FamilyName: "Okafor", GivenName: "Chinwe", DateOfBirth: "2009-03-14"},
			[]string{"okafor chinwe 14/03/2009", "14/03/2009"}},
		{"without a date of birth only the NHS number is searched",
			Demographics{NHSNumber: "9434765919", FamilyName: "Okafor", GivenName: "Chinwe", DateOfBirth: "14/03/2009"},
			[]string{"9434765919"}},
		{"nothing usable, nothing searched",
			Demographics{FamilyName: "Okafor", GivenName: "Chinwe"}, nil},
		{"names with no letters leave the birthday",
			Demographics{FamilyName: "--", GivenName: "'", DateOfBirth: "2009-03-14"}, []string{"14/03/2009"}},
		{"a name starting with punctuation",
			Demographics{FamilyName: "'t Hooft", GivenName: "Łucja", DateOfBirth: "2001-01-01"},
			[]string{"t łucja 01/01/2001", "t lucja 01/01/2001", "01/01/2001"}},
		{"decomposed accents are searched composed",
			Demographics{FamilyName: "Nguye\u0302\u0303n", GivenName: "Lan", DateOfBirth: "2019-06-21"},
			[]string{"nguyễn lan 21/06/2019", "nguyen lan 21/06/2019", "21/06/2019"}},
	}
	for _, c := range cases {
		got := SearchFilters(c.given)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		for _, f := range got {
			checkFilter(t, f)
		}
	}
}

func FuzzSearchFilters(f *testing.F) {
	f.Add("943 476 5919", "O'Brien", "Seán", "1958-05-06")
	f.Add("", "B1 2AB", "9434765919", "2009-03-14")
	f.Add("", "12/12/2012", "LS1 4AP", "0001-01-01")
	f.Fuzz(func(t *testing.T, nhs, family, given, dob string) {
		got := SearchFilters(Demographics{NHSNumber: nhs, FamilyName: family, GivenName: given, DateOfBirth: dob})
		for i, filter := range got {
			checkFilter(t, filter)
			if slices.Contains(got[:i], filter) {
				t.Fatalf("filter %q repeated", filter)
			}
		}
		if d := parseDate(dob); d != "" {
			t0, _ := time.Parse(time.DateOnly, d)
			if len(got) == 0 || got[len(got)-1] != t0.Format("02/01/2006") {
				t.Fatalf("the last filter of %q is not the birthday alone", got)
			}
		}
	})
}
