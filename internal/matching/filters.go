package matching

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// SearchFilters gives the GetMatchedPatient filters to run for d, most specific first. Run them
// all and give Decide the union of what they return: each later filter exists to find registrations
// the earlier ones miss, and a registration missed is a twin or a namesake Decide cannot weigh.
//
// GetMatchedPatient is a free-text search in which every term must match: a 10-digit term is an
// NHS number, dd/mm/yyyy a date of birth (yyyy-mm-dd is read as a name and matches nothing), a
// postcode-shaped term a postcode, and any other word a case-insensitive prefix of a word of the
// family name or first names. It does not fold accents or punctuation: "sean" does not find
// "Seán", "obrien" does not find "O'Brien", "jones" does not find "Smith-Jones". So names are sent
// as their first run of letters ("O'Brien" as "o", "Smith-Jones" as "smith"), once as typed and
// once without accents, which finds the usual spellings; the last filter, the date of birth alone,
// finds every registration with that birthday whatever its names ("OBrien" typed, "O'Brien" kept).
//
// The filters:
//
//  1. the NHS number, if valid (to find its holder even when the other details disagree);
//  2. family name, first name and date of birth, as typed;
//  3. the same without accents, if that differs;
//  4. the date of birth alone.
//
// Without a valid date of birth only the NHS number is searched: nothing else can link.
// The postcode is never a search term: a filter narrowed by it would hide the namesakes elsewhere.
func SearchFilters(d Demographics) []string {
	var out []string
	add := func(terms ...string) {
		var kept []string
		for _, t := range terms {
			if t != "" {
				kept = append(kept, t)
			}
		}
		f := strings.Join(kept, " ")
		for _, seen := range out {
			if seen == f {
				return
			}
		}
		out = append(out, f)
	}
	if n := validNHSNumber(d.NHSNumber); n != "" {
		add(n)
	}
	dob := parseDate(d.DateOfBirth)
	if dob == "" {
		return out
	}
	t, _ := time.Parse(time.DateOnly, dob)
	emisDOB := t.Format("02/01/2006")
	family, given := firstLetters(d.FamilyName), firstLetters(d.GivenName)
	if family != "" || given != "" {
		add(family, given, emisDOB)
		// Re-read as letters: stripping a mark can leave a space where a letter decomposed to
		// one (U+037A is a space and a combining iota), which EMIS would read as a word break.
		add(firstLetters(stripAccents(family)), firstLetters(stripAccents(given)), emisDOB)
	}
	add(emisDOB)
	return out
}

// firstLetters is the first run of letters in s, lower-cased, accents kept: a prefix every
// spelling of the name that NormaliseName would accept starts with, and a word EMIS cannot take
// for a date, an NHS number or a postcode.
func firstLetters(s string) string {
	var b strings.Builder
	for _, r := range norm.NFC.String(strings.ToLower(s)) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		} else if b.Len() > 0 {
			break
		}
	}
	return b.String()
}

// stripAccents removes combining marks and spells the letters that do not decompose in ASCII, so
// that "seán" becomes "sean" and "łukasz" "lukasz".
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		case foldSpecial[r] != "":
			b.WriteString(foldSpecial[r])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
