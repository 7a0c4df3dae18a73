package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"herolink/internal/mapping"
	"herolink/internal/staff"
	"herolink/internal/store"
)

// The sync setup of a practice: the mapping page (forms that post, redirect and show the page
// again) and JSON endpoints under the practice for the same actions. Both need a staff session;
// practice users reach only their own practice.

// mapping is the sync setup service over the pages' store and EMIS connections.
func (s *server) mapping() *mapping.Service {
	if s.cfg.Mapping != nil {
		return s.cfg.Mapping
	}
	m := &mapping.Service{Store: s.cfg.Store, Log: s.log}
	if s.cfg.Practices != nil {
		m.Conns = s.cfg.Practices
	}
	return m
}

// ---- JSON ----

type jsonList[T any] struct {
	Data  []T `json:"data"`
	Count int `json:"count"`
}

func list[T any](xs []T) jsonList[T] {
	if xs == nil {
		xs = []T{}
	}
	return jsonList[T]{Data: xs, Count: len(xs)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jsonFail answers an admin JSON endpoint's refusal in the partner API's problem+json shape:
// a stable code from the status, the message as detail, and the field at fault, if one is.
func jsonFail(w http.ResponseWriter, status int, msg, field string) {
	code := statusCode(status)
	p := problem{Status: status, Code: code, Detail: msg}
	if field != "" {
		p.Errors = []fieldProblem{{Field: field, Code: code, Message: msg}}
	}
	writeProblem(w, p)
}

// statusCode is the problem code of an admin JSON answer's status.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_json"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusBadGateway:
		return "emis_unavailable"
	}
	return "internal_error"
}

// wantsJSON tells the JSON endpoints' callers from browsers' form posts, for the actions both use.
func wantsJSON(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data"
}

type practiceHandler func(http.ResponseWriter, *http.Request, store.StaffUser, store.Practice)

// practiceJSON requires a staff session allowed to see the practice in the path, answering in
// JSON when not: 401 without a session, 403 for another practice's user, 404.
func (s *server) practiceJSON(h practiceHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.currentUser(r)
		if errors.Is(err, staff.ErrNoSession) {
			jsonFail(w, http.StatusUnauthorized, "Sign in to herolink first.", "")
			return
		}
		if err != nil {
			s.log.Error("look up session", "path", r.URL.Path, "err", err)
			jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			jsonFail(w, http.StatusNotFound, "There is no practice at this address.", "")
			return
		}
		if u.Role != store.RoleSupport && u.PracticeID != id {
			jsonFail(w, http.StatusForbidden, "Your herolink account is for one practice only, and this is not it.", "")
			return
		}
		p, err := s.cfg.Store.PracticeByID(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			jsonFail(w, http.StatusNotFound, "There is no practice at this address.", "")
			return
		}
		if err != nil {
			s.log.Error("load practice", "path", r.URL.Path, "err", err)
			jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		h(w, r, u, p)
	})
}

const serverTrouble = "Something went wrong on our side. Try again in a few minutes; if it keeps happening, contact herolink support."

// practiceForm requires a staff session allowed to see the practice, answering with pages.
func (s *server) practiceForm(h practiceHandler) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
		p, ok := s.practiceFor(w, r, u)
		if !ok {
			return
		}
		h(w, r, u, p)
	})
}

// negotiated serves an action both the page's forms and JSON callers post to.
func (s *server) negotiated(jsonH, formH practiceHandler) http.Handler {
	j, f := s.practiceJSON(jsonH), s.practiceForm(formH)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept, Content-Type")
		if wantsJSON(r) {
			j.ServeHTTP(w, r)
			return
		}
		f.ServeHTTP(w, r)
	})
}

// mappingFail answers a refused or failed change in JSON.
func (s *server) mappingFail(w http.ResponseWriter, r *http.Request, err error) {
	if status, me := refusal(err); me != nil {
		jsonFail(w, status, me.Message, me.Field)
		return
	}
	s.log.Error("mapping", "path", r.URL.Path, "err", err)
	jsonFail(w, http.StatusInternalServerError, serverTrouble, "")
}

