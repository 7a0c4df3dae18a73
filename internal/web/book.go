package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/bookinglink"
	"herolink/internal/emis"
	"herolink/internal/store"
)

// The patient's pages, /book/{token}: public (no staff sign-in), one link each. A link for one
// patient asks the date of birth first; an open link asks the patient's details. Then the
// next free slot and later days, a hold with its expiry time, review, confirm, and the
// confirmation with an .ics file and a cancel button. What the patient proved and the hold
// they placed live on a visit (bookinglink.Visit) named by a random cookie scoped to the
// link's path: another link's visitor, or another browser, cannot act on it. Nothing here
// says whether a patient exists: a wrong date of birth is just "does not match".

const (
	visitCookie  = "herolink_visit"
	countdownJS  = "book-countdown.js"
	bookNotFound = "This booking link does not work"
)

type bookBase struct {
	base
	Token    string // for the link's own URLs in forms
	Practice string // the practice's name, when known
}

func (s *server) newBookBase(title, token, practice string) bookBase {
	b := bookBase{base: newBase(title, nil), Token: token, Practice: practice}
	b.JS = assetPrefix + countdownJS
	return b
}

type bookMessageView struct {
	bookBase
	Heading string
	Lines   []string
}

type dateField struct {
	Day, Month, Year string
	Error            string
	Part             string // the part at fault; "" for all
}

type bookFormView struct {
	bookBase
	Errors      []fieldError
	DOB         dateField
	GivenName   string
	FamilyName  string
	NHSNumber   string
	FieldErrors map[string]string
	Left        int // wrong answers left, after a wrong one
}

type slotView struct {
	ID    string
	Time  string
	Who   string
	Where string
}

type bookSlotsView struct {
	bookBase
	Notice   string
	Day      string
	Next     *slotView
	Slots    []slotView
	NextDay  string // yyyy-mm-dd of the next day with free times; "" if none
	NextText string
	First    bool // showing the first day with free times
	Held     string
}

type bookAppointmentView struct {
	bookBase
	Notice      string
	Reference   string
	Date        string
	Time        string
	Type        string
	Who         string
	Where       string
	Patient     string
	HeldUntil   string // "10:42"
	HeldISO     string
	State       string
	Cancelled   bool
	CanCancel   bool
	Placeholder bool
	Failed      bool // the practice's system gave the time to someone else as it was being booked
}

// bookLink resolves the token: a link, or a page already answered.
func (s *server) bookLink(w http.ResponseWriter, r *http.Request) (store.BookingLink, string, bool) {
	token := r.PathValue("token")
	if s.cfg.BookingLinks == nil {
		s.bookMessage(w, r, http.StatusNotFound, token, "", bookNotFound, "Online booking through a link is not available here.", "Contact your GP practice to book an appointment.")
		return store.BookingLink{}, "", false
	}
	l, err := s.cfg.BookingLinks.Open(r.Context(), token)
	if errors.Is(err, bookinglink.ErrNotFound) {
		s.bookMessage(w, r, http.StatusNotFound, "", "", bookNotFound,
			"Check that you used the whole link from the message you were sent.",
			"If it still does not work, contact your GP practice to book an appointment.")
		return l, "", false
	}
	if err != nil {
		s.bookError(w, r, "open booking link", err)
		return l, "", false
	}
	name := ""
	if p, err := s.cfg.Store.PracticeByID(r.Context(), l.PracticeID); err == nil {
		name = p.Name
	}
	return l, name, true
}

func (s *server) bookMessage(w http.ResponseWriter, r *http.Request, status int, token, practice, heading string, lines ...string) {
	s.render(w, r, status, "book_message", "book_layout", bookMessageView{bookBase: s.newBookBase(heading, token, practice), Heading: heading, Lines: lines})
}

func (s *server) bookError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.Error(what, "path", "/book/…", "err", err) // never the token: it opens the link
	s.bookMessage(w, r, http.StatusInternalServerError, "", "", "Sorry, there is a problem with the service",
		"Try again later.", "If you need an appointment soon, contact your GP practice.")
}

