package api

import (
	"net/http"
	"time"

	"herolink/internal/booking"
)

// maxSlotDays is the widest slot search: start_date to end_date inclusive.
const maxSlotDays = booking.MaxSlotRangeDays

type slotJSON struct {
	ID                string   `json:"id"`
	PracticeID        string   `json:"practice_id"`
	Start             string   `json:"start"`
	End               string   `json:"end"`
	AppointmentTypeID *string  `json:"appointment_type_id"`
	LocationID        *string  `json:"location_id"`
	PractitionerIDs   []string `json:"practitioner_ids"`
}

func toSlotJSON(sl booking.Slot) slotJSON {
	ids := sl.PractitionerIDs
	if ids == nil {
		ids = []string{}
	}
	return slotJSON{ID: sl.ID, PracticeID: practiceID(sl.PracticeID), Start: mustTime(sl.StartAt), End: mustTime(sl.EndAt),
		AppointmentTypeID: str(sl.AppointmentTypeID), LocationID: str(sl.LocationID), PractitionerIDs: ids}
}

// slotQuery reads GET /v1/slots's parameters: both dates required, end not before start, at
// most maxSlotDays days, a page size and a cursor.
func slotQuery(r *http.Request) (booking.SlotQuery, *Problem) {
	q := parseQuery(r, "start_date", "end_date", "location_id", "practitioner_id", "appointment_type_id", "limit", "cursor")
	if p := q.problem(); p != nil && q.values == nil {
		return booking.SlotQuery{}, p
	}
	var sq booking.SlotQuery
	from, okFrom := q.date("start_date")
	to, okTo := q.date("end_date")
	if okFrom && okTo {
		switch days := calendarDays(from, to); {
		case to.Before(from):
			q.fields = append(q.fields, FieldProblem{Field: "end_date", Code: "before_start", Message: "end_date must be on or after start_date"})
		case days > maxSlotDays:
			q.fields = append(q.fields, FieldProblem{Field: "end_date", Code: "range_too_long",
				Message: "end_date must be at most 56 days from start_date, both included"})
		}
	}
	sq.From, sq.To = from, to
	sq.LocationID = q.value("location_id")
	sq.PractitionerID = q.value("practitioner_id")
	sq.AppointmentTypeID = q.value("appointment_type_id")
	var fields []FieldProblem
	sq.Limit, sq.Cursor, fields = parsePage(q.get)
	q.fields = append(q.fields, fields...)
	for _, f := range []struct{ name, v string }{{"location_id", sq.LocationID}, {"practitioner_id", sq.PractitionerID},
		{"appointment_type_id", sq.AppointmentTypeID}} {
		if len(f.v) > maxIDLength {
			q.fields = append(q.fields, FieldProblem{Field: f.name, Code: "invalid", Message: f.name + " is not an id herolink gives"})
		}
	}
	if p := q.problem(); p != nil {
		return booking.SlotQuery{}, p
	}
	return sq, nil
}

func (s *server) slots(w http.ResponseWriter, r *http.Request, c *call) error {
	sq, p := slotQuery(r)
	if p != nil {
		return p
	}
	body, err := s.cfg.Booking.SlotsEncoded(r.Context(), c.group, sq, func(page booking.SlotPage) []byte {
		return appendSlotList(make([]byte, 0, 64+len(page.Slots)*240), page.Slots, page.NextCursor)
	})
	if err != nil {
		return err
	}
	writeBody(w, body)
	return nil
}

func (s *server) slot(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	sl, err := s.cfg.Booking.Slot(r.Context(), c.group, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toSlotJSON(sl))
}

// calendarDays counts the dates from from to to, both included (clock changes make some London
// days 23 or 25 hours long, so this counts dates, not hours).
func calendarDays(from, to time.Time) int {
	utc := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	return int(utc(to).Sub(utc(from)).Hours()/24) + 1
}
