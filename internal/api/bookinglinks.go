package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"herolink/internal/api/apikey"
	"herolink/internal/bookinglink"
	"herolink/internal/store"
)

// BookingLinks is the partner's side of patient booking links; *bookinglink.Service
// satisfies it.
type BookingLinks interface {
	Create(ctx context.Context, group, owner, actor string, in bookinglink.Input) (bookinglink.Created, error)
	List(ctx context.Context, group, owner string) ([]store.BookingLink, error)
	Get(ctx context.Context, group, owner, id string) (store.BookingLink, error)
	Revoke(ctx context.Context, group, owner, id string) error
}

var _ BookingLinks = (*bookinglink.Service)(nil)

// bookingLinkRoutes are the /v1/booking_links operations, under the booking_links scope. The
// POST's answer holds the link's URL, shown once: it is not kept for Idempotency-Key (secret),
// so the URL is never stored.
func (s *server) bookingLinkRoutes(route func(string, map[string]op)) {
	route("/v1/booking_links", map[string]op{
		http.MethodGet:  {scope: apikey.ScopeBookingLinks, h: s.listBookingLinks},
		http.MethodPost: {scope: apikey.ScopeBookingLinks, h: s.createBookingLink, secret: true},
	})
	route("/v1/booking_links/{id}", map[string]op{
		http.MethodGet:    {scope: apikey.ScopeBookingLinks, h: s.getBookingLink},
		http.MethodDelete: {scope: apikey.ScopeBookingLinks, h: s.deleteBookingLink},
	})
}

type bookingLinkPatientBody struct {
	GivenName   *string `json:"given_name"`
	FamilyName  *string `json:"family_name"`
	DateOfBirth *string `json:"date_of_birth"`
	NHSNumber   *string `json:"nhs_number"`
}

type bookingLinkBody struct {
	AppointmentTypeID *string                 `json:"appointment_type_id"`
	LocationID        *string                 `json:"location_id"`
	PractitionerID    *string                 `json:"practitioner_id"`
	Patient           *bookingLinkPatientBody `json:"patient"`
	FromDate          *string                 `json:"from_date"`
	ToDate            *string                 `json:"to_date"`
	ExpiresAt         *string                 `json:"expires_at"`
	MaxUses           *int                    `json:"max_uses"`
}

type bookingLinkPatientJSON struct {
	GivenName   string  `json:"given_name"`
	FamilyName  string  `json:"family_name"`
	DateOfBirth string  `json:"date_of_birth"`
	NHSNumber   *string `json:"nhs_number"`
}

// bookingLinkJSON is a link as its partner sees it. url is present only in the answer that
// made it.
type bookingLinkJSON struct {
	ID                string                  `json:"id"`
	URL               string                  `json:"url,omitempty"`
	Status            string                  `json:"status"`
	AppointmentTypeID string                  `json:"appointment_type_id"`
	LocationID        *string                 `json:"location_id"`
	PractitionerID    *string                 `json:"practitioner_id"`
	Patient           *bookingLinkPatientJSON `json:"patient"`
	FromDate          string                  `json:"from_date"`
	ToDate            string                  `json:"to_date"`
	ExpiresAt         string                  `json:"expires_at"`
	MaxUses           int                     `json:"max_uses"`
	Uses              int                     `json:"uses"`
	CreatedAt         string                  `json:"created_at"`
}

func toBookingLinkJSON(l store.BookingLink, now time.Time) bookingLinkJSON {
	out := bookingLinkJSON{ID: l.ID, Status: bookinglink.StatusOf(l, now), AppointmentTypeID: l.AppointmentTypeID,
		LocationID: str(l.LocationID), PractitionerID: str(l.PractitionerID), FromDate: l.FromDate, ToDate: l.ToDate,
		ExpiresAt: mustTime(l.ExpiresAt), MaxUses: l.MaxUses, Uses: l.Uses, CreatedAt: mustTime(l.CreatedAt)}
	if bookinglink.ForPatient(l) {
		out.Patient = &bookingLinkPatientJSON{GivenName: l.GivenName, FamilyName: l.FamilyName, DateOfBirth: l.DateOfBirth, NHSNumber: str(l.NHSNumber)}
	}
	return out
}

