package web

import (
	"fmt"
	"net/http"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

// The sync setup's JSON endpoints for slot types, appointment types, readiness and refreshes
// (practitioners and locations: mapping_records.go).

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
