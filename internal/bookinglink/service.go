package bookinglink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/matching"
	"herolink/internal/store"
)

// Core is the booking core as links use it; *booking.Service satisfies it.
type Core interface {
	AppointmentTypes(ctx context.Context, group string) ([]booking.AppointmentType, error)
	Locations(ctx context.Context, group string) ([]booking.Location, error)
	Practitioners(ctx context.Context, group string) ([]booking.Practitioner, error)
	Slots(ctx context.Context, group string, q booking.SlotQuery) (booking.SlotPage, error)
	Reserve(ctx context.Context, group, owner string, r booking.ReserveRequest) (booking.Appointment, error)
	Book(ctx context.Context, group, id string, p booking.PatientInput) (booking.Appointment, error)
	Appointment(ctx context.Context, group, id string) (booking.Appointment, error)
	Cancel(ctx context.Context, group, id string, c booking.CancelRequest) (booking.Appointment, error)
}

var _ Core = (*booking.Service)(nil)

// Statuses of a link, as the API and the staff page show them.
const (
	StatusActive  = "active"
	StatusLocked  = "locked"  // too many wrong dates of birth; staff can unlock it
	StatusExpired = "expired" // past expires_at
	StatusUsedUp  = "used_up" // max_uses bookings confirmed through it
	StatusRevoked = "revoked" // deleted by its partner or revoked by staff
)

// DefaultLockAfter is how many wrong dates of birth lock a link.
const DefaultLockAfter = 10

// Errors callers branch on.
var (
	ErrNotFound = errors.New("bookinglink: no such link")
	ErrUnusable = errors.New("bookinglink: the link cannot be used now")
	ErrNoVisit  = errors.New("bookinglink: no visit of this link")
)

// FieldError is one refused input.
type FieldError struct {
	Field   string // the JSON name: appointment_type_id, patient.date_of_birth, ...
	Message string // a sentence a person can act on
}

// InvalidError is a refused link: every field at fault.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	var parts []string
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Message)
	}
	return "bookinglink: invalid link: " + strings.Join(parts, "; ")
}

// Patient is who a link is for.
type Patient struct {
	GivenName   string
	FamilyName  string
	DateOfBirth string // yyyy-mm-dd
	NHSNumber   string // optional
}

// Input is a link to make.
type Input struct {
	AppointmentTypeID string
	LocationID        string // optional
	PractitionerID    string // optional
	Patient           *Patient
	FromDate, ToDate  string // yyyy-mm-dd, Europe/London, inclusive
	ExpiresAt         time.Time
	MaxUses           int
}

// Limits on what a link may ask for.
const (
	MaxUses     = 1000
	MaxLifetime = 90 * 24 * time.Hour
)

// Created is a new link and its URL, which exists only in this value: show it once.
type Created struct {
	Link store.BookingLink
	URL  string
}

// SetListenURL gives the address the server listens on, used for links' URLs when no public
// URL was configured.
func (s *Service) SetListenURL(u string) { s.listening.Store(&u) }

func (s *Service) baseURL() string {
	if u := s.listening.Load(); u != nil {
		return *u
	}
	return s.BaseURL
}

// Service makes and serves links.
type Service struct {
	Store   *store.Store
	Booking Core
	// BaseURL is where patients reach herolink, e.g. https://book.example.org; a link's URL is
	// BaseURL + "/book/" + token.
	BaseURL string
	// LockAfter is how many wrong dates of birth lock a link (DefaultLockAfter if zero).
	LockAfter int
	// VisitLifetime is how long a patient's visit (cookie) lasts (7 days if zero): long enough
	// to come back to cancel.
	VisitLifetime time.Duration
	Log           *slog.Logger

	// listening replaces BaseURL once the server knows its address (SetListenURL): a demo
	// on port 0 learns its port only then.
	listening atomic.Pointer[string]
	Now       func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) lockAfter() int {
	if s.LockAfter > 0 {
		return s.LockAfter
	}
	return DefaultLockAfter
}