func (s *server) createBookingLink(w http.ResponseWriter, r *http.Request, c *call) error {
	var b bookingLinkBody
	if p := decodeBody(c.body, &b, false); p != nil {
		return p
	}
	var fields []FieldProblem
	required := func(name string, present bool) {
		if !present {
			fields = append(fields, FieldProblem{Field: name, Code: "required", Message: "is required"})
		}
	}
	required("appointment_type_id", b.AppointmentTypeID != nil)
	required("from_date", b.FromDate != nil)
	required("to_date", b.ToDate != nil)
	required("expires_at", b.ExpiresAt != nil)
	required("max_uses", b.MaxUses != nil)
	in := bookinglink.Input{AppointmentTypeID: deref(b.AppointmentTypeID), LocationID: deref(b.LocationID),
		PractitionerID: deref(b.PractitionerID), FromDate: deref(b.FromDate), ToDate: deref(b.ToDate)}
	if b.MaxUses != nil {
		in.MaxUses = *b.MaxUses
	}
	if b.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *b.ExpiresAt)
		if err != nil {
			fields = append(fields, FieldProblem{Field: "expires_at", Code: "invalid", Message: "must be a date and time with its offset, e.g. 2026-03-09T18:00:00Z"})
		}
		in.ExpiresAt = t
	}
	if p := b.Patient; p != nil {
		required("patient.given_name", p.GivenName != nil)
		required("patient.family_name", p.FamilyName != nil)
		required("patient.date_of_birth", p.DateOfBirth != nil)
		in.Patient = &bookinglink.Patient{GivenName: deref(p.GivenName), FamilyName: deref(p.FamilyName),
			DateOfBirth: deref(p.DateOfBirth), NHSNumber: deref(p.NHSNumber)}
	}
	if len(fields) > 0 {
		return invalid("The booking link is not valid: see errors.", fields...)
	}
	created, err := s.cfg.BookingLinks.Create(r.Context(), c.group, c.key.Owner, "api key "+c.key.ID, in)
	if err != nil {
		return bookingLinkProblem(err)
	}
	w.Header().Set("Location", "/v1/booking_links/"+created.Link.ID)
	out := toBookingLinkJSON(created.Link, s.cfg.Now())
	out.URL = created.URL
	return writeJSON(w, http.StatusCreated, out)
}

func (s *server) listBookingLinks(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	ls, err := s.cfg.BookingLinks.List(r.Context(), c.group, c.key.Owner)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return writeJSON(w, http.StatusOK, listOf(mapAll(ls, func(l store.BookingLink) bookingLinkJSON { return toBookingLinkJSON(l, now) }), ""))
}

func (s *server) getBookingLink(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	l, err := s.cfg.BookingLinks.Get(r.Context(), c.group, c.key.Owner, r.PathValue("id"))
	if err != nil {
		return bookingLinkProblem(err)
	}
	return writeJSON(w, http.StatusOK, toBookingLinkJSON(l, s.cfg.Now()))
}

func (s *server) deleteBookingLink(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	if err := s.cfg.BookingLinks.Revoke(r.Context(), c.group, c.key.Owner, r.PathValue("id")); err != nil {
		return bookingLinkProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// bookingLinkProblem maps the link service's refusals; anything else stays an error (500).
func bookingLinkProblem(err error) error {
	var in *bookinglink.InvalidError
	switch {
	case errors.As(err, &in):
		var fields []FieldProblem
		for _, f := range in.Fields {
			fields = append(fields, FieldProblem{Field: f.Field, Code: "invalid", Message: f.Message})
		}
		detail := "The booking link is not valid: see errors."
		if len(in.Fields) == 1 {
			detail = "The booking link is not valid: " + in.Fields[0].Message
		}
		return invalid(detail, fields...)
	case errors.Is(err, bookinglink.ErrNotFound):
		return problem(http.StatusNotFound, codeNotFound, "There is no booking link with this id.")
	}
	return err
}
