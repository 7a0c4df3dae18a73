package matching

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"herolink/internal/emis"
)

// Demographics is what a patient or partner told us about who the patient is.
type Demographics struct {
	NHSNumber   string // optional; spaces and hyphens allowed
	FamilyName  string
	GivenName   string // the first name, optionally followed by middle names
	DateOfBirth string // yyyy-mm-dd
	Postcode    string // optional; only ever breaks a tie
}

// Candidate is one EMIS registration returned by a search. EMISNumber is EMIS's DBID, the number
// staff read off the record and the one a booking is written against.
type Candidate struct {
	EMISNumber  int64
	NHSNumber   string
	FamilyName  string
	FirstNames  string // first name and middle names, as EMIS keeps them
	DateOfBirth string // yyyy-mm-dd
	Postcode    string
}

// CandidateFromEMIS keeps what matching weighs of a GetMatchedPatient answer.
func CandidateFromEMIS(p emis.Patient) Candidate {
	return Candidate{EMISNumber: p.DBID, NHSNumber: p.NhsNumber, FamilyName: p.FamilyName,
		FirstNames: p.FirstNames, DateOfBirth: p.DateOfBirth, Postcode: p.Postcode}
}

const redacted = "[redacted]"

// String keeps demographics out of logs and error messages printed with %v.
func (Demographics) String() string { return redacted }

// LogValue keeps demographics out of structured logs.
func (Demographics) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps a candidate's demographics out of logs; its EMIS number is not sensitive.
func (c Candidate) String() string {
	return "EMIS number " + strconv.FormatInt(c.EMISNumber, 10) + " " + redacted
}

// LogValue logs only the EMIS number.
func (c Candidate) LogValue() slog.Value { return slog.Int64Value(c.EMISNumber) }

// FieldError is one problem with one field of Demographics. Field is the partner API's name for
// it (nhs_number, family_name, given_name, date_of_birth); Code is for programs, Message for
// people. Messages never repeat the value given.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes of FieldError.
const (
	CodeRequired    = "required"      // missing, and nothing else given makes up for it
	CodeFormat      = "format"        // not the expected shape (10 digits, yyyy-mm-dd, no letters)
	CodeCheckDigit  = "check_digit"   // an NHS number failing Modulus 11
	CodeInTheFuture = "in_the_future" // a date of birth after today in London
)

// FieldErrors lists every problem found, so that a 422 answer can show them all at once.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "matching: invalid demographics: " + strings.Join(parts, "; ")
}

// ValidateDemographics reports, field by field, what is wrong with d before any search: an NHS
// number that is not 10 digits or fails its check digit, a date of birth missing, malformed or in
// the future (in London), a name with no letters, and the lack of either a valid NHS number or
// both names. A date of birth is always required because no rule links without one. The error,
// when not nil, is a FieldErrors. The postcode is not checked: it only ever breaks ties.
func ValidateDemographics(d Demographics) error {
	return validateDemographics(d, emis.Today(time.Now()))
}

func validateDemographics(d Demographics, today emis.Date) error {
	var fe FieldErrors
	add := func(field, code, msg string) { fe = append(fe, FieldError{field, code, msg}) }

	_, nhsErr := ValidateNHSNumber(d.NHSNumber)
	switch {
	case errors.Is(nhsErr, ErrNHSNumberFormat):
		add("nhs_number", CodeFormat, "an NHS number is 10 digits, optionally written with spaces or hyphens")
	case errors.Is(nhsErr, ErrNHSNumberCheckDigit):
		add("nhs_number", CodeCheckDigit, ErrNHSNumberCheckDigit.Error())
	}

	switch dob := strings.TrimSpace(d.DateOfBirth); {
	case dob == "":
		add("date_of_birth", CodeRequired, "the date of birth is required")
	default:
		t, err := time.Parse(time.DateOnly, dob)
		if err != nil {
			add("date_of_birth", CodeFormat, "the date of birth must be a real date written yyyy-mm-dd")
		} else if t.Format(time.DateOnly) > today.String() { // both yyyy-mm-dd, four-digit years
			add("date_of_birth", CodeInTheFuture, "the date of birth is in the future")
		}
	}

	names := []struct{ field, value, label string }{
		{"family_name", d.FamilyName, "family name"}, {"given_name", d.GivenName, "given name"}}
	for _, n := range names {
		switch {
		case strings.TrimSpace(n.value) == "":
			if nhsErr != nil {
				add(n.field, CodeRequired, "the "+n.label+" is required unless a valid NHS number is given")
			}
		case NormaliseName(n.value) == "":
			add(n.field, CodeFormat, "the "+n.label+" has no letters")
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// parseDate is s as yyyy-mm-dd if it is a real date in that form, else "".
func parseDate(s string) string {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return t.Format(time.DateOnly)
}
