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
	// Check is the EMIS record staff named beside what the patient typed, before linking.
	Check      *booking.RecordCheck
	CheckRows  []checkRow
	CheckError string
	// Inbox is every placeholder waiting, with its details, and the practice's figures.
	Inbox booking.Inbox
	// BookedCheck is the patient EMIS holds in a placeholder's slot, beside what the patient
	// typed, when they disagree and staff said it was booked by hand in EMIS.
	BookedCheck *booking.RecordCheck
}

func bookingsPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/bookings"
}

func (s *server) bookingsPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	s.renderBookings(w, r, u, p, http.StatusOK, "", "")
}

func (s *server) renderBookings(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, status int, errFor, msg string) {
	s.renderBookingsWith(w, r, u, p, status, func(v *bookingsView) { v.Error, v.ErrorFor = msg, errFor })
}

func (s *server) renderBookingsWith(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, status int, edit func(*bookingsView)) {
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
	inbox, err := s.cfg.Booking.Inbox(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "reconciliation inbox", err)
		return
	}
	v := bookingsView{base: newBase("Bookings", &u), Practice: p, Placeholders: placeholders, Waiting: waiting, Recent: recent,
		HoldMinutes: int(pol.Hold / time.Minute), CutoffHours: int(pol.CancelCutoff / time.Hour),
		Done: bookingDoneMessages[r.URL.Query().Get("done")], Inbox: inbox}
	edit(&v)
	s.render(w, r, status, "bookings", "", v)
}

var bookingDoneMessages = map[string]string{
	"linking":        "herolink is replacing the placeholder with the patient's appointment in EMIS. It shows as booked once EMIS holds the appointment.",
	"cancelled":      "The booking is cancelled. herolink is freeing the slot in EMIS.",
	"policy":         "The booking policy is saved.",
	"booked_in_emis": "EMIS holds the appointment booked by hand: herolink now follows it, and the placeholder is gone.",
	"threshold":      "The time a placeholder may wait is saved.",
}

func bookingsDone(w http.ResponseWriter, r *http.Request, practiceID int64, done string) {
	http.Redirect(w, r, bookingsPath(practiceID)+"?"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
}

// formLinkPlaceholder is staff entering the EMIS number of a placeholder's patient. The first
// post reads the record from EMIS and shows it beside what the patient typed; the second
// (step=link) links it, with a confirmation and a reason when the details disagree.
func (s *server) formLinkPlaceholder(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	id := r.PathValue("aid")
	if u.Role == store.RoleSupport {
		s.renderBookings(w, r, u, p, http.StatusForbidden, id, "Only the practice's own staff link a patient to an EMIS record.")
		return
	}
	raw := strings.TrimSpace(r.PostForm.Get("emis_number"))
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		n = 0 // the booking service explains what an EMIS number looks like
	}
	ctx := r.Context()
	if r.PostForm.Get("step") != "link" {
		check, err := s.cfg.Booking.CheckLink(ctx, p.ID, id, n)
		if err != nil {
			s.linkRefused(w, r, u, p, id, err)
			return
		}
		s.renderCheck(w, r, u, p, http.StatusOK, check, "")
		return
	}
	_, err = s.cfg.Booking.LinkPlaceholder(ctx, p.ID, id, booking.LinkRequest{EMISNumber: n,
		ConfirmMismatch: r.PostForm.Get("confirm_mismatch") == "yes", Reason: r.PostForm.Get("reason"), Actor: u.Username})
	var me *booking.MismatchError
	if errors.As(err, &me) {
		s.renderCheck(w, r, u, p, http.StatusConflict, me.Check,
			"The record’s details disagree with what the patient typed. Check the EMIS number; if this record is the patient, tick the box and say why.")
		return
	}
	if booking.CodeOf(err) == booking.CodeInvalid && r.PostForm.Get("confirm_mismatch") == "yes" {
		if check, cerr := s.cfg.Booking.CheckLink(ctx, p.ID, id, n); cerr == nil {
			s.renderCheck(w, r, u, p, http.StatusUnprocessableEntity, check, "Say why this record is the patient although the details disagree (for example, a married name).")
			return
		}
	}
	if err != nil {
		s.linkRefused(w, r, u, p, id, err)
		return
	}
	bookingsDone(w, r, p.ID, "linking")
}

// linkRefused is bookingRefused for a link, which also fails when EMIS cannot be read.
func (s *server) linkRefused(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, id string, err error) {
	var be *booking.Error
	if !errors.As(err, &be) {
		// EMIS did not answer the record read, or the connection is not usable: nothing changed.
		s.log.Warn("placeholder link: EMIS record not read", "practice", p.ID, "err", err)
		s.renderBookings(w, r, u, p, http.StatusServiceUnavailable, id,
			"herolink could not read the record from EMIS just now; nothing was changed. Try again in a minute.")
		return
	}
	s.bookingRefused(w, r, u, p, id, err)
}

// checkRow is one line of the record check: what the patient typed beside the record.
type checkRow struct {
	Label, Typed, Record string
	Differs              bool
}

func (s *server) renderCheck(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, status int, c booking.RecordCheck, msg string) {
	differs := map[string]bool{}
	for _, f := range c.Disagree {
		differs[f] = true
	}
	rows := []checkRow{
		{"Surname", c.Typed.FamilyName, c.Record.FamilyName, differs["family_name"]},
		{"First names", c.Typed.GivenName, c.Record.GivenName, false},
		{"Date of birth", c.Typed.DateOfBirth, c.Record.DateOfBirth, differs["date_of_birth"]},
		{"NHS number", c.Typed.NHSNumber, c.Record.NHSNumber, differs["nhs_number"]},
	}
	s.renderBookingsWith(w, r, u, p, status, func(v *bookingsView) { v.Check, v.CheckRows, v.CheckError = &c, rows, msg })
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
