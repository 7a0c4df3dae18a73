package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/store"
)

// bookingsView is the practice's bookings page: placeholders to reconcile, bookings waiting
// for EMIS, recent bookings and the booking policy.
type bookingsView struct {
	base
	Practice     store.Practice
	Placeholders []booking.StaffItem
	Waiting      []booking.StaffItem
	Recent       []store.AppointmentRow
	HoldMinutes  int
	CutoffHours  int
	Done         string
	Error        string
	ErrorFor     string // the booking id or "policy" the error is about
}

func bookingsPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/bookings"
}

func (s *server) bookingsPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	s.renderBookings(w, r, u, p, http.StatusOK, "", "")
}

func (s *server) renderBookings(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, status int, errFor, msg string) {
	if s.cfg.Booking == nil {
		s.errorPage(w, r, &u, http.StatusNotFound, "Page not found", "Bookings are not enabled on this server.")
		return
	}
	ctx := r.Context()
	placeholders, waiting, err := s.cfg.Booking.StaffQueue(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "staff queue", err)
		return
	}
	recent, err := s.cfg.Store.AppointmentsWhere(ctx, p.ID, "booked", "cancelled", "failed")
	if err != nil {
		s.serverError(w, r, &u, "recent bookings", err)
		return
	}
	if len(recent) > 50 {
		recent = recent[len(recent)-50:]
	}
	pol, err := s.cfg.Store.BookingPolicy(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "booking policy", err)
		return
	}
	v := bookingsView{base: newBase("Bookings", &u), Practice: p, Placeholders: placeholders, Waiting: waiting, Recent: recent,
		HoldMinutes: int(pol.Hold / time.Minute), CutoffHours: int(pol.CancelCutoff / time.Hour),
		Done: bookingDoneMessages[r.URL.Query().Get("done")], Error: msg, ErrorFor: errFor}
	s.render(w, r, status, "bookings", "", v)
}

var bookingDoneMessages = map[string]string{
	"linked":    "The patient is linked. herolink is replacing the placeholder with their appointment in EMIS.",
	"cancelled": "The booking is cancelled. herolink is freeing the slot in EMIS.",
	"policy":    "The booking policy is saved.",
}

func bookingsDone(w http.ResponseWriter, r *http.Request, practiceID int64, done string) {
	http.Redirect(w, r, bookingsPath(practiceID)+"?"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
}

// formLinkPlaceholder is staff entering the EMIS number of a placeholder's patient.
func (s *server) formLinkPlaceholder(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	id := r.PathValue("aid")
	raw := strings.TrimSpace(r.PostForm.Get("emis_number"))
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		n = 0 // LinkPlaceholder explains what an EMIS number looks like
	}
	if err := s.cfg.Booking.LinkPlaceholder(r.Context(), p.ID, id, n, u.Username); err != nil {
		s.bookingRefused(w, r, u, p, id, err)
		return
	}
	bookingsDone(w, r, p.ID, "linked")
}

// formStaffCancel cancels a booking for staff, who may do so inside the cut-off.
func (s *server) formStaffCancel(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	id := r.PathValue("aid")
	if _, err := s.cfg.Booking.StaffCancel(r.Context(), p.ID, id, strings.TrimSpace(r.PostForm.Get("reason")), u.Username); err != nil {
		s.bookingRefused(w, r, u, p, id, err)
		return
	}
	bookingsDone(w, r, p.ID, "cancelled")
}

// formBookingPolicy saves the hold length and the online cancellation cut-off.
func (s *server) formBookingPolicy(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	hold, err1 := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("hold_minutes")))
	cutoff, err2 := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("cutoff_hours")))
	switch {
	case err1 != nil || hold < 1 || hold > 120:
		s.renderBookings(w, r, u, p, http.StatusUnprocessableEntity, "policy", "Enter the hold as a number of minutes between 1 and 120.")
		return
	case err2 != nil || cutoff < 0 || cutoff > 24*14:
		s.renderBookings(w, r, u, p, http.StatusUnprocessableEntity, "policy", "Enter the cut-off as a number of hours between 0 and 336 (two weeks).")
		return
	}
	pol := store.BookingPolicy{Hold: time.Duration(hold) * time.Minute, CancelCutoff: time.Duration(cutoff) * time.Hour}
	if err := s.cfg.Store.SetBookingPolicy(r.Context(), p.ID, pol, store.AuditEntry{Actor: u.Username, Action: "booking_policy_changed",
		PracticeID: p.ID, Detail: fmt.Sprintf("hold %d minutes, online cancellation until %d hours before", hold, cutoff)}); err != nil {
		s.serverError(w, r, &u, "booking policy", err)
		return
	}
	bookingsDone(w, r, p.ID, "policy")
}

func (s *server) bookingRefused(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, id string, err error) {
	var be *booking.Error
	if !errors.As(err, &be) {
		s.serverError(w, r, &u, "booking", err)
		return
	}
	status := http.StatusUnprocessableEntity
	switch be.Code {
	case booking.CodeNotFound:
		status = http.StatusNotFound
	case booking.CodeInvalidState:
		status = http.StatusConflict
	}
	s.renderBookings(w, r, u, p, status, id, be.Message)
}
