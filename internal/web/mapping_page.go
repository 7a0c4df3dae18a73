package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

// The mapping page and its forms for slot types, appointment types and refreshes
// (practitioners and locations: mapping_records.go).

type option struct {
	Value    string
	Label    string
	Selected bool
}

type slotTypeRow struct {
	ID           int
	Name         string
	EMISBookable bool
	Feature      string
	FeatureLabel string
	Gone         bool
	Proposed     bool
	Note         string
	Options      []option
}

type appointmentTypeRow struct {
	ID           int64
	SlotTypeName string
	Name         string
	Duration     int
	Published    bool
	Channels     []option
}

type readinessView struct {
	PracticeID int64
	Ready      bool
	Items      []mapping.Item
	OnPractice bool // shown on the practice page: link to the mapping page
}

// section is the page's part for a kind of mapped record.
func (v *mappingView) section(rt *recordRoute) *recordSection {
	for i := range v.Records {
		if v.Records[i].Plural == rt.plural {
			return &v.Records[i]
		}
	}
	panic("web: no mapping page section for " + rt.plural)
}

type mappingView struct {
	base
	Practice         store.Practice
	ConfigReadAt     string
	Done             string
	Problem          string
	ProblemLink      string // the id of the field at fault, for the error summary's link
	Readiness        readinessView
	Records          []recordSection // practitioners, then locations
	SlotTypes        []slotTypeRow
	AppointmentTypes []appointmentTypeRow
	Unmapped         []string // EMIS session holders and sites without a practitioner or location
	MinDuration      int
	MaxDuration      int
	DefaultDuration  int
}

// doneMessages are what the page says after a successful form post (post, redirect, get).
var doneMessages = map[string]string{
	"practitioner_added":     "The practitioner was added.",
	"practitioner_saved":     "The practitioner was saved.",
	"practitioner_deleted":   "The practitioner was deleted.",
	"location_added":         "The location was added.",
	"location_saved":         "The location was saved.",
	"location_deleted":       "The location was deleted.",
	"feature_saved":          "The slot type was saved.",
	"appointment_type_saved": "The appointment type was saved.",
	"refreshed":              "herolink read the appointment configuration from EMIS just now.",
}

func (s *server) mappingPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	v, err := s.mappingView(r, u, p)
	if err != nil {
		s.serverError(w, r, &u, "load mapping page", err)
		return
	}
	q := r.URL.Query()
	if q.Get("done") == "imported" {
		v.Done = importedMessage(atoi(q.Get("p")), atoi(q.Get("l")), atoi(q.Get("m")))
	} else {
		v.Done = doneMessages[q.Get("done")]
	}
	s.render(w, r, http.StatusOK, "mapping", "", v)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 100000 {
		return 0
	}
	return n
}

func importedMessage(practitioners, locations, linked int) string {
	if practitioners+locations+linked == 0 {
		return "Nothing to import: every session holder and site EMIS lists has a practitioner or location already."
	}
	msg := fmt.Sprintf("Imported from EMIS: %s and %s added", plural(practitioners, "practitioner"), plural(locations, "location"))
	if linked > 0 {
		msg += fmt.Sprintf(", %s mapped by name", plural(linked, "existing record"))
	}
	return msg + "."
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (s *server) mappingView(r *http.Request, u store.StaffUser, p store.Practice) (mappingView, error) {
	su, err := s.mapping().Setup(r.Context(), p.ID)
	if err != nil {
		return mappingView{}, err
	}
	v := mappingView{base: newBase("Online booking setup – "+p.Name, &u), Practice: su.Practice,
		Readiness:   readinessView{PracticeID: p.ID, Ready: su.Readiness.Ready, Items: su.Readiness.Items},
		MinDuration: mapping.MinDuration, MaxDuration: mapping.MaxDuration, DefaultDuration: mapping.DefaultDuration}
	if !su.ConfigReadAt.IsZero() {
		v.ConfigReadAt = when(su.ConfigReadAt)
	}

	editing := r.URL.Query().Get("edit") // "practitioners-12": that row's form is open
	for _, rt := range recordRoutes {
		id, _ := strconv.ParseInt(strings.TrimPrefix(editing, rt.plural+"-"), 10, 64)
		if !strings.HasPrefix(editing, rt.plural+"-") {
			id = 0
		}
		v.Records = append(v.Records, newRecordSection(rt, su, id))
		for _, c := range su.Choices(rt.kind) {
			if c.Record == nil && !c.Gone {
				v.Unmapped = append(v.Unmapped, rt.kind.EMISWhat+" "+c.Name)
			}
		}
	}

	slotTypeNames := map[int]string{}
	for _, t := range su.SlotTypes {
		slotTypeNames[t.EMISID] = t.Name
		row := slotTypeRow{ID: t.EMISID, Name: t.Name, EMISBookable: t.EMISBookable, Feature: t.Feature,
			FeatureLabel: mapping.FeatureLabel(t.Feature), Gone: t.Gone, Proposed: t.Proposed}
		switch {
		case t.Gone:
			row.Note = "EMIS no longer lists this slot type: it is not synced or offered."
		case t.Feature == store.FeatureBookable && !t.EMISBookable:
			row.Note = "EMIS now marks this slot type not bookable, so it is not offered. Tick Bookable in EMIS, then refresh."
		case t.Proposed:
			row.Note = "Proposed for Unregistered Patient Booking: it is the setup guide's slot type."
		case t.Feature == store.FeatureUnset:
			row.Note = "Not offered until you choose."
		}
		if t.Feature == store.FeatureUnset {
			row.Options = append(row.Options, option{Value: "", Label: "Choose…", Selected: !t.Proposed})
		}
		for _, f := range mapping.Features {
			row.Options = append(row.Options, option{Value: f, Label: mapping.FeatureLabel(f),
				Selected: f == t.Feature || t.Feature == store.FeatureUnset && t.Proposed && f == store.FeatureUnregistered})
		}
		v.SlotTypes = append(v.SlotTypes, row)
	}
	for _, a := range su.AppointmentTypes {
		row := appointmentTypeRow{ID: a.ID, SlotTypeName: slotTypeNames[a.EMISSlotTypeID], Name: a.Name, Duration: a.DurationMinutes, Published: a.Published}
		for _, c := range mapping.Channels {
			row.Channels = append(row.Channels, option{Value: c, Label: mapping.ChannelLabel(c), Selected: c == a.Channel})
		}
		v.AppointmentTypes = append(v.AppointmentTypes, row)
	}
	return v, nil
}

// readinessPanel is the readiness list alone, which the practice page loads with htmx. Without
// htmx it is the mapping page's section.
func (s *server) readinessPanel(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	w.Header().Set("Vary", "HX-Request")
	if r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, mappingPath(p.ID)+"#readiness", http.StatusSeeOther)
		return
	}
	rd, err := s.mapping().Readiness(r.Context(), p.ID)
	if err != nil {
		s.serverError(w, r, &u, "load readiness", err)
		return
	}
	s.render(w, r, http.StatusOK, "mapping", "readiness_panel",
		readinessView{PracticeID: p.ID, Ready: rd.Ready, Items: rd.Items, OnPractice: true})
}

func mappingPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/mapping"
}

// formDone redirects back to the page after a successful form post.
func formDone(w http.ResponseWriter, r *http.Request, practiceID int64, done, anchor string, extra url.Values) {
	q := url.Values{"done": {done}}
	for k, vs := range extra {
		q[k] = vs
	}
	http.Redirect(w, r, mappingPath(practiceID)+"?"+q.Encode()+"#"+anchor, http.StatusSeeOther)
}

// formRefused shows the page again with what was refused, and the status that says why.
func (s *server) formRefused(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, err error, keep func(*mappingView)) {
	status, me := refusal(err)
	if me == nil {
		s.serverError(w, r, &u, "mapping", err)
		return
	}
	v, verr := s.mappingView(r, u, p)
	if verr != nil {
		s.serverError(w, r, &u, "load mapping page", verr)
		return
	}
	v.Problem = me.Message
	if keep != nil {
		keep(&v)
	}
	s.render(w, r, status, "mapping", "", v)
}

// formID reads an optional EMIS id from a form field: "" is none.
func formID(r *http.Request, field string) (int64, error) {
	raw := strings.TrimSpace(r.PostForm.Get(field))
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, &mapping.Error{Kind: mapping.ErrInvalid, Field: field, Message: "Choose an entry from the list."}
	}
	return id, nil
}

func (s *server) parseForm(w http.ResponseWriter, r *http.Request, u store.StaffUser) bool {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, &u, http.StatusBadRequest, "Online booking setup", "The form could not be read. Go back and try again.")
		return false
	}
	return true
}

func (s *server) formSetFeature(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	typeID := pathID(r, "typeId")
	if typeID > 1<<31-1 {
		typeID = 0
	}
	if _, err := s.mapping().SetFeature(r.Context(), u.Username, p.ID, int(typeID), r.PostForm.Get("feature")); err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "feature_saved", "slot-types", nil)
}

func (s *server) formUpdateAppointmentType(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	name, channel := r.PostForm.Get("name"), r.PostForm.Get("channel")
	duration, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("duration_minutes")))
	if err != nil {
		s.formRefused(w, r, u, p, &mapping.Error{Kind: mapping.ErrInvalid, Field: "duration_minutes",
			Message: fmt.Sprintf("Enter the duration as a number of minutes, between %d and %d.", mapping.MinDuration, mapping.MaxDuration)}, nil)
		return
	}
	if _, err := s.mapping().UpdateAppointmentType(r.Context(), u.Username, p.ID, pathID(r, "atid"),
		mapping.AppointmentTypePatch{Name: &name, DurationMinutes: &duration, Channel: &channel}); err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "appointment_type_saved", "appointment-types", nil)
}

func (s *server) formRefresh(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if _, err := s.mapping().RefreshFromEMIS(r.Context(), u.Username, p.ID); err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "refreshed", "emis", nil)
}

func (s *server) formImport(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	imp, err := s.mapping().ImportFromEMIS(r.Context(), u.Username, p.ID)
	if err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "imported", "practitioners", url.Values{
		"p": {strconv.Itoa(imp.PractitionersCreated)}, "l": {strconv.Itoa(imp.LocationsCreated)},
		"m": {strconv.Itoa(imp.PractitionersLinked + imp.LocationsLinked)}})
}
