package web

import (
	"bytes"
	"embed"
	"fmt"
	"herolink/internal/booking"
	"herolink/internal/matching"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/practice"
	"herolink/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates: each page file with the layout and the shared partials.
type pages struct {
	byName map[string]*template.Template
}

// Files under templates/ starting with "_" are the layout and partials shared by every page.
func mustParsePages() *pages {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		file := strings.TrimPrefix(name, "templates/")
		if strings.HasPrefix(file, "_") {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, name))
		p.byName[strings.TrimSuffix(file, ".html")] = t
	}
	return p
}

// base is what every page's view has: its title and who is signed in.
type base struct {
	Title string
	User  *viewer
	Nav   []navItem // set by render from the request (nav.go)
	CSS   string
	JS    string
}

// viewer is the signed-in person as pages show them.
type viewer struct {
	Name       string
	Support    bool
	PracticeID int64
}

func newBase(title string, u *store.StaffUser) base {
	b := base{Title: title, CSS: assetPrefix + cssFile, JS: assetPrefix + jsFile}
	if u != nil {
		name := u.DisplayName
		if name == "" {
			name = u.Username
		}
		b.User = &viewer{Name: name, Support: u.Role == store.RoleSupport, PracticeID: u.PracticeID}
	}
	return b
}

// render executes a page's layout (or one named block of it, for htmx) into a buffer first, so
// a template error is a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, block string, data any) {
	t, ok := s.pages.byName[page]
	if !ok {
		s.log.Error("no such page template", "page", page)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	if block == "" {
		block = "layout"
	}
	if block == "layout" {
		data = withNav(r, data)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	out := buf.Bytes()
	if block == "layout" {
		out = errorTitle(out)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// errorTitle starts the page's title with "Error: " when the page shows an error summary, so
// that a screen reader user hears at once that the form came back with a problem (WCAG 2.2,
// NHS.UK error summary). Decided here, from what the page shows, so no page can forget it.
func errorTitle(page []byte) []byte {
	if !bytes.Contains(page, []byte(`class="nhsuk-error-summary"`)) || bytes.Contains(page, []byte("<title>Error: ")) {
		return page
	}
	return bytes.Replace(page, []byte("<title>"), []byte("<title>Error: "), 1)
}

// problems is one error for the error summary, from a template: the field's id and the message.
func problems(field, msg string) []fieldError { return []fieldError{{Field: field, Message: msg}} }

type errorView struct {
	base
	Heading string
	Message string
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, u *store.StaffUser, status int, heading, msg string) {
	s.render(w, r, status, "error", "", errorView{base: newBase(heading, u), Heading: heading, Message: msg})
}

// serverError logs what went wrong (errors never hold secrets: see DESIGN.md) and shows a page
// that says nothing about it.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, u *store.StaffUser, what string, err error) {
	s.log.Error(what, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, u, http.StatusInternalServerError, "Sorry, there is a problem with herolink",
		"Something went wrong on our side. Try again in a few minutes; if it keeps happening, contact herolink support.")
}

var funcs = template.FuncMap{
	"statusTag":   statusTag,
	"statusText":  statusText,
	"checkTag":    checkTag,
	"checkText":   checkText,
	"when":        when,
	"auditAction": auditAction,
	"field":       field,
	"ago":         ago,
	"matchReason": matchReason,
	"span":        span,
	"problems":    problems,
}

// span says a duration the way staff read it: "45 seconds", "12 minutes", "3 hours 5 minutes", "2 days 4 hours".
func span(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if m == 0 {
			return plural(h, "hour")
		}
		return plural(h, "hour") + " " + plural(m, "minute")
	}
	days, h := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return plural(days, "day")
	}
	return plural(days, "day") + " " + plural(h, "hour")
}

// ago says how long before now t was, to the second: "12s ago", "never".
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

// fieldView is one input of the connection form with its errors.
type fieldView struct {
	Name, Label, Hint, Value, Type, Width string
	Errors                                []string
}

func field(v connectView, name, label, hint, value, typ, width string) fieldView {
	return fieldView{Name: name, Label: label, Hint: hint, Value: value, Type: typ, Width: width, Errors: v.ErrorsFor(name)}
}

// statusTag is the NHS tag colour of a connection health status.
func statusTag(status string) string {
	switch status {
	case store.HealthConnected:
		return "nhsuk-tag--green"
	case store.HealthDegraded:
		return "nhsuk-tag--orange"
	case store.HealthFailing:
		return "nhsuk-tag--red"
	}
	return "nhsuk-tag--grey"
}

func statusText(status string) string {
	switch status {
	case store.HealthConnected:
		return "Connected"
	case store.HealthDegraded:
		return "Degraded"
	case store.HealthFailing:
		return "Failing"
	case store.HealthNotConnected, "":
		return "Not connected"
	}
	return status
}

func checkTag(st practice.Status) string {
	switch st {
	case practice.Pass:
		return "nhsuk-tag--green"
	case practice.Fail:
		return "nhsuk-tag--red"
	}
	return "nhsuk-tag--grey"
}

func checkText(st practice.Status) string {
	switch st {
	case practice.Pass:
		return "Pass"
	case practice.Fail:
		return "Fail"
	}
	return "Not reached"
}

// when shows a time as practice staff read it: London wall-clock time.
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(emis.London).Format("2 January 2006 at 15:04")
}

// matchReason says in plain words why a placeholder's patient was not matched.
func matchReason(rule string) string {
	switch rule {
	case matching.RuleNoCandidates, matching.RuleNoMatch:
		return "No EMIS record agrees on the patient’s names and date of birth."
	case matching.RuleSeveralCandidates, matching.RuleNHSNumberSeveral:
		return "Several EMIS records fit equally well."
	case matching.RuleNHSNumberDOBMismatch:
		return "The NHS number belongs to a record with another date of birth."
	case matching.RuleNHSNumberNameMismatch, matching.RuleNHSNumberNamesConflict:
		return "The NHS number belongs to a record with another first name."
	case matching.RuleDemographicsNHSConflict:
		return "The record with these names holds a different NHS number."
	case matching.RuleNHSNumberNotFound:
		return "No EMIS record holds this NHS number."
	case matching.RuleSearchIncomplete:
		return "EMIS returned too many records to be sure."
	case booking.RuleMatchTimedOut:
		return "EMIS did not answer the patient search in time."
	case booking.RuleEMISPatientNotFound:
		return "The EMIS number herolink had is no longer on the register."
	case booking.RuleEMISRecordChanged:
		return "The EMIS record herolink had linked no longer agrees with the patient’s details."
	}
	return "herolink could not be certain which record is the patient’s (" + rule + ")."
}
