package matching

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"herolink/internal/emis"
)

var today = emis.Date{Year: 2026, Month: 11, Day: 24}

// fieldCodes flattens a ValidateDemographics error to "field:code" strings.
func fieldCodes(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not FieldErrors", err)
	}
	var out []string
	for _, e := range fe {
		if e.Message == "" {
			t.Errorf("field error %s:%s has no message", e.Field, e.Code)
		}
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

func TestValidateDemographicsReportsEachFieldProblem(t *testing.T) {
	t.Parallel()
	full := Demographics{NHSNumber: "943 476 5919", FamilyName: "O'Brien", GivenName: "Seán", DateOfBirth: "1958-05-06", Postcode: "ls1 4ap"}
	cases := []struct {
		name string
		edit func(*Demographics)
		want []string
	}{
		{"everything given and valid", func(*Demographics) {}, nil},
		{"NHS number and date of birth are enough", func(d *Demographics) { d.FamilyName, d.GivenName = "", "" }, nil},
		{"names and date of birth are enough", func(d *Demographics) { d.NHSNumber = "" }, nil},
		{"born today is not the future", func(d *Demographics) { d.DateOfBirth = "2026-11-24" }, nil},
		{"the postcode is not checked", func(d *Demographics) { d.Postcode = "not a postcode" }, nil},
		{"NHS number of 9 digits", func(d *Demographics) { d.NHSNumber = "943476591" }, []string{"nhs_number:format"}},
		{"NHS number failing Modulus 11", func(d *Demographics) { d.NHSNumber = "9434765918" }, []string{"nhs_number:check_digit"}},
		{"date of birth missing", func(d *Demographics) { d.DateOfBirth = " " }, []string{"date_of_birth:required"}},
		{"date of birth written the British way", func(d *Demographics) { d.DateOfBirth = "06/05/1958" }, []string{"date_of_birth:format"}},
		{"impossible date of birth", func(d *Demographics) { d.DateOfBirth = "1958-02-30" }, []string{"date_of_birth:format"}},
		{"date of birth tomorrow", func(d *Demographics) { d.DateOfBirth = "2026-11-25" }, []string{"date_of_birth:in_the_future"}},
		{"a name of punctuation only", func(d *Demographics) { d.FamilyName = "--" }, []string{"family_name:format"}},
		{"no NHS number and no names", func(d *Demographics) { d.NHSNumber, d.FamilyName, d.GivenName = "", "", "" },
			[]string{"family_name:required", "given_name:required"}},
		{"an invalid NHS number does not stand in for a missing name", func(d *Demographics) { d.NHSNumber, d.GivenName = "9434765918", "" },
			[]string{"nhs_number:check_digit", "given_name:required"}},
		{"everything wrong at once", func(d *Demographics) { *d = Demographics{NHSNumber: "12", DateOfBirth: "2030-01-01"} },
			[]string{"nhs_number:format", "date_of_birth:in_the_future", "family_name:required", "given_name:required"}},
	}
	for _, c := range cases {
		d := full
		c.edit(&d)
		got := fieldCodes(t, validateDemographics(d, today))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFieldErrorsNeverRepeatTheValuesGiven(t *testing.T) {
	t.Parallel()
	d := Demographics{NHSNumber: "9434765918", FamilyName: "'", GivenName: "", DateOfBirth: "2099-12-31"}
	err := validateDemographics(d, today)
	for _, v := range []string{"9434765918", "2099"} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error repeats %q: %v", v, err)
		}
	}
}

func TestValidateDemographicsUsesTodayInLondon(t *testing.T) {
	t.Parallel()
	if err := ValidateDemographics(Demographics{NHSNumber: "9434765919", DateOfBirth: "1958-05-06"}); err != nil {
		t.Fatal(err)
	}
	if err := ValidateDemographics(Demographics{NHSNumber: "9434765919", DateOfBirth: "9999-01-01"}); err == nil {
		t.Fatal("a date of birth in 9999 was accepted")
	}
}

func TestDemographicsAndCandidatesDoNotPrintPatientDetails(t *testing.T) {
	t.Parallel()
	d := Demographics{NHSNumber: "9434765919", FamilyName: "Okafor", GivenName: "Chinwe", DateOfBirth: "2009-03-14", Postcode: "LS1 4AP"}
	c := Candidate{EMISNumber: 501, NHSNumber: "9434765919", FamilyName: "Okafor", FirstNames: "Chinwe", DateOfBirth: "2009-03-14", Postcode: "LS1 4AP"}
	v := Decide(d, []Candidate{c})
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("match", "given", d, "candidate", c, "verdict", v)
	printed := fmt.Sprintf("%v %+v %s %v", d, c, c, v) + logged.String() + v.Reason
	for _, s := range []string{"9434765919", "Okafor", "Chinwe", "2009", "LS1"} {
		if strings.Contains(printed, s) {
			t.Errorf("%q leaked into output: %s", s, printed)
		}
	}
	if !strings.Contains(logged.String(), `"emis_number":501`) || !strings.Contains(logged.String(), `"rule":"nhs_number_and_dob"`) {
		t.Errorf("the log lost the verdict: %s", logged.String())
	}
}

func TestCandidateFromEMISKeepsTheFieldsMatchingWeighs(t *testing.T) {
	t.Parallel()
	p := emis.Patient{DBID: 505, NhsNumber: "9990000018", Title: "Mr", FamilyName: "O'Brien", FirstNames: "Seán",
		DateOfBirth: "1958-05-06", Sex: "M", Address: "1 High Street", Postcode: "LS1 4AP"}
	want := Candidate{EMISNumber: 505, NHSNumber: "9990000018", FamilyName: "O'Brien", FirstNames: "Seán", DateOfBirth: "1958-05-06", Postcode: "LS1 4AP"}
	if got := CandidateFromEMIS(p); got != want {
		t.Fatalf("got %#v", got)
	}
}

func FuzzValidateDemographics(f *testing.F) {
	f.Add("943 476 5919", "O'Brien", "Seán", "1958-05-06", "LS1 4AP")
	f.Add("", "", "", "", "")
	f.Add("9434765918", "--", "Mary Anne", "1958-02-30", "x")
	f.Add("abc", "Ⅻ", "\xff", "+1958-05-06", "ls1\u00854ap")
	f.Fuzz(func(t *testing.T, nhs, family, given, dob, postcode string) {
		d := Demographics{NHSNumber: nhs, FamilyName: family, GivenName: given, DateOfBirth: dob, Postcode: postcode}
		err := validateDemographics(d, today)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error %v is not a non-empty FieldErrors", err)
			}
		}
		// Decide never links what validation refuses for lack of a date of birth or identity.
		v := Decide(d, []Candidate{{EMISNumber: 1, NHSNumber: nhs, FamilyName: family, FirstNames: given, DateOfBirth: dob, Postcode: postcode}})
		if v.Outcome == Linked && slices.ContainsFunc(fieldCodes(t, err), func(s string) bool {
			return strings.HasPrefix(s, "date_of_birth:required") || strings.HasPrefix(s, "date_of_birth:format") || strings.HasSuffix(s, ":required")
		}) {
			t.Fatalf("linked although validation says %v", err)
		}
		for _, filter := range SearchFilters(d) {
			checkFilter(t, filter)
		}
	})
}
