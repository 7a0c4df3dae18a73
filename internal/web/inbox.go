package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/store"
)

// The reconciliation inbox as JSON beside the Bookings page: every placeholder waiting, with
// what staff need to decide, the practice's figures, and the actions "booked by hand in EMIS"
// and cancel (link is in placeholders.go). The patient and the candidates EMIS returned are for
// the practice's own staff: herolink support see references, reasons and figures only.

type inboxJSONItem struct {
	ID                 string                    `json:"id"`
	Reference          string                    `json:"reference"`
	StartAt            string                    `json:"start_at"`
	LengthMinutes      int                       `json:"length_minutes"`
	Description        string                    `json:"description"`
	AppointmentType    string                    `json:"appointment_type"`
	Location           string                    `json:"location"`
	Practitioners      []string                  `json:"practitioners"`
	BookedBy           inboxBookedBy             `json:"booked_by"`
	WhyNotLinked       string                    `json:"why_not_linked"`
	WhyNotLinkedDetail string                    `json:"why_not_linked_detail,omitempty"` // staff only
	SearchedAt         *string                   `json:"searched_at"`
	WaitingSince       string                    `json:"waiting_since"`
	WaitedSeconds      int64                     `json:"waited_seconds"`
	Overdue            bool                      `json:"overdue"`
	Alerted            bool                      `json:"alerted"` // the same as overdue; kept for existing readers
	Linking            bool                      `json:"linking"` // staff linked an EMIS number; herolink is booking it
	Patient            *inboxPatient             `json:"patient,omitempty"`
	Candidates         *[]booking.InboxCandidate `json:"candidates,omitempty"`
}

type inboxBookedBy struct {
	Partner string `json:"partner"` // the partner's API key name; "" when booked without one
	At      string `json:"at"`
}

type inboxPatient struct {
	booking.Details
	Postcode string `json:"postcode,omitempty"`
}

