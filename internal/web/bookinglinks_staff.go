package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/bookinglink"
	"herolink/internal/emis"
	"herolink/internal/store"
)

// The practice's booking links page: staff make a link (for one patient, or open), see every
// link of the practice (a partner's or staff's) with its status, unlock a link locked by wrong
// dates of birth and revoke one. A new link's URL is shown once, on the page that answers the
// form (never in an address), as partners get it once from the API.

type bookingLinkRow struct {
	store.BookingLink
	Status string
	For    string
	Type   string
	By     string
}

type bookingLinksView struct {
	base
	Practice    store.Practice
	Links       []bookingLinkRow
	Types       []booking.AppointmentType
	Errors      []fieldError
	FieldErrors map[string]string
	Form        bookingLinkForm
	DOB         dateField
	URL         string // the new link's, shown once
	Done        string
}

type bookingLinkForm struct {
	AppointmentTypeID, GivenName, FamilyName, NHSNumber, Days, MaxUses string
}

func bookingLinksPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/booking-links"
}

// StatusTag is the NHS tag colour of a link's status.
func (bookingLinksView) StatusTag(status string) string {
	switch status {
	case bookinglink.StatusActive:
		return "nhsuk-tag--green"
	case bookinglink.StatusLocked:
		return "nhsuk-tag--red"
	}
	return "nhsuk-tag--grey"
}

// StatusText says a link's status in words.
func (bookingLinksView) StatusText(status string) string {
	switch status {
	case bookinglink.StatusActive:
		return "Working"
	case bookinglink.StatusLocked:
		return "Locked"
	case bookinglink.StatusExpired:
		return "Expired"
	case bookinglink.StatusUsedUp:
		return "Used up"
	case bookinglink.StatusRevoked:
		return "Revoked"
	}
	return status
}

func (s *server) bookingLinksPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	v := bookingLinksView{Form: bookingLinkForm{Days: "14", MaxUses: "1"}}
	switch r.URL.Query().Get("done") {
	case "unlocked":
		v.Done = "The link is unlocked. The patient can enter their date of birth again."
	case "revoked":
		v.Done = "The link is revoked. It no longer works; bookings already made with it stand."
	}
	s.renderBookingLinks(w, r, u, p, v, http.StatusOK)
}

func (s *server) renderBookingLinks(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, v bookingLinksView, status int) {
	ctx := r.Context()
	if s.cfg.BookingLinks == nil || s.cfg.Booking == nil {
		s.errorPage(w, r, &u, http.StatusNotFound, "Booking links are not enabled", "This herolink does not offer patient booking links.")
		return
	}
	title := "Booking links"
	if len(v.Errors) > 0 {
		title = "Error: " + title
	}
	v.base, v.Practice = newBase(title, &u), p
	links, err := s.cfg.BookingLinks.AtPractice(ctx, p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list booking links", err)
		return
	}
	types, err := s.cfg.Booking.AppointmentTypes(ctx, p.PracticeGroupID)
	if err != nil {
		s.serverError(w, r, &u, "list appointment types", err)
		return
	}
	names := map[string]string{}
	for _, t := range types {
		names[t.ID] = t.Name
		if t.PracticeID == p.ID {
			v.Types = append(v.Types, t)
		}
	}
	now := time.Now()
	for _, l := range links {
		row := bookingLinkRow{BookingLink: l, Status: bookinglink.StatusOf(l, now), Type: names[l.AppointmentTypeID], By: "a partner"}
		if l.OwnerID == "" {
			row.By = l.CreatedBy
		}
		row.For = "Anyone (open link)"
		switch {
		case bookinglink.ForPatient(l) && u.Role == store.RoleSupport:
			row.For = "One patient" // herolink support never sees who
		case bookinglink.ForPatient(l):
			row.For = l.GivenName + " " + l.FamilyName + ", born " + l.DateOfBirth
		}
		v.Links = append(v.Links, row)
	}
	if v.FieldErrors == nil {
		v.FieldErrors = map[string]string{}
	}
	s.render(w, r, status, "booking_links", "", v)
}