// Hash is how tokens (of links and of visits) are stored: hex SHA-256. They carry 256 random
// bits, so a slow hash would add nothing.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// StatusOf says whether a link can be used at now, and if not why; the first reason wins in
// the order revoked, locked, used up, expired.
func StatusOf(l store.BookingLink, now time.Time) string {
	switch {
	case !l.RevokedAt.IsZero():
		return StatusRevoked
	case !l.LockedAt.IsZero():
		return StatusLocked
	case l.Uses >= l.MaxUses:
		return StatusUsedUp
	case !now.Before(l.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// ForPatient says whether the link is for one patient (asks the date of birth) or open.
func ForPatient(l store.BookingLink) bool { return l.DateOfBirth != "" }

// Validate checks a link against the practice group's catalogue and fills in which practice
// it books at. Every fault is reported at once.
func (s *Service) validate(ctx context.Context, group string, in Input) (store.BookingLink, error) {
	var fe []FieldError
	add := func(field, msg string) { fe = append(fe, FieldError{field, msg}) }
	l := store.BookingLink{PracticeGroupID: group, AppointmentTypeID: strings.TrimSpace(in.AppointmentTypeID),
		LocationID: strings.TrimSpace(in.LocationID), PractitionerID: strings.TrimSpace(in.PractitionerID),
		FromDate: strings.TrimSpace(in.FromDate), ToDate: strings.TrimSpace(in.ToDate), ExpiresAt: in.ExpiresAt, MaxUses: in.MaxUses}

	if l.AppointmentTypeID == "" {
		add("appointment_type_id", "Choose the appointment type the patient may book.")
	} else {
		types, err := s.Booking.AppointmentTypes(ctx, group)
		if err != nil {
			return l, err
		}
		for _, t := range types {
			if t.ID == l.AppointmentTypeID {
				l.PracticeID = t.PracticeID
			}
		}
		if l.PracticeID == 0 {
			add("appointment_type_id", "There is no appointment type "+l.AppointmentTypeID+" in this practice group.")
		}
	}
	if l.LocationID != "" {
		locs, err := s.Booking.Locations(ctx, group)
		if err != nil {
			return l, err
		}
		if !inPractice(locs, l.LocationID, l.PracticeID, func(x booking.Location) (string, int64) { return x.ID, x.PracticeID }) {
			add("location_id", "There is no location "+l.LocationID+" at the appointment type's practice.")
		}
	}
	if l.PractitionerID != "" {
		ps, err := s.Booking.Practitioners(ctx, group)
		if err != nil {
			return l, err
		}
		if !inPractice(ps, l.PractitionerID, l.PracticeID, func(x booking.Practitioner) (string, int64) { return x.ID, x.PracticeID }) {
			add("practitioner_id", "There is no practitioner "+l.PractitionerID+" at the appointment type's practice.")
		}
	}
	if p := in.Patient; p != nil {
		l.GivenName, l.FamilyName = strings.TrimSpace(p.GivenName), strings.TrimSpace(p.FamilyName)
		l.DateOfBirth, l.NHSNumber = strings.TrimSpace(p.DateOfBirth), strings.TrimSpace(p.NHSNumber)
		if l.GivenName == "" {
			add("patient.given_name", "Enter the patient's first name.")
		}
		if l.FamilyName == "" {
			add("patient.family_name", "Enter the patient's last name.")
		}
		err := matching.ValidateDemographics(matching.Demographics{GivenName: l.GivenName, FamilyName: l.FamilyName,
			DateOfBirth: l.DateOfBirth, NHSNumber: l.NHSNumber})
		var mf matching.FieldErrors
		if errors.As(err, &mf) {
			for _, f := range mf {
				if (f.Field == "given_name" || f.Field == "family_name") && f.Code == matching.CodeRequired {
					continue // said above, in a patient's words
				}
				add("patient."+f.Field, sentence(f.Message))
			}
		}
		if n, err := matching.ValidateNHSNumber(l.NHSNumber); err == nil {
			l.NHSNumber = n
		}
	}
	today := emis.Today(s.now())
	from, errFrom := emis.ParseDate(l.FromDate)
	to, errTo := emis.ParseDate(l.ToDate)
	if errFrom != nil {
		add("from_date", "Enter the first day the patient may book, as yyyy-mm-dd.")
	}
	if errTo != nil {
		add("to_date", "Enter the last day the patient may book, as yyyy-mm-dd.")
	}
	if errFrom == nil && errTo == nil {
		switch {
		case to.Before(from):
			add("to_date", "The last day must be the same as or after the first day.")
		case to.Before(today):
			add("to_date", "The last day is in the past.")
		}
	}
	now := s.now()
	switch {
	case in.ExpiresAt.IsZero():
		add("expires_at", "Enter when the link stops working.")
	case !in.ExpiresAt.After(now):
		add("expires_at", "The link would already have stopped working: choose a time in the future.")
	case in.ExpiresAt.Sub(now) > MaxLifetime:
		add("expires_at", fmt.Sprintf("A link may work for at most %d days.", int(MaxLifetime/(24*time.Hour))))
	}
	if in.MaxUses < 1 || in.MaxUses > MaxUses {
		add("max_uses", fmt.Sprintf("Enter how many bookings the link may make, from 1 to %d.", MaxUses))
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"appointment_type_id", l.AppointmentTypeID, 100}, {"location_id", l.LocationID, 100}, {"practitioner_id", l.PractitionerID, 100},
		{"patient.given_name", l.GivenName, 100}, {"patient.family_name", l.FamilyName, 100}, {"patient.nhs_number", l.NHSNumber, 20}} {
		if utf8.RuneCountInString(f.value) > f.max {
			add(f.field, fmt.Sprintf("At most %d characters.", f.max))
		}
	}
	if len(fe) > 0 {
		return l, &InvalidError{Fields: fe}
	}
	return l, nil
}

func inPractice[T any](xs []T, id string, practiceID int64, key func(T) (string, int64)) bool {
	for _, x := range xs {
		if xid, pid := key(x); xid == id && (practiceID == 0 || pid == practiceID) {
			return true
		}
	}
	return false
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Create makes a link for owner (the partner; "" for staff) in a practice group. The URL is
// returned once; only the token's hash is kept.
func (s *Service) Create(ctx context.Context, group, owner, actor string, in Input) (Created, error) {
	l, err := s.validate(ctx, group, in)
	if err != nil {
		return Created{}, err
	}
	token := randomToken(32)
	l.ID, l.TokenHash, l.OwnerID, l.CreatedBy = "bkl_"+strings.ToLower(randomHex(12)), Hash(token), owner, actor
	if err := s.Store.CreateBookingLink(ctx, l); err != nil {
		return Created{}, err
	}
	l, err = s.Store.BookingLink(ctx, l.ID)
	if err != nil {
		return Created{}, err
	}
	s.log().Info("booking link created", "link", l.ID, "group", group, "owner", owner, "practice", l.PracticeID,
		"for_patient", ForPatient(l), "by", actor)
	return Created{Link: l, URL: strings.TrimRight(s.baseURL(), "/") + "/book/" + token}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// List is a partner's links in a practice group, newest first.
func (s *Service) List(ctx context.Context, group, owner string) ([]store.BookingLink, error) {
	return s.Store.BookingLinksOf(ctx, group, owner)
}

// Get is one of a partner's links; another partner's is not found.
func (s *Service) Get(ctx context.Context, group, owner, id string) (store.BookingLink, error) {
	l, err := s.Store.BookingLink(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (l.PracticeGroupID != group || l.OwnerID != owner)) {
		return store.BookingLink{}, ErrNotFound
	}
	return l, err
}

// Revoke stops one of a partner's links for good; bookings made through it stand.
func (s *Service) Revoke(ctx context.Context, group, owner, id string) error {
	if owner == "" {
		return ErrNotFound // only staff act on every partner's links, through RevokeAtPractice
	}
	err := s.Store.RevokeBookingLink(ctx, group, owner, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err == nil {
		s.log().Info("booking link revoked", "link", id, "group", group, "owner", owner)
	}
	return err
}

// AtPractice lists a practice's links for its staff, newest first.
func (s *Service) AtPractice(ctx context.Context, practiceID int64) ([]store.BookingLink, error) {
	return s.Store.BookingLinksOfPractice(ctx, practiceID, 200)
}

// RevokeAtPractice is staff revoking any link of their practice.
func (s *Service) RevokeAtPractice(ctx context.Context, p store.Practice, id, actor string) error {
	l, err := s.Store.BookingLink(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.PracticeID != p.ID) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := s.Store.RevokeBookingLink(ctx, p.PracticeGroupID, "", id); err != nil {
		return err
	}
	s.audit(ctx, actor, "booking_link.revoked", p.ID, "link "+id)
	return nil
}

// Unlock is staff letting a locked link be used again, its wrong answers forgotten.
func (s *Service) Unlock(ctx context.Context, practiceID int64, id, actor string) error {
	err := s.Store.UnlockBookingLink(ctx, practiceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	s.audit(ctx, actor, "booking_link.unlocked", practiceID, "link "+id)
	return nil
}

func (s *Service) audit(ctx context.Context, actor, action string, practiceID int64, detail string) {
	if err := s.Store.AppendAudit(ctx, store.AuditEntry{Actor: actor, Action: action, PracticeID: practiceID, Detail: detail}); err != nil {
		s.log().Warn("audit booking link", "action", action, "err", err)
	}
	s.log().Info("booking link changed by staff", "action", action, "detail", detail, "user", actor, "practice", practiceID)
}
