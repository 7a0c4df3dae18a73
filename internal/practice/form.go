// Package practice connects GP practices to EMIS: the connection form, the connection test
// and its diagnosis in the setup guide's words, the stored connection, and its health.
package practice

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// Form is what a practice manager types on the connection form.
type Form struct {
	ODS      string
	Username string
	Password string // the EMAS Manager API password
}

// String keeps the API password out of formatted output.
func (f Form) String() string {
	return fmt.Sprintf("{ODS:%s Username:%q Password:[redacted]}", f.ODS, f.Username)
}

// GoString keeps the API password out of %#v.
func (f Form) GoString() string { return f.String() }

// LogValue keeps the API password out of logs.
func (f Form) LogValue() slog.Value {
	return slog.GroupValue(slog.String("ods", f.ODS), slog.String("username", f.Username))
}

// SpaceHandling says what to do with spaces at the start or end of the username or password.
type SpaceHandling int

const (
	// SpacesAsk stops and asks: the default, since spaces are almost always a copy-paste slip.
	SpacesAsk SpaceHandling = iota
	// SpacesRemove tests without them (the person chose "test without the spaces").
	SpacesRemove
	// SpacesKeep tests exactly as typed (the person confirmed the spaces are intended).
	SpacesKeep
)

// FieldError is a problem with one field, in words for the person at the form.
type FieldError struct {
	Field   string // ods, username, password
	Message string
}

// SpaceWarning says which field has spaces at the start or end.
type SpaceWarning struct {
	Field    string // username or password
	Label    string // "EMIS username", "API password"
	Leading  bool
	Trailing bool
}

// Message says exactly where the spaces are.
func (w SpaceWarning) Message() string {
	where := "at the end"
	switch {
	case w.Leading && w.Trailing:
		where = "at the start and at the end"
	case w.Leading:
		where = "at the start"
	}
	return fmt.Sprintf("The %s has a space %s. EMIS compares it exactly, so a space copied by accident makes the connection fail.", w.Label, where)
}

var odsRe = regexp.MustCompile(`^[A-Z][0-9]{5}$`)

const (
	maxUsername = 64
	maxPassword = 128
)

// Validate normalises the ODS code (trimmed, upper case) and checks every field. It never
// trims the username or password: spaces there are reported as warnings unless spaces says
// what to do with them. A form with errors or unanswered warnings must not be tested.
func (f Form) Validate(spaces SpaceHandling) (Form, []FieldError, []SpaceWarning) {
	var errs []FieldError
	out := f
	out.ODS = strings.ToUpper(strings.TrimSpace(f.ODS))
	switch {
	case out.ODS == "":
		errs = append(errs, FieldError{"ods", "Enter your practice's ODS code, for example A81001."})
	case !odsRe.MatchString(out.ODS):
		errs = append(errs, FieldError{"ods", fmt.Sprintf("%q is not a GP practice ODS code: it is a letter followed by five digits, for example A81001.", strings.TrimSpace(f.ODS))})
	}
	var warns []SpaceWarning
	check := func(field, label string, v *string, max int) {
		switch {
		case strings.TrimSpace(*v) == "":
			msg := "Enter the EMIS username you created in Step 1 of the setup guide, for example Herouser."
			if field == "password" {
				msg = "Enter the API password you set in EMAS Manager → Edit Users (Step 2 of the setup guide)."
			}
			errs = append(errs, FieldError{field, msg})
			return
		case len(*v) > max:
			errs = append(errs, FieldError{field, fmt.Sprintf("The %s is longer than %d characters.", label, max)})
			return
		case hasControl(*v):
			errs = append(errs, FieldError{field, fmt.Sprintf("The %s contains a tab, line break or other invisible character; type it again.", label)})
			return
		}
		lead := strings.TrimLeftFunc(*v, unicode.IsSpace) != *v
		trail := strings.TrimRightFunc(*v, unicode.IsSpace) != *v
		if !lead && !trail {
			return
		}
		switch spaces {
		case SpacesRemove:
			*v = strings.TrimSpace(*v)
		case SpacesAsk:
			warns = append(warns, SpaceWarning{Field: field, Label: label, Leading: lead, Trailing: trail})
		}
	}
	check("username", "EMIS username", &out.Username, maxUsername)
	check("password", "API password", &out.Password, maxPassword)
	if strings.ContainsAny(strings.TrimSpace(out.Username), " \t") {
		errs = append(errs, FieldError{"username", "EMIS usernames have no spaces inside them; check the username in Organisation Configuration → Users."})
	}
	return out, errs, warns
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