// formCreateBookingLink makes a link as the practice's staff: owned by no partner.
func (s *server) formCreateBookingLink(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if s.cfg.BookingLinks == nil {
		s.errorPage(w, r, &u, http.StatusNotFound, "Booking links are not enabled", "This herolink does not offer patient booking links.")
		return
	}
	f := bookingLinkForm{AppointmentTypeID: r.PostFormValue("appointment_type_id"), GivenName: r.PostFormValue("given_name"),
		FamilyName: r.PostFormValue("family_name"), NHSNumber: r.PostFormValue("nhs_number"), Days: r.PostFormValue("days"),
		MaxUses: r.PostFormValue("max_uses")}
	v := bookingLinksView{Form: f, FieldErrors: map[string]string{}, DOB: dateField{Day: r.PostFormValue("date_of_birth-day"),
		Month: r.PostFormValue("date_of_birth-month"), Year: r.PostFormValue("date_of_birth-year")}}
	fail := func(field, msg string) {
		v.Errors = append(v.Errors, fieldError{Field: field, Message: msg})
		v.FieldErrors[field] = msg
	}
	days, err := strconv.Atoi(strings.TrimSpace(f.Days))
	if err != nil || days < 1 || days > 90 {
		fail("days", "Enter how many days the link works for, from 1 to 90.")
	}
	uses, err := strconv.Atoi(strings.TrimSpace(f.MaxUses))
	if err != nil || uses < 1 || uses > bookinglink.MaxUses {
		fail("max_uses", "Enter how many appointments can be booked with the link, from 1 to 1000.")
	}
	in := bookinglink.Input{AppointmentTypeID: f.AppointmentTypeID, MaxUses: uses}
	today := emis.Today(time.Now())
	in.FromDate, in.ToDate = today.String(), today.AddDays(days).String()
	in.ExpiresAt = today.AddDays(days).At(24 * 60) // the end of the last day
	forPatient := strings.TrimSpace(f.GivenName+f.FamilyName+f.NHSNumber+v.DOB.Day+v.DOB.Month+v.DOB.Year) != ""
	if forPatient {
		dob, err := bookinglink.ParseDateInput(v.DOB.Day, v.DOB.Month, v.DOB.Year, "Date of birth")
		var de *bookinglink.DateInputError
		if errors.As(err, &de) {
			v.DOB.Error, v.DOB.Part = de.Message, de.Part
			fail(dobAnchor(de.Part), strings.Replace(de.Message, "Enter your date of birth", "Enter the patient’s date of birth", 1))
		}
		in.Patient = &bookinglink.Patient{GivenName: f.GivenName, FamilyName: f.FamilyName, DateOfBirth: dob, NHSNumber: f.NHSNumber}
	}
	if len(v.Errors) > 0 {
		s.renderBookingLinks(w, r, u, p, v, http.StatusUnprocessableEntity)
		return
	}
	c, err := s.cfg.BookingLinks.Create(r.Context(), p.PracticeGroupID, "", u.Username, in)
	var inv *bookinglink.InvalidError
	if errors.As(err, &inv) {
		for _, fe := range inv.Fields {
			field := strings.TrimPrefix(fe.Field, "patient.")
			if field == "date_of_birth" {
				v.DOB.Error = fe.Message
				field = "date_of_birth-day"
			}
			fail(field, fe.Message)
		}
		s.renderBookingLinks(w, r, u, p, v, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "create booking link", err)
		return
	}
	s.audit(r, u, "booking_link.created", p.ID, "link "+c.Link.ID)
	s.renderBookingLinks(w, r, u, p, bookingLinksView{Form: bookingLinkForm{Days: "14", MaxUses: "1"}, URL: c.URL}, http.StatusOK)
}

func (s *server) audit(r *http.Request, u store.StaffUser, action string, practiceID int64, detail string) {
	if err := s.cfg.Store.AppendAudit(r.Context(), store.AuditEntry{Actor: u.Username, Action: action, PracticeID: practiceID, Detail: detail}); err != nil {
		s.log.Warn("audit", "action", action, "err", err)
	}
}

func (s *server) formUnlockBookingLink(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	s.changeBookingLink(w, r, u, p, "unlocked", func() error {
		return s.cfg.BookingLinks.Unlock(r.Context(), p.ID, r.PathValue("lid"), u.Username)
	})
}

func (s *server) formRevokeBookingLink(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	s.changeBookingLink(w, r, u, p, "revoked", func() error {
		return s.cfg.BookingLinks.RevokeAtPractice(r.Context(), p, r.PathValue("lid"), u.Username)
	})
}

func (s *server) changeBookingLink(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, done string, change func() error) {
	if s.cfg.BookingLinks == nil {
		s.errorPage(w, r, &u, http.StatusNotFound, "Booking links are not enabled", "This herolink does not offer patient booking links.")
		return
	}
	err := change()
	if errors.Is(err, bookinglink.ErrNotFound) {
		s.errorPage(w, r, &u, http.StatusNotFound, "Link not found", "This practice has no booking link with this id.")
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "change booking link", err)
		return
	}
	http.Redirect(w, r, bookingLinksPath(p.ID)+"?done="+done, http.StatusSeeOther)
}
