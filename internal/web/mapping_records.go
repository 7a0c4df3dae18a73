package web

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

// Practitioners and locations (herolink records mapped 1:1 to an EMIS id) are served by one set
// of handlers, JSON and forms alike, for a recordRoute.

// recordRoute is how one kind of mapped record appears at /admin: its paths, its JSON
// names and its page section.
type recordRoute struct {
	kind     *mapping.RecordKind
	plural   string // the path segment and page anchor: "practitioners"
	idParam  string // the path wildcard of one record: "pid"
	emisJSON string // the JSON members of the EMIS entry: emis_holder_id, _name, _gone
	title    string // the page section's heading: "Practitioners"
	column   string // the table's EMIS column: "EMIS session holder"
	intro    string // what the section says first
	body     reflect.Type
}

var recordRoutes = []*recordRoute{
	{kind: mapping.Practitioners, plural: "practitioners", idParam: "pid", emisJSON: "emis_holder",
		title: "Practitioners", column: "EMIS session holder",
		intro: "Each practitioner can be mapped to one EMIS session holder, and each session holder to one practitioner. Patients can book only practitioners mapped to a session holder; the others are platform-only."},
	{kind: mapping.Locations, plural: "locations", idParam: "lid", emisJSON: "emis_site",
		title: "Locations", column: "EMIS site",
		intro: "Each location can be mapped to one EMIS site, and each site to one location. Unmapped locations are platform-only."},
}

func init() {
	for _, rt := range recordRoutes {
		// The body's members are named after the kind ({"name", "emis_holder_id"}); decodeJSON
		// refuses any other, so the struct is built with those tags.
		rt.body = reflect.StructOf([]reflect.StructField{
			{Name: "Name", Type: reflect.TypeFor[*string](), Tag: `json:"name"`},
			{Name: "EMIS", Type: reflect.TypeFor[optionalID](), Tag: reflect.StructTag(`json:"` + rt.kind.Field + `"`)},
		})
	}
}

// routeRecords serves a kind's JSON endpoints and forms.
func (s *server) routeRecords(mux *http.ServeMux, rt *recordRoute) {
	base := "/admin/practices/{id}/" + rt.plural
	one := base + "/{" + rt.idParam + "}"
	mux.Handle("GET "+base, s.practiceJSON(rt.list(s)))
	mux.Handle("POST "+base, s.practiceJSON(rt.createJSON(s)))
	mux.Handle("PATCH "+one, s.practiceJSON(rt.updateJSON(s)))
	mux.Handle("DELETE "+one, s.practiceJSON(rt.deleteJSON(s)))
	form := "/admin/practices/{id}/mapping/" + rt.plural
	mux.Handle("POST "+form, s.practiceForm(rt.createForm(s)))
	mux.Handle("POST "+form+"/{"+rt.idParam+"}", s.practiceForm(rt.updateForm(s)))
	mux.Handle("POST "+form+"/{"+rt.idParam+"}/delete", s.practiceForm(rt.deleteForm(s)))
}

// recordJSON is a record as the JSON endpoints show it: id, name and the EMIS entry's id, name
// and whether EMIS still lists it, named after the kind (emis_holder_id, emis_site_id...).
func (rt *recordRoute) json(v mapping.RecordView) map[string]any {
	out := map[string]any{"id": v.ID, "name": v.Name, rt.emisJSON + "_id": nil, rt.emisJSON + "_name": nil, rt.emisJSON + "_gone": false}
	if v.EMISID != 0 {
		out[rt.emisJSON+"_id"] = v.EMISID
	}
	if v.EMIS != nil {
		out[rt.emisJSON+"_name"], out[rt.emisJSON+"_gone"] = v.EMIS.Name, v.EMIS.Gone
	}
	return out
}

// decode reads a record's JSON body: its name (nil: left out) and EMIS id (set or not).
func (rt *recordRoute) decode(r *http.Request) (*string, optionalID, *mapping.Error) {
	body := reflect.New(rt.body)
	if err := decodeJSON(r, body.Interface()); err != nil {
		return nil, optionalID{}, err
	}
	name, _ := body.Elem().Field(0).Interface().(*string)
	emisID, _ := body.Elem().Field(1).Interface().(optionalID)
	return name, emisID, nil
}

func (rt *recordRoute) id(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id := pathID(r, rt.idParam)
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no "+rt.kind.What+" at this address.", "")
	}
	return id, id != 0
}

func (rt *recordRoute) list(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
		su, err := s.mapping().Setup(r.Context(), p.ID)
		if err != nil {
			s.mappingFail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, list(mapJSON(su.Records(rt.kind), rt.json)))
	}
}

func (rt *recordRoute) createJSON(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		name, emisID, derr := rt.decode(r)
		if derr != nil {
			jsonFail(w, http.StatusUnprocessableEntity, derr.Message, derr.Field)
			return
		}
		if name == nil {
			name = new(string)
		}
		v, err := s.mapping().CreateRecord(r.Context(), rt.kind, u.Username, p.ID, *name, emisID.id)
		if err != nil {
			s.mappingFail(w, r, err)
			return
		}
		w.Header().Set("Location", fmt.Sprintf("/admin/practices/%d/%s/%d", p.ID, rt.plural, v.ID))
		writeJSON(w, http.StatusCreated, rt.json(v))
	}
}

func (rt *recordRoute) updateJSON(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		id, ok := rt.id(w, r)
		if !ok {
			return
		}
		name, emisID, derr := rt.decode(r)
		if derr != nil {
			jsonFail(w, http.StatusUnprocessableEntity, derr.Message, derr.Field)
			return
		}
		var to *int64
		if emisID.set {
			to = &emisID.id
		}
		v, err := s.mapping().UpdateRecord(r.Context(), rt.kind, u.Username, p.ID, id, name, to)
		if err != nil {
			s.mappingFail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rt.json(v))
	}
}