// refusal is the HTTP status of a change the mapping service refused (nil: not a refusal).
func refusal(err error) (int, *mapping.Error) {
	var me *mapping.Error
	if !errors.As(err, &me) {
		return 0, nil
	}
	switch {
	case errors.Is(err, mapping.ErrInvalid):
		return http.StatusUnprocessableEntity, me
	case errors.Is(err, mapping.ErrConflict):
		return http.StatusConflict, me
	case errors.Is(err, mapping.ErrNotFound):
		return http.StatusNotFound, me
	}
	return http.StatusBadGateway, me
}

// decodeJSON reads one JSON object strictly (unknown fields refused) into v.
func decodeJSON(r *http.Request, v any) *mapping.Error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body is too large or could not be read."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &mapping.Error{Kind: mapping.ErrInvalid, Field: typeErr.Field, Message: fmt.Sprintf("%s must be %s.", typeErr.Field, jsonKind(typeErr))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &mapping.Error{Kind: mapping.ErrInvalid, Field: field, Message: fmt.Sprintf("There is no field %q here.", field)}
	case errors.Is(err, io.EOF):
		return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body must be a JSON object."}
	}
	return &mapping.Error{Kind: mapping.ErrInvalid, Message: "The request body is not a valid JSON object."}
}

// jsonKind says what a field's value must be, in words.
func jsonKind(e *json.UnmarshalTypeError) string {
	switch kind := e.Type.Kind(); {
	case strings.HasSuffix(e.Field, "_id"):
		return "an id from the lists herolink gives (a positive whole number), or null"
	case kind >= reflect.Int && kind <= reflect.Int64:
		return "a whole number"
	case kind == reflect.String:
		return "a string"
	}
	return "of another type"
}

// optionalID is an id a PATCH may set (a number), clear (null) or leave out.
type optionalID struct {
	set bool
	id  int64 // 0: null
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.id = 0
		return nil
	}
	if err := json.Unmarshal(b, &o.id); err != nil {
		return err
	}
	if o.id <= 0 {
		return &json.UnmarshalTypeError{Value: "number " + string(b), Type: reflect.TypeFor[int64]()}
	}
	return nil
}

type practitionerJSON struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	EMISHolderID   *int64  `json:"emis_holder_id"`
	EMISHolderName *string `json:"emis_holder_name"`
	EMISHolderGone bool    `json:"emis_holder_gone"`
}

func toPractitionerJSON(p mapping.PractitionerView) practitionerJSON {
	out := practitionerJSON{ID: p.ID, Name: p.Name}
	if p.EMISHolderID != 0 {
		out.EMISHolderID = &p.EMISHolderID
	}
	if p.Holder != nil {
		out.EMISHolderName, out.EMISHolderGone = &p.Holder.DisplayName, p.Holder.Gone
	}
	return out
}

type locationJSON struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	EMISSiteID   *int64  `json:"emis_site_id"`
	EMISSiteName *string `json:"emis_site_name"`
	EMISSiteGone bool    `json:"emis_site_gone"`
}

func toLocationJSON(l mapping.LocationView) locationJSON {
	out := locationJSON{ID: l.ID, Name: l.Name}
	if l.EMISSiteID != 0 {
		out.EMISSiteID = &l.EMISSiteID
	}
	if l.Site != nil {
		out.EMISSiteName, out.EMISSiteGone = &l.Site.Name, l.Site.Gone
	}
	return out
}

type slotTypeJSON struct {
	ID                   int    `json:"id"`
	Name                 string `json:"name"`
	Colour               string `json:"colour"`
	EMISBookable         bool   `json:"emis_bookable"`
	Feature              string `json:"feature"`
	Gone                 bool   `json:"gone"`
	ProposedUnregistered bool   `json:"proposed_unregistered"`
	AppointmentTypeID    *int64 `json:"appointment_type_id"`
}

func toSlotTypeJSON(t mapping.SlotTypeView) slotTypeJSON {
	out := slotTypeJSON{ID: t.EMISID, Name: t.Name, Colour: t.Colour, EMISBookable: t.EMISBookable, Feature: t.Feature,
		Gone: t.Gone, ProposedUnregistered: t.Proposed}
	if t.AppointmentTypeID != 0 {
		out.AppointmentTypeID = &t.AppointmentTypeID
	}
	return out
}