// unusable tells the patient why the link cannot be used and what to do instead.
func (s *server) unusable(w http.ResponseWriter, r *http.Request, l store.BookingLink, practice string) {
	contact := "Contact your GP practice to book an appointment."
	if practice != "" {
		contact = "Contact " + practice + " to book an appointment."
	}
	switch bookinglink.StatusOf(l, time.Now()) {
	case bookinglink.StatusLocked:
		s.bookMessage(w, r, http.StatusLocked, "", practice, "This booking link has been locked",
			"The date of birth was entered wrongly too many times, so the link has been locked to keep your information safe.",
			contact+" They can unlock the link for you, or book the appointment with you.")
	case bookinglink.StatusUsedUp:
		s.bookMessage(w, r, http.StatusGone, "", practice, "This booking link has already been used",
			"An appointment has already been booked with this link.", contact)
	case bookinglink.StatusRevoked:
		s.bookMessage(w, r, http.StatusGone, "", practice, "This booking link is no longer available",
			"The link has been cancelled.", contact)
	default:
		s.bookMessage(w, r, http.StatusGone, "", practice, "This booking link has expired",
			"The link was only available until "+when(l.ExpiresAt)+".", contact)
	}
}

// visit reads the patient's visit from the cookie; ok false when there is none for this link.
func (s *server) visit(r *http.Request, l store.BookingLink) (bookinglink.Visit, bool, error) {
	c, err := r.Cookie(visitCookie)
	if err != nil {
		return bookinglink.Visit{}, false, nil
	}
	v, err := s.cfg.BookingLinks.FindVisit(r.Context(), l, c.Value)
	if errors.Is(err, bookinglink.ErrNoVisit) {
		return v, false, nil
	}
	return v, err == nil, err
}