type inboxFiguresJSON struct {
	Open                 int     `json:"open"`
	OldestWaitingSince   *string `json:"oldest_waiting_since"`
	OldestWaitedSeconds  int64   `json:"oldest_waited_seconds"`
	Overdue              int     `json:"overdue"`
	ResolvedLast30Days   int     `json:"resolved_last_30_days"`
	MedianResolveSeconds int64   `json:"median_resolve_seconds"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

// listPlaceholdersJSON is GET /admin/practices/{id}/placeholders: the inbox, oldest waiting
// first, with the practice's figures.
func (s *server) listPlaceholdersJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	in, err := s.cfg.Booking.Inbox(r.Context(), p.ID)
	if err != nil {
		s.log.Error("placeholders", "practice", p.ID, "err", err)
		fail(w, http.StatusInternalServerError, "internal_error", serverTrouble)
		return
	}
	out := make([]inboxJSONItem, 0, len(in.Items))
	for _, it := range in.Items {
		j := inboxJSONItem{ID: it.ID, Reference: it.Reference, StartAt: rfc3339(it.StartAt), LengthMinutes: it.LengthMin,
			Description: it.Description, AppointmentType: it.AppointmentType, Location: it.Location, Practitioners: nonNil(it.Practitioners),
			BookedBy:     inboxBookedBy{Partner: it.Partner, At: rfc3339(it.BookedAt)},
			WhyNotLinked: it.MatchRule, SearchedAt: optionalTime(it.SearchedAt),
			WaitingSince: rfc3339(it.Since), WaitedSeconds: int64(it.Waited / time.Second), Overdue: it.Overdue, Alerted: it.Overdue,
			Linking: it.Linking}
		if u.Role != store.RoleSupport {
			j.Patient = &inboxPatient{Details: it.Typed, Postcode: it.Postcode}
			cs := it.Candidates
			if cs == nil {
				cs = []booking.InboxCandidate{}
			}
			j.Candidates = &cs
			j.WhyNotLinkedDetail = matchReason(it.MatchRule)
			if it.WhyNot != "" {
				j.WhyNotLinkedDetail += " " + it.WhyNot // matching's own sentence, about the candidates staff see
			}
		}
		out = append(out, j)
	}
	f := inboxFiguresJSON{Open: in.Figures.Open, OldestWaitingSince: optionalTime(in.Figures.OldestSince), Overdue: in.OverdueCount(),
		ResolvedLast30Days: in.Figures.Resolved, MedianResolveSeconds: int64(in.Figures.MedianResolve / time.Second)}
	if !in.Figures.OldestSince.IsZero() {
		f.OldestWaitedSeconds = int64(in.Now.Sub(in.Figures.OldestSince) / time.Second)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "count": len(out), "figures": f,
		"overdue_after_minutes": int(in.Threshold / time.Minute)})
}

// decodeJSONBody reads one JSON object into v, strictly, answering the problem itself when it
// cannot; false then.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	if ct := r.Header.Get("Content-Type"); !isJSONContentType(ct) {
		fail(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the request as application/json.")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "invalid_json", "The body must be one JSON object "+shape+": "+jsonErrorText(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		fail(w, http.StatusBadRequest, "invalid_json", "The body must hold one JSON object and nothing after it.")
		return false
	}
	return true
}

type bookedInEMISJSONRequest struct {
	ConfirmMismatch bool   `json:"confirm_mismatch"`
	Reason          string `json:"reason"`
}

// bookedInEMISJSON is POST /admin/practices/{id}/placeholders/{aid}/booked-in-emis: staff
// booked the patient by hand in EMIS; herolink checks the slot and follows the appointment.
func (s *server) bookedInEMISJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if u.Role == store.RoleSupport {
		fail(w, http.StatusForbidden, "forbidden", "Only the practice's own staff say a placeholder was booked in EMIS.")
		return
	}
	var req bookedInEMISJSONRequest
	if !decodeJSONBody(w, r, &req, "{confirm_mismatch, reason}") {
		return
	}
	check, err := s.cfg.Booking.MarkBookedInEMIS(r.Context(), p.ID, r.PathValue("aid"), booking.BookedInEMISRequest{
		ConfirmMismatch: req.ConfirmMismatch, Reason: req.Reason, Actor: u.Username})
	if err != nil {
		s.linkProblem(w, r, p, err)
		return
	}
	writeJSON(w, http.StatusOK, linkJSONAnswer{AppointmentID: check.AppointmentID, Reference: check.Reference, EMISNumber: check.EMISNumber,
		Status: "booked", Detail: fmt.Sprintf("%s now follows the appointment EMIS holds in its slot for EMIS number %d.", check.Reference, check.EMISNumber),
		Typed: check.Typed, Record: check.Record, Disagree: nonNil(check.Disagree)})
}

type cancelPlaceholderJSONRequest struct {
	Reason string `json:"reason"`
}

// cancelPlaceholderJSON is POST /admin/practices/{id}/placeholders/{aid}/cancel: the booking is
// cancelled (the partner is told by appointment.cancelled) and herolink removes the
// placeholder from EMIS.
func (s *server) cancelPlaceholderJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if u.Role == store.RoleSupport {
		fail(w, http.StatusForbidden, "forbidden", "Only the practice's own staff cancel a placeholder.")
		return
	}
	var req cancelPlaceholderJSONRequest
	if !decodeJSONBody(w, r, &req, "{reason}") {
		return
	}
	id := r.PathValue("aid")
	row, err := s.cfg.Store.Appointment(r.Context(), s.cfg.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.PracticeID != p.ID) {
		fail(w, http.StatusNotFound, string(booking.CodeNotFound), "There is no booking "+id+" at this practice.")
		return
	}
	if err != nil {
		s.log.Error("cancel placeholder", "practice", p.ID, "err", err)
		fail(w, http.StatusInternalServerError, "internal_error", serverTrouble)
		return
	}
	if row.State != string(booking.StatePlaceholder) {
		fail(w, http.StatusConflict, string(booking.CodeInvalidState), fmt.Sprintf("Booking %s is %s, not a placeholder.", row.Reference, row.State))
		return
	}
	a, err := s.cfg.Booking.StaffCancel(r.Context(), p.ID, id, strings.TrimSpace(req.Reason), u.Username)
	if err != nil {
		s.linkProblem(w, r, p, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"appointment_id": a.ID, "reference": row.Reference, "status": string(a.State),
		"detail": "The booking is cancelled and its partner told. herolink is removing the placeholder from EMIS."})
}

type thresholdJSONRequest struct {
	Minutes *int `json:"minutes"`
}

// placeholderThresholdJSON is PUT /admin/practices/{id}/placeholders/threshold {minutes}: how
// long a placeholder may wait before it is overdue.
func (s *server) placeholderThresholdJSON(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	var req thresholdJSONRequest
	if !decodeJSONBody(w, r, &req, "{minutes}") {
		return
	}
	if req.Minutes == nil || *req.Minutes < 1 || *req.Minutes > 1440 {
		writeProblem(w, problem{Status: http.StatusUnprocessableEntity, Code: string(booking.CodeInvalid), Detail: "minutes is a whole number from 1 to 1440",
			Errors: []fieldProblem{{Field: "minutes", Code: "range", Message: "give the minutes a placeholder may wait, from 1 to 1440 (a day)"}}})
		return
	}
	if err := s.setThreshold(r, u, p, *req.Minutes); err != nil {
		s.log.Error("placeholder threshold", "practice", p.ID, "err", err)
		fail(w, http.StatusInternalServerError, "internal_error", serverTrouble)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"overdue_after_minutes": *req.Minutes})
}

func (s *server) setThreshold(r *http.Request, u store.StaffUser, p store.Practice, minutes int) error {
	return s.cfg.Store.SetPlaceholderOverdue(r.Context(), p.ID, time.Duration(minutes)*time.Minute, store.AuditEntry{Actor: u.Username,
		Action: "placeholder_threshold_changed", PracticeID: p.ID, Detail: fmt.Sprintf("placeholders are overdue after %d minutes", minutes)})
}

// formBookedInEMIS is the page's "Booked by hand in EMIS" button; a second post with a
// confirmation and a reason follows an appointment for a record whose details differ.
func (s *server) formBookedInEMIS(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	id := r.PathValue("aid")
	if u.Role == store.RoleSupport {
		s.renderBookings(w, r, u, p, http.StatusForbidden, id, "Only the practice's own staff say a placeholder was booked in EMIS.")
		return
	}
	_, err := s.cfg.Booking.MarkBookedInEMIS(r.Context(), p.ID, id, booking.BookedInEMISRequest{
		ConfirmMismatch: r.PostForm.Get("confirm_mismatch") == "yes", Reason: r.PostForm.Get("reason"), Actor: u.Username})
	var me *booking.MismatchError
	if errors.As(err, &me) {
		s.renderBookingsWith(w, r, u, p, http.StatusConflict, func(v *bookingsView) {
			v.Error, v.ErrorFor, v.BookedCheck = "The patient EMIS holds in the slot does not agree with what the patient typed. If they are the same person, tick the box and say why.", id, &me.Check
		})
		return
	}
	if err != nil {
		s.linkRefused(w, r, u, p, id, err)
		return
	}
	bookingsDone(w, r, p.ID, "booked_in_emis")
}

// formPlaceholderThreshold saves the practice's threshold from the page.
func (s *server) formPlaceholderThreshold(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	minutes, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("overdue_minutes")))
	if err != nil || minutes < 1 || minutes > 1440 {
		s.renderBookings(w, r, u, p, http.StatusUnprocessableEntity, "threshold", "Enter the minutes a placeholder may wait as a whole number from 1 to 1440 (a day).")
		return
	}
	if err := s.setThreshold(r, u, p, minutes); err != nil {
		s.serverError(w, r, &u, "placeholder threshold", err)
		return
	}
	bookingsDone(w, r, p.ID, "threshold")
}