type appointmentTypeJSON struct {
	ID              int64  `json:"id"`
	EMISSlotTypeID  int    `json:"emis_slot_type_id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	Channel         string `json:"channel"`
	Published       bool   `json:"published"`
}

func toAppointmentTypeJSON(a store.AppointmentType) appointmentTypeJSON {
	return appointmentTypeJSON{ID: a.ID, EMISSlotTypeID: a.EMISSlotTypeID, Name: a.Name, DurationMinutes: a.DurationMinutes,
		Channel: a.Channel, Published: a.Published}
}

func mapJSON[A, B any](xs []A, f func(A) B) []B {
	out := make([]B, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// pathID reads a positive id from the path; 0 if it is not one.
func pathID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func (s *server) listPractitionersJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	prs, err := s.mapping().Practitioners(r.Context(), p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(mapJSON(prs, toPractitionerJSON)))
}

type practitionerBody struct {
	Name         *string    `json:"name"`
	EMISHolderID optionalID `json:"emis_holder_id"`
}

func (s *server) createPractitionerJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	var body practitionerBody
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	in := mapping.PractitionerInput{EMISHolderID: body.EMISHolderID.id}
	if body.Name != nil {
		in.Name = *body.Name
	}
	pr, err := s.mapping().CreatePractitioner(r.Context(), u.Username, p.ID, in)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/admin/practices/%d/practitioners/%d", p.ID, pr.ID))
	writeJSON(w, http.StatusCreated, toPractitionerJSON(pr))
}

func (s *server) updatePractitionerJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := pathID(r, "pid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no practitioner at this address.", "")
		return
	}
	var body practitionerBody
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	patch := mapping.PractitionerPatch{Name: body.Name}
	if body.EMISHolderID.set {
		patch.EMISHolderID = &body.EMISHolderID.id
	}
	pr, err := s.mapping().UpdatePractitioner(r.Context(), u.Username, p.ID, id, patch)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPractitionerJSON(pr))
}

func (s *server) deletePractitionerJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := pathID(r, "pid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no practitioner at this address.", "")
		return
	}
	if err := s.mapping().DeletePractitioner(r.Context(), u.Username, p.ID, id); err != nil {
		s.mappingFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listLocationsJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	locs, err := s.mapping().Locations(r.Context(), p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(mapJSON(locs, toLocationJSON)))
}

type locationBody struct {
	Name       *string    `json:"name"`
	EMISSiteID optionalID `json:"emis_site_id"`
}

func (s *server) createLocationJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	var body locationBody
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	in := mapping.LocationInput{EMISSiteID: body.EMISSiteID.id}
	if body.Name != nil {
		in.Name = *body.Name
	}
	l, err := s.mapping().CreateLocation(r.Context(), u.Username, p.ID, in)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/admin/practices/%d/locations/%d", p.ID, l.ID))
	writeJSON(w, http.StatusCreated, toLocationJSON(l))
}

func (s *server) updateLocationJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := pathID(r, "lid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no location at this address.", "")
		return
	}
	var body locationBody
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	patch := mapping.LocationPatch{Name: body.Name}
	if body.EMISSiteID.set {
		patch.EMISSiteID = &body.EMISSiteID.id
	}
	l, err := s.mapping().UpdateLocation(r.Context(), u.Username, p.ID, id, patch)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLocationJSON(l))
}

func (s *server) deleteLocationJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := pathID(r, "lid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no location at this address.", "")
		return
	}
	if err := s.mapping().DeleteLocation(r.Context(), u.Username, p.ID, id); err != nil {
		s.mappingFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listSlotTypesJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	types, err := s.mapping().SlotTypes(r.Context(), p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(mapJSON(types, toSlotTypeJSON)))
}

func (s *server) setFeatureJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	typeID := pathID(r, "typeId")
	if typeID == 0 || typeID > 1<<31-1 {
		jsonFail(w, http.StatusNotFound, "There is no slot type at this address.", "")
		return
	}
	var body struct {
		Feature *string `json:"feature"`
	}
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	if body.Feature == nil {
		jsonFail(w, http.StatusUnprocessableEntity, "Choose Bookable, Not Bookable or Unregistered Patient Booking.", "feature")
		return
	}
	t, err := s.mapping().SetFeature(r.Context(), u.Username, p.ID, int(typeID), *body.Feature)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSlotTypeJSON(t))
}

func (s *server) listAppointmentTypesJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	ats, err := s.mapping().AppointmentTypes(r.Context(), p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list(mapJSON(ats, toAppointmentTypeJSON)))
}

func (s *server) appointmentTypeJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	id := pathID(r, "atid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no appointment type at this address.", "")
		return
	}
	a, err := s.mapping().AppointmentType(r.Context(), p.ID, id)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentTypeJSON(a))
}

func (s *server) updateAppointmentTypeJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := pathID(r, "atid")
	if id == 0 {
		jsonFail(w, http.StatusNotFound, "There is no appointment type at this address.", "")
		return
	}
	var body struct {
		Name            *string `json:"name"`
		DurationMinutes *int    `json:"duration_minutes"`
		Channel         *string `json:"channel"`
	}
	if err := decodeJSON(r, &body); err != nil {
		jsonFail(w, http.StatusUnprocessableEntity, err.Message, err.Field)
		return
	}
	a, err := s.mapping().UpdateAppointmentType(r.Context(), u.Username, p.ID, id,
		mapping.AppointmentTypePatch{Name: body.Name, DurationMinutes: body.DurationMinutes, Channel: body.Channel})
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentTypeJSON(a))
}

func (s *server) readinessJSON(w http.ResponseWriter, r *http.Request, _ store.StaffUser, p store.Practice) {
	rd, err := s.mapping().Readiness(r.Context(), p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	out := toReadinessJSON(rd)
	if out.SyncedBy, err = s.cfg.Store.SyncLeaseHolder(r.Context(), p.ID); err != nil {
		s.mappingFail(w, r, fmt.Errorf("read the sync lease: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type refreshJSON struct {
	Sites          int      `json:"sites"`
	SessionHolders int      `json:"session_holders"`
	SlotTypes      int      `json:"slot_types"`
	Gone           []string `json:"gone"`
	Removed        int      `json:"removed"`
}

func toRefreshJSON(c store.ConfigurationSaved) refreshJSON {
	out := refreshJSON{Sites: c.Sites, SessionHolders: c.Holders, SlotTypes: c.SlotTypes, Gone: c.Gone, Removed: c.Removed}
	if out.Gone == nil {
		out.Gone = []string{}
	}
	return out
}

func (s *server) refreshJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	saved, err := s.mapping().RefreshFromEMIS(r.Context(), u.Username, p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRefreshJSON(saved))
}

func (s *server) importJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	imp, err := s.mapping().ImportFromEMIS(r.Context(), u.Username, p.ID)
	if err != nil {
		s.mappingFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"practitioners_created": imp.PractitionersCreated,
		"practitioners_linked":  imp.PractitionersLinked,
		"locations_created":     imp.LocationsCreated,
		"locations_linked":      imp.LocationsLinked,
		"configuration":         toRefreshJSON(imp.Configuration),
	})
}

// ---- The page ----

type option struct {
	Value    string
	Label    string
	Selected bool
}

// recordRow is a practitioner or location with the EMIS records it may be mapped to.
type recordRow struct {
	ID       int64
	Name     string
	MappedTo string // the holder or site's name; "" when platform-only
	Gone     bool   // mapped to something EMIS no longer lists
	Options  []option
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

type mappingView struct {
	base
	Practice         store.Practice
	ConfigReadAt     string
	Done             string
	Problem          string
	Readiness        readinessView
	Practitioners    []recordRow
	Locations        []recordRow
	NewPractitioner  recordRow
	NewLocation      recordRow
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

	holderOptions := func(selected int64) []option {
		opts := []option{{Value: "", Label: "None: platform-only", Selected: selected == 0}}
		for _, h := range su.Holders {
			if h.Gone && h.EMISID != selected {
				continue
			}
			label := h.DisplayName
			switch {
			case h.Gone:
				label += " (no longer in EMIS)"
			case h.Practitioner != nil && h.EMISID != selected:
				label += " (mapped to " + h.Practitioner.Name + ")"
			}
			opts = append(opts, option{Value: strconv.FormatInt(h.EMISID, 10), Label: label, Selected: h.EMISID == selected})
		}
		return opts
	}
	for _, pr := range su.Practitioners {
		row := recordRow{ID: pr.ID, Name: pr.Name, Options: holderOptions(pr.EMISHolderID)}
		if pr.Holder != nil {
			row.MappedTo, row.Gone = pr.Holder.DisplayName, pr.Holder.Gone
		}
		v.Practitioners = append(v.Practitioners, row)
	}
	v.NewPractitioner = recordRow{Options: holderOptions(0)}

	siteOptions := func(selected int64) []option {
		opts := []option{{Value: "", Label: "None: platform-only", Selected: selected == 0}}
		for _, site := range su.Sites {
			if site.Gone && site.EMISID != selected {
				continue
			}
			label := site.Name
			switch {
			case site.Gone:
				label += " (no longer in EMIS)"
			case site.Location != nil && site.EMISID != selected:
				label += " (mapped to " + site.Location.Name + ")"
			}
			opts = append(opts, option{Value: strconv.FormatInt(site.EMISID, 10), Label: label, Selected: site.EMISID == selected})
		}
		return opts
	}
	for _, l := range su.Locations {
		row := recordRow{ID: l.ID, Name: l.Name, Options: siteOptions(l.EMISSiteID)}
		if l.Site != nil {
			row.MappedTo, row.Gone = l.Site.Name, l.Site.Gone
		}
		v.Locations = append(v.Locations, row)
	}
	v.NewLocation = recordRow{Options: siteOptions(0)}

	for _, h := range su.Holders {
		if h.Practitioner == nil && !h.Gone {
			v.Unmapped = append(v.Unmapped, "session holder "+h.DisplayName)
		}
	}
	for _, site := range su.Sites {
		if site.Location == nil && !site.Gone {
			v.Unmapped = append(v.Unmapped, "site "+site.Name)
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

func (s *server) formCreatePractitioner(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	name := r.PostForm.Get("name")
	keep := func(v *mappingView) { v.NewPractitioner.Name = name }
	holder, err := formID(r, "emis_holder_id")
	if err == nil {
		_, err = s.mapping().CreatePractitioner(r.Context(), u.Username, p.ID, mapping.PractitionerInput{Name: name, EMISHolderID: holder})
	}
	if err != nil {
		s.formRefused(w, r, u, p, err, keep)
		return
	}
	formDone(w, r, p.ID, "practitioner_added", "practitioners", nil)
}

func (s *server) formUpdatePractitioner(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	name := r.PostForm.Get("name")
	holder, err := formID(r, "emis_holder_id")
	if err == nil {
		_, err = s.mapping().UpdatePractitioner(r.Context(), u.Username, p.ID, pathID(r, "pid"),
			mapping.PractitionerPatch{Name: &name, EMISHolderID: &holder})
	}
	if err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "practitioner_saved", "practitioners", nil)
}

func (s *server) formDeletePractitioner(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if err := s.mapping().DeletePractitioner(r.Context(), u.Username, p.ID, pathID(r, "pid")); err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "practitioner_deleted", "practitioners", nil)
}

func (s *server) formCreateLocation(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	name := r.PostForm.Get("name")
	keep := func(v *mappingView) { v.NewLocation.Name = name }
	site, err := formID(r, "emis_site_id")
	if err == nil {
		_, err = s.mapping().CreateLocation(r.Context(), u.Username, p.ID, mapping.LocationInput{Name: name, EMISSiteID: site})
	}
	if err != nil {
		s.formRefused(w, r, u, p, err, keep)
		return
	}
	formDone(w, r, p.ID, "location_added", "locations", nil)
}

func (s *server) formUpdateLocation(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	name := r.PostForm.Get("name")
	site, err := formID(r, "emis_site_id")
	if err == nil {
		_, err = s.mapping().UpdateLocation(r.Context(), u.Username, p.ID, pathID(r, "lid"),
			mapping.LocationPatch{Name: &name, EMISSiteID: &site})
	}
	if err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "location_saved", "locations", nil)
}

func (s *server) formDeleteLocation(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if err := s.mapping().DeleteLocation(r.Context(), u.Username, p.ID, pathID(r, "lid")); err != nil {
		s.formRefused(w, r, u, p, err, nil)
		return
	}
	formDone(w, r, p.ID, "location_deleted", "locations", nil)
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