func (s *server) setVisitCookie(w http.ResponseWriter, token string, v bookinglink.Visit) {
	http.SetCookie(w, &http.Cookie{Name: visitCookie, Value: v.Token, Path: "/book/" + token, Expires: v.ExpiresAt,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// visitAndHold reads this browser's visit to the link and the appointment it holds, if any;
// on a failure it has answered the patient and ok is false.
func (s *server) visitAndHold(w http.ResponseWriter, r *http.Request, l store.BookingLink) (v bookinglink.Visit, has bool, a booking.Appointment, held, ok bool) {
	v, has, err := s.visit(r, l)
	if err != nil {
		s.bookError(w, r, "read booking link visit", err)
		return v, false, a, false, false
	}
	if has {
		if a, held, err = s.cfg.BookingLinks.Held(r.Context(), l, v); err != nil {
			s.bookError(w, r, "read booking link appointment", err)
			return v, has, a, false, false
		}
	}
	return v, has, a, held, true
}

// bookPage is GET /book/{token}: whatever the patient's next step is.
func (s *server) bookPage(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	v, has, a, held, ok := s.visitAndHold(w, r, l)
	if !ok {
		return
	}
	// A booking made stays visible to its patient whatever became of the link.
	if held && a.State != booking.StateReserved && a.State != booking.StateExpired {
		s.bookDone(w, r, l, practice, token, a, v, "", http.StatusOK)
		return
	}
	if bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusActive {
		s.unusable(w, r, l, practice)
		return
	}
	if !has || !v.Verified {
		s.bookAsk(w, r, l, practice, token, bookFormView{}, http.StatusOK)
		return
	}
	if held && a.State == booking.StateReserved && time.Now().Before(a.ReservedUntil) && r.URL.Query().Get("change") == "" {
		s.bookReview(w, r, l, practice, token, a, v, "", http.StatusOK)
		return
	}
	notice := ""
	if held && a.State == booking.StateReserved {
		if r.URL.Query().Get("change") == "" {
			notice = "The time you chose was held for you until " + clock(a.ReservedUntil) + " and is no longer held. Choose a time again."
		}
	}
	s.bookSlots(w, r, l, practice, token, notice, http.StatusOK)
}

func clock(t time.Time) string { return t.In(emis.London).Format("15:04") }

func longDate(t time.Time) string { return t.In(emis.London).Format("Monday 2 January 2006") }

// bookAsk shows the first question: the date of birth (a link for one patient) or the
// patient's details (an open link).
func (s *server) bookAsk(w http.ResponseWriter, r *http.Request, l store.BookingLink, practice, token string, v bookFormView, status int) {
	page, title := "book_dob", "Enter your date of birth"
	if !bookinglink.ForPatient(l) {
		page, title = "book_details", "Enter your details"
	}
	if len(v.Errors) > 0 {
		title = "Error: " + title
	}
	v.bookBase = s.newBookBase(title, token, practice)
	s.render(w, r, status, page, "book_layout", v)
}

// bookAnswer is POST /book/{token}: the date of birth, or an open link's details.
func (s *server) bookAnswer(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	if bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusActive {
		s.unusable(w, r, l, practice)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.bookMessage(w, r, http.StatusBadRequest, token, practice, "Sorry, that did not work", "Go back and try again.")
		return
	}
	form := bookFormView{DOB: dateField{Day: r.PostForm.Get("date_of_birth-day"), Month: r.PostForm.Get("date_of_birth-month"),
		Year: r.PostForm.Get("date_of_birth-year")}, GivenName: r.PostForm.Get("given_name"),
		FamilyName: r.PostForm.Get("family_name"), NHSNumber: r.PostForm.Get("nhs_number"), FieldErrors: map[string]string{}}
	fail := func(field, msg string) {
		form.Errors = append(form.Errors, fieldError{field, msg})
		form.FieldErrors[field] = msg
	}
	dob, err := bookinglink.ParseDateInput(form.DOB.Day, form.DOB.Month, form.DOB.Year, "Date of birth")
	var de *bookinglink.DateInputError
	if errors.As(err, &de) {
		form.DOB.Error, form.DOB.Part = de.Message, de.Part
	}
	ctx := r.Context()
	v, has, err := s.visit(r, l)
	if err != nil {
		s.bookError(w, r, "read booking link visit", err)
		return
	}
	startVisit := func() bool {
		if has {
			return true
		}
		if v, err = s.cfg.BookingLinks.StartVisit(ctx, l); err != nil {
			s.bookError(w, r, "start booking link visit", err)
			return false
		}
		s.setVisitCookie(w, token, v)
		has = true
		return true
	}
	if bookinglink.ForPatient(l) {
		if form.DOB.Error != "" {
			// A date that is not a date is not an answer: it is not counted.
			fail(dobAnchor(form.DOB.Part), form.DOB.Error)
			s.bookAsk(w, r, l, practice, token, form, http.StatusUnprocessableEntity)
			return
		}
		if !startVisit() {
			return
		}
		res, err := s.cfg.BookingLinks.CheckDateOfBirth(ctx, l, &v, dob)
		if errors.Is(err, bookinglink.ErrUnusable) {
			s.unusable(w, r, l, practice)
			return
		}
		if err != nil {
			s.bookError(w, r, "check date of birth", err)
			return
		}
		if res.Locked {
			l.LockedAt = time.Now()
			s.unusable(w, r, l, practice)
			return
		}
		if !res.Right {
			form.Left = res.Left
			form.DOB.Error = "The date of birth does not match the one your GP practice gave for this link"
			fail("date_of_birth-day", form.DOB.Error)
			s.bookAsk(w, r, l, practice, token, form, http.StatusUnprocessableEntity)
			return
		}
		http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
		return
	}
	d := bookinglink.Details{GivenName: form.GivenName, FamilyName: form.FamilyName, DateOfBirth: dob, NHSNumber: form.NHSNumber}
	if !startVisit() {
		return
	}
	err = s.cfg.BookingLinks.SaveDetails(ctx, l, &v, d)
	var inv *bookinglink.InvalidError
	if errors.As(err, &inv) || form.DOB.Error != "" {
		// The order of the form: first name, last name, date of birth, NHS number.
		msgs := map[string]string{}
		if inv != nil {
			for _, f := range inv.Fields {
				msgs[f.Field] = f.Message
			}
		}
		if form.DOB.Error != "" {
			msgs["date_of_birth"] = form.DOB.Error
		}
		for _, f := range []string{"given_name", "family_name", "date_of_birth", "nhs_number"} {
			if m, ok := msgs[f]; ok {
				if f == "date_of_birth" {
					form.DOB.Error = m
					f = dobAnchor(form.DOB.Part)
				}
				fail(f, m)
			}
		}
		s.bookAsk(w, r, l, practice, token, form, http.StatusUnprocessableEntity)
		return
	}
	if errors.Is(err, bookinglink.ErrUnusable) {
		s.unusable(w, r, l, practice)
		return
	}
	if err != nil {
		s.bookError(w, r, "save patient details", err)
		return
	}
	http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
}

// dobAnchor is the id of the date input's box to link an error to.
func dobAnchor(part string) string {
	if part == "" {
		part = "day"
	}
	return "date_of_birth-" + part
}

// names are the practice group's published names, by public id.
type names struct{ types, locations, practitioners map[string]string }

func (s *server) namesOf(ctx context.Context, group string) names {
	n := names{map[string]string{}, map[string]string{}, map[string]string{}}
	if s.cfg.Booking == nil {
		return n
	}
	if ts, err := s.cfg.Booking.AppointmentTypes(ctx, group); err == nil {
		for _, t := range ts {
			n.types[t.ID] = t.Name
		}
	}
	if ls, err := s.cfg.Booking.Locations(ctx, group); err == nil {
		for _, l := range ls {
			n.locations[l.ID] = l.Name
		}
	}
	if ps, err := s.cfg.Booking.Practitioners(ctx, group); err == nil {
		for _, p := range ps {
			n.practitioners[p.ID] = p.Name
		}
	}
	return n
}

func (n names) who(ids []string) string {
	var out []string
	for _, id := range ids {
		if name := n.practitioners[id]; name != "" {
			out = append(out, name)
		}
	}
	return strings.Join(out, " and ")
}

func (s *server) bookSlots(w http.ResponseWriter, r *http.Request, l store.BookingLink, practice, token, notice string, status int) {
	ctx := r.Context()
	from := emis.Date{}
	q := r.URL.Query().Get("from")
	if q != "" {
		if d, err := emis.ParseDate(q); err == nil {
			from = d
		}
	}
	day, next, more, err := s.cfg.BookingLinks.Slots(ctx, l, from)
	if err != nil {
		s.bookError(w, r, "find free slots", err)
		return
	}
	n := s.namesOf(ctx, l.PracticeGroupID)
	title := "Choose a time"
	if notice != "" {
		title = "Error: " + title // the notice is shown as a problem to fix
	}
	v := bookSlotsView{bookBase: s.newBookBase(title, token, practice), Notice: notice, First: q == ""}
	if day.Slots != nil {
		v.Day = longDate(day.Slots[0].StartAt)
		for _, sl := range day.Slots {
			v.Slots = append(v.Slots, slotView{ID: sl.ID, Time: clock(sl.StartAt), Who: n.who(sl.PractitionerIDs), Where: n.locations[sl.LocationID]})
		}
		if v.First {
			v.Next = &v.Slots[0]
		}
	}
	if more {
		v.NextDay = next.String()
		v.NextText = longDate(next.At(12 * 60))
	}
	s.render(w, r, status, "book_slots", "book_layout", v)
}

// bookHold is POST /book/{token}/hold: the patient picked a time.
func (s *server) bookHold(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	v, has, err := s.visit(r, l)
	if err != nil {
		s.bookError(w, r, "read booking link visit", err)
		return
	}
	if !has || !v.Verified {
		http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
		return
	}
	if bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusActive {
		s.unusable(w, r, l, practice)
		return
	}
	slot := r.PostFormValue("slot_id")
	if slot == "" {
		s.bookSlots(w, r, l, practice, token, "Choose a time for your appointment.", http.StatusUnprocessableEntity)
		return
	}
	_, err = s.cfg.BookingLinks.Hold(r.Context(), l, &v, slot)
	switch {
	case booking.CodeOf(err) == booking.CodeSlotUnavailable || booking.CodeOf(err) == booking.CodeNotFound:
		s.bookSlots(w, r, l, practice, token, "Sorry, that time has just been taken by someone else. Choose another time.", http.StatusConflict)
		return
	case booking.CodeOf(err) != "":
		s.bookMessage(w, r, http.StatusConflict, token, practice, "Sorry, you cannot book online at the moment",
			"Contact your GP practice to book an appointment.")
		return
	case errors.Is(err, bookinglink.ErrUnusable):
		http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
		return
	case err != nil:
		s.bookError(w, r, "hold slot", err)
		return
	}
	http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
}

func (s *server) appointmentView(ctx context.Context, l store.BookingLink, practice, token, title string, a booking.Appointment, v bookinglink.Visit) bookAppointmentView {
	n := s.namesOf(ctx, l.PracticeGroupID)
	out := bookAppointmentView{bookBase: s.newBookBase(title, token, practice), Reference: a.Reference, Date: longDate(a.StartAt),
		Time: clock(a.StartAt), Type: n.types[a.AppointmentTypeID], Who: n.who(a.PractitionerIDs), Where: n.locations[a.LocationID],
		Patient: strings.TrimSpace(v.GivenName + " " + v.FamilyName), State: string(a.State),
		Cancelled: a.State == booking.StateCancelled, Placeholder: a.State == booking.StatePlaceholder, Failed: a.State == booking.StateFailed}
	if a.State == booking.StateReserved {
		out.HeldUntil, out.HeldISO = clock(a.ReservedUntil), a.ReservedUntil.UTC().Format(time.RFC3339)
	}
	out.CanCancel = a.State.Live() && a.State != booking.StateReserved
	return out
}

func (s *server) bookReview(w http.ResponseWriter, r *http.Request, l store.BookingLink, practice, token string, a booking.Appointment, v bookinglink.Visit, notice string, status int) {
	av := s.appointmentView(r.Context(), l, practice, token, "Check your appointment", a, v)
	av.Notice = notice
	s.render(w, r, status, "book_review", "book_layout", av)
}

func (s *server) bookDone(w http.ResponseWriter, r *http.Request, l store.BookingLink, practice, token string, a booking.Appointment, v bookinglink.Visit, notice string, status int) {
	title := "Your appointment is booked"
	switch a.State {
	case booking.StateCancelled:
		title = "Your appointment is cancelled"
	case booking.StateFailed:
		title = "Your appointment could not be booked"
	}
	av := s.appointmentView(r.Context(), l, practice, token, title, a, v)
	av.Notice = notice
	s.render(w, r, status, "book_done", "book_layout", av)
}

// bookConfirm is POST /book/{token}/confirm.
func (s *server) bookConfirm(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	v, has, err := s.visit(r, l)
	if err != nil {
		s.bookError(w, r, "read booking link visit", err)
		return
	}
	if !has || !v.Verified || v.AppointmentID == "" {
		http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
		return
	}
	_, err = s.cfg.BookingLinks.Confirm(r.Context(), l, v)
	switch {
	case errors.Is(err, bookinglink.ErrUnusable):
		s.unusable(w, r, l, practice)
		return
	case booking.CodeOf(err) == booking.CodeHoldExpired || booking.CodeOf(err) == booking.CodeInvalidState:
		s.bookSlots(w, r, l, practice, token, "Sorry, the time you chose was no longer held for you. Choose a time again.", http.StatusConflict)
		return
	case booking.CodeOf(err) != "":
		s.bookMessage(w, r, http.StatusConflict, token, practice, "Sorry, your appointment could not be booked",
			"Contact your GP practice to book an appointment.")
		return
	case err != nil:
		s.bookError(w, r, "confirm booking", err)
		return
	}
	http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
}

// bookCancel is POST /book/{token}/cancel: the practice's cut-off applies.
func (s *server) bookCancel(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	v, has, err := s.visit(r, l)
	if err != nil {
		s.bookError(w, r, "read booking link visit", err)
		return
	}
	if !has || v.AppointmentID == "" {
		http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
		return
	}
	_, err = s.cfg.BookingLinks.Cancel(r.Context(), l, v)
	if booking.CodeOf(err) != "" {
		a, _, aerr := s.cfg.BookingLinks.Held(r.Context(), l, v)
		if aerr != nil {
			s.bookError(w, r, "read booking", aerr)
			return
		}
		msg := "Sorry, your appointment could not be cancelled online. Contact your GP practice to cancel it."
		if booking.CodeOf(err) == booking.CodeCancellationWindow {
			var be *booking.Error
			errors.As(err, &be)
			msg = cutoffMessage(be.Message)
		}
		s.bookDone(w, r, l, practice, token, a, v, msg, http.StatusConflict)
		return
	}
	if err != nil {
		s.bookError(w, r, "cancel booking", err)
		return
	}
	http.Redirect(w, r, "/book/"+token, http.StatusSeeOther)
}

// cutoffMessage says the booking core's cut-off refusal to a patient.
func cutoffMessage(core string) string {
	within := ""
	if _, after, ok := strings.Cut(core, "within "); ok {
		within, _, _ = strings.Cut(after, " of the appointment")
	}
	if within == "" {
		return "It is too close to your appointment to cancel online. Contact your GP practice to cancel it."
	}
	return fmt.Sprintf("Your GP practice does not allow appointments to be cancelled online within %s of the appointment. Contact your GP practice to cancel it.", within)
}

// bookICS is GET /book/{token}/appointment.ics: the booked appointment for a calendar.
func (s *server) bookICS(w http.ResponseWriter, r *http.Request) {
	l, practice, ok := s.bookLink(w, r)
	if !ok {
		return
	}
	token := r.PathValue("token")
	_, _, a, held, ok := s.visitAndHold(w, r, l)
	if !ok {
		return
	}
	if !held || !a.State.Live() || a.State == booking.StateReserved {
		s.bookMessage(w, r, http.StatusNotFound, token, practice, "There is no appointment to add to a calendar",
			"Open the link you were sent to book an appointment.")
		return
	}
	n := s.namesOf(r.Context(), l.PracticeGroupID)
	summary := "GP appointment"
	if t := n.types[a.AppointmentTypeID]; t != "" {
		summary = t
	}
	if practice != "" {
		summary += " at " + practice
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="appointment.ics"`)
	_, _ = w.Write([]byte(appointmentICS(a, summary, n.locations[a.LocationID], time.Now())))
}

// appointmentICS is one appointment as an iCalendar (RFC 5545) event, in UTC.
func appointmentICS(a booking.Appointment, summary, location string, now time.Time) string {
	const f = "20060102T150405Z"
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\r\n") }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//herolink//booking links//EN")
	line("METHOD:PUBLISH")
	line("BEGIN:VEVENT")
	line("UID:" + a.Reference + "@herolink")
	line("DTSTAMP:" + now.UTC().Format(f))
	line("DTSTART:" + a.StartAt.UTC().Format(f))
	line("DTEND:" + a.EndAt.UTC().Format(f))
	line("SUMMARY:" + icsText(summary))
	if location != "" {
		line("LOCATION:" + icsText(location))
	}
	line("DESCRIPTION:" + icsText("Booking reference "+a.Reference+". To cancel, open the link you booked with or contact your GP practice."))
	line("END:VEVENT")
	line("END:VCALENDAR")
	return b.String()
}

// icsText escapes a TEXT value (RFC 5545 3.3.11) and drops control characters.
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", "")
	return strings.Map(func(c rune) rune {
		if c < 0x20 && c != '\n' {
			return -1
		}
		return c
	}, r.Replace(s))
}

// Bad says whether a box of the date input is at fault (every box when the error names none).
func (d dateField) Bad(part string) bool { return d.Error != "" && (d.Part == "" || d.Part == part) }
