package api

import (
	"net/http"
	"strconv"

	"herolink/internal/booking"
)

// The practice group's published records: appointment types, locations, practitioners.

type appointmentTypeJSON struct {
	ID              string `json:"id"`
	PracticeID      string `json:"practice_id"`
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
	Channel         string `json:"channel"`
}

type locationJSON struct {
	ID         string `json:"id"`
	PracticeID string `json:"practice_id"`
	Name       string `json:"name"`
}

type practitionerJSON struct {
	ID         string `json:"id"`
	PracticeID string `json:"practice_id"`
	Name       string `json:"name"`
}

func practiceID(id int64) string { return strconv.FormatInt(id, 10) }

func mapAll[A, B any](xs []A, f func(A) B) []B {
	out := make([]B, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// noQuery refuses query parameters on routes that take none.
func noQuery(r *http.Request) *Problem { return parseQuery(r).problem() }

func (s *server) appointmentTypes(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	types, err := s.cfg.Booking.AppointmentTypes(r.Context(), c.group)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(mapAll(types, func(t booking.AppointmentType) appointmentTypeJSON {
		return appointmentTypeJSON{ID: t.ID, PracticeID: practiceID(t.PracticeID), Name: t.Name, DurationMinutes: t.DurationMinutes, Channel: t.Channel}
	}), ""))
}

func (s *server) locations(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	locs, err := s.cfg.Booking.Locations(r.Context(), c.group)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(mapAll(locs, func(l booking.Location) locationJSON {
		return locationJSON{ID: l.ID, PracticeID: practiceID(l.PracticeID), Name: l.Name}
	}), ""))
}

func (s *server) practitioners(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	prs, err := s.cfg.Booking.Practitioners(r.Context(), c.group)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, listOf(mapAll(prs, func(p booking.Practitioner) practitionerJSON {
		return practitionerJSON{ID: p.ID, PracticeID: practiceID(p.PracticeID), Name: p.Name}
	}), ""))
}