func (rt *recordRoute) deleteJSON(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		id, ok := rt.id(w, r)
		if !ok {
			return
		}
		if err := s.mapping().DeleteRecord(r.Context(), rt.kind, u.Username, p.ID, id); err != nil {
			s.mappingFail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// ---- Forms ----

func (rt *recordRoute) createForm(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		if !s.parseForm(w, r, u) {
			return
		}
		name := r.PostForm.Get("name")
		emisID, err := formID(r, rt.kind.Field)
		if err == nil {
			_, err = s.mapping().CreateRecord(r.Context(), rt.kind, u.Username, p.ID, name, emisID)
		}
		if err != nil {
			s.formRefused(w, r, u, p, err, func(v *mappingView) {
				sec := v.section(rt)
				sec.New.Name, sec.New.Options, sec.New.Error = name, sec.options(emisID), v.Problem
				v.ProblemLink = "new-" + rt.kind.What + rt.fieldSuffix(err)
			})
			return
		}
		formDone(w, r, p.ID, rt.kind.What+"_added", rt.plural, nil)
	}
}

func (rt *recordRoute) updateForm(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		if !s.parseForm(w, r, u) {
			return
		}
		id := pathID(r, rt.idParam)
		name := r.PostForm.Get("name")
		emisID, err := formID(r, rt.kind.Field)
		if err == nil {
			_, err = s.mapping().UpdateRecord(r.Context(), rt.kind, u.Username, p.ID, id, &name, &emisID)
		}
		if err != nil {
			// The row stays open with what was typed, beside the reason.
			s.formRefused(w, r, u, p, err, func(v *mappingView) {
				if v.section(rt).edit(id, name, emisID, v.Problem) {
					v.ProblemLink = fmt.Sprintf("%s-%d%s", rt.kind.What, id, rt.fieldSuffix(err))
				}
			})
			return
		}
		formDone(w, r, p.ID, rt.kind.What+"_saved", rt.plural, nil)
	}
}

func (rt *recordRoute) deleteForm(s *server) practiceHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
		if err := s.mapping().DeleteRecord(r.Context(), rt.kind, u.Username, p.ID, pathID(r, rt.idParam)); err != nil {
			s.formRefused(w, r, u, p, err, nil)
			return
		}
		formDone(w, r, p.ID, rt.kind.What+"_deleted", rt.plural, nil)
	}
}

// ---- The page's sections ----

// recordRow is a practitioner or location with the EMIS entries it may be mapped to.
type recordRow struct {
	ID       int64
	Name     string
	MappedTo string // the holder or site's name; "" when platform-only
	Gone     bool   // mapped to something EMIS no longer lists
	Editing  bool   // the row shows its form (?edit=, or a refused change)
	Error    string // why the change typed into the row (or the add form) was refused
	Options  []option
}

// recordSection is one kind's part of the mapping page: a table that reads at a glance, one
// row open for editing at a time, and the form to add one.
type recordSection struct {
	PracticeID int64
	Plural     string
	Title      string
	Intro      string
	What       string // "practitioner"
	Field      string // "emis_holder_id"
	Column     string // "EMIS session holder"
	Rows       []recordRow
	New        recordRow
	choices    []mapping.EMISChoice
}

func (sec *recordSection) options(selected int64) []option {
	opts := []option{{Value: "", Label: "None: platform-only", Selected: selected == 0}}
	for _, c := range sec.choices {
		if c.Gone && c.EMISID != selected {
			continue
		}
		label := c.Name
		switch {
		case c.Gone:
			label += " (no longer in EMIS)"
		case c.MappedTo != "" && c.EMISID != selected:
			label += " (mapped to " + c.MappedTo + ")"
		}
		opts = append(opts, option{Value: strconv.FormatInt(c.EMISID, 10), Label: label, Selected: c.EMISID == selected})
	}
	return opts
}

// edit opens a row's form with what was typed and why it was refused; false if there is no
// such row (it was deleted meanwhile).
func (sec *recordSection) edit(id int64, name string, emisID int64, problem string) bool {
	for i := range sec.Rows {
		if sec.Rows[i].ID == id {
			sec.Rows[i].Editing, sec.Rows[i].Name, sec.Rows[i].Options, sec.Rows[i].Error = true, name, sec.options(emisID), problem
			return true
		}
	}
	return false
}

// fieldSuffix is the end of the id of the input a refusal is about: "-name" or "-emis".
func (rt *recordRoute) fieldSuffix(err error) string {
	if _, me := refusal(err); me != nil && me.Field == rt.kind.Field {
		return "-emis"
	}
	return "-name"
}

func newRecordSection(rt *recordRoute, su mapping.Setup, editing int64) recordSection {
	sec := recordSection{PracticeID: su.Practice.ID, Plural: rt.plural, Title: rt.title, Intro: rt.intro, What: rt.kind.What,
		Field: rt.kind.Field, Column: rt.column, choices: su.Choices(rt.kind)}
	for _, rec := range su.Records(rt.kind) {
		row := recordRow{ID: rec.ID, Name: rec.Name, Editing: rec.ID == editing, Options: sec.options(rec.EMISID)}
		if rec.EMIS != nil {
			row.MappedTo, row.Gone = rec.EMIS.Name, rec.EMIS.Gone
		}
		sec.Rows = append(sec.Rows, row)
	}
	sec.New = recordRow{Options: sec.options(0)}
	return sec
}
