package bookinglink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/matching"
	"herolink/internal/store"
)

// Open finds the link a token opens, whatever its status. ErrNotFound for a token no link has.
func (s *Service) Open(ctx context.Context, token string) (store.BookingLink, error) {
	if token == "" || len(token) > 100 {
		return store.BookingLink{}, ErrNotFound
	}
	l, err := s.Store.BookingLinkByTokenHash(ctx, Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return l, ErrNotFound
	}
	return l, err
}

// Visit is one patient's visit to a link, known by a random token in their cookie.
type Visit struct {
	store.BookingLinkVisit
	Token string // only in the value StartVisit returns
}

// StartVisit begins a visit of a link; the token goes into the patient's cookie.
func (s *Service) StartVisit(ctx context.Context, l store.BookingLink) (Visit, error) {
	life := s.VisitLifetime
	if life <= 0 {
		life = 7 * 24 * time.Hour
	}
	token := randomToken(32)
	v := store.BookingLinkVisit{TokenHash: Hash(token), LinkID: l.ID, ExpiresAt: s.now().Add(life)}
	if err := s.Store.CreateBookingLinkVisit(ctx, v); err != nil {
		return Visit{}, err
	}
	return Visit{BookingLinkVisit: v, Token: token}, nil
}

// FindVisit reads the visit a cookie names, for this link only: a visit of another link is
// not found.
func (s *Service) FindVisit(ctx context.Context, l store.BookingLink, token string) (Visit, error) {
	if token == "" || len(token) > 100 {
		return Visit{}, ErrNoVisit
	}
	v, err := s.Store.BookingLinkVisit(ctx, l.ID, Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return Visit{}, ErrNoVisit
	}
	return Visit{BookingLinkVisit: v}, err
}

// DOBResult is what a date of birth answer did.
type DOBResult struct {
	Right  bool
	Locked bool // the link is locked now (this answer may have locked it)
	Left   int  // wrong answers left before it locks
}

// CheckDateOfBirth compares a patient's answer with the link's date of birth. A wrong answer
// is counted in the database; at LockAfter the link locks. A right one marks the visit.
func (s *Service) CheckDateOfBirth(ctx context.Context, l store.BookingLink, v *Visit, dob string) (DOBResult, error) {
	if StatusOf(l, s.now()) != StatusActive || !ForPatient(l) {
		return DOBResult{}, ErrUnusable
	}
	if dob == l.DateOfBirth {
		v.Verified = true
		v.GivenName, v.FamilyName, v.DateOfBirth, v.NHSNumber = l.GivenName, l.FamilyName, l.DateOfBirth, l.NHSNumber
		return DOBResult{Right: true}, s.Store.UpdateBookingLinkVisit(ctx, v.BookingLinkVisit)
	}
	n, locked, err := s.Store.RecordWrongDateOfBirth(ctx, l.ID, s.lockAfter())
	if err != nil {
		return DOBResult{}, err
	}
	if locked {
		// No demographics in the log: the link id is enough for staff to find it.
		s.log().Warn("booking link locked after wrong dates of birth", "link", l.ID, "practice", l.PracticeID, "attempts", n)
	}
	return DOBResult{Locked: locked, Left: max(0, s.lockAfter()-n)}, nil
}

// Details are what a patient types on an open link.
type Details struct {
	GivenName   string
	FamilyName  string
	DateOfBirth string // yyyy-mm-dd, from ParseDateInput
	NHSNumber   string
}

// SaveDetails checks an open link's patient details and keeps them on the visit. A refusal is
// an *InvalidError whose fields are the form's (given_name, family_name, date_of_birth,
// nhs_number).
func (s *Service) SaveDetails(ctx context.Context, l store.BookingLink, v *Visit, d Details) error {
	if StatusOf(l, s.now()) != StatusActive || ForPatient(l) {
		return ErrUnusable
	}
	d.GivenName, d.FamilyName, d.NHSNumber = strings.TrimSpace(d.GivenName), strings.TrimSpace(d.FamilyName), strings.TrimSpace(d.NHSNumber)
	var fe []FieldError
	if d.GivenName == "" {
		fe = append(fe, FieldError{"given_name", "Enter your first name."})
	}
	if d.FamilyName == "" {
		fe = append(fe, FieldError{"family_name", "Enter your last name."})
	}
	err := matching.ValidateDemographics(matching.Demographics{GivenName: d.GivenName, FamilyName: d.FamilyName,
		DateOfBirth: d.DateOfBirth, NHSNumber: d.NHSNumber})
	var mf matching.FieldErrors
	if errors.As(err, &mf) {
		for _, f := range mf {
			switch {
			case f.Code == matching.CodeRequired && f.Field != "date_of_birth":
				continue // said above
			case f.Field == "date_of_birth" && f.Code == matching.CodeRequired:
				fe = append(fe, FieldError{"date_of_birth", "Enter your date of birth."})
			case f.Field == "date_of_birth" && f.Code == matching.CodeInTheFuture:
				fe = append(fe, FieldError{"date_of_birth", "Your date of birth must be in the past."})
			case f.Field == "date_of_birth":
				fe = append(fe, FieldError{"date_of_birth", "Date of birth must be a real date."})
			case f.Field == "nhs_number":
				fe = append(fe, FieldError{"nhs_number", "Enter your 10 digit NHS number as it is on a letter from the NHS, or leave it blank."})
			default:
				fe = append(fe, FieldError{f.Field, sentence(f.Message)})
			}
		}
	}
	if len(fe) > 0 {
		return &InvalidError{Fields: fe}
	}
	if n, err := matching.ValidateNHSNumber(d.NHSNumber); err == nil {
		d.NHSNumber = n
	}
	v.Verified = true
	v.GivenName, v.FamilyName, v.DateOfBirth, v.NHSNumber = d.GivenName, d.FamilyName, d.DateOfBirth, d.NHSNumber
	return s.Store.UpdateBookingLinkVisit(ctx, v.BookingLinkVisit)
}

// ctxFor is the booking core's context for a link: the partner that made it, so its holds and
// bookings are that partner's (and reach its webhooks).
func ctxFor(ctx context.Context, l store.BookingLink) context.Context {
	if l.OwnerID == "" {
		return ctx
	}
	return booking.WithOwner(ctx, l.OwnerID)
}

// window is the days a link offers from a day on: never before its first day or today, never
// after its last day or the booking core's synced window. ok is false when no day is left.
func (s *Service) window(l store.BookingLink, from emis.Date) (emis.Date, emis.Date, bool, error) {
	first, err := emis.ParseDate(l.FromDate)
	if err != nil {
		return from, from, false, fmt.Errorf("bookinglink: link %s first day: %w", l.ID, err)
	}
	last, err := emis.ParseDate(l.ToDate)
	if err != nil {
		return from, from, false, fmt.Errorf("bookinglink: link %s last day: %w", l.ID, err)
	}
	for _, d := range []emis.Date{first, emis.Today(s.now())} {
		if from.Before(d) {
			from = d
		}
	}
	if w, ok := s.Booking.(interface{ SyncWindow() (emis.Date, emis.Date) }); ok {
		if _, horizon := w.SyncWindow(); horizon.Before(last) {
			last = horizon
		}
	}
	return from, last, !last.Before(from), nil
}

func (s *Service) query(l store.BookingLink, from, last emis.Date, cursor string) booking.SlotQuery {
	return booking.SlotQuery{From: from.At(0), To: last.At(0), AppointmentTypeID: l.AppointmentTypeID,
		LocationID: l.LocationID, PractitionerID: l.PractitionerID, Cursor: cursor, Limit: 200}
}

// Day is one day's free slots.
type Day struct {
	Date  emis.Date
	Slots []booking.Slot
}

// Slots finds the free slots the link offers: the first day with any on or after from, and
// whether a later day has any (next, the day to ask for then).
func (s *Service) Slots(ctx context.Context, l store.BookingLink, from emis.Date) (day Day, next emis.Date, more bool, err error) {
	from, last, ok, err := s.window(l, from)
	if err != nil || !ok {
		return day, next, false, err
	}
	page, err := s.Booking.Slots(ctxFor(ctx, l), l.PracticeGroupID, s.query(l, from, last, ""))
	if err != nil {
		return day, next, false, err
	}
	for _, sl := range page.Slots {
		d := emis.DateOf(sl.StartAt.In(emis.London))
		switch {
		case day.Slots == nil || d == day.Date:
			day.Date = d
			day.Slots = append(day.Slots, sl)
		default:
			return day, d, true, nil
		}
	}
	if page.NextCursor != "" && day.Slots != nil {
		return day, day.Date.AddDays(1), true, nil
	}
	return day, next, false, nil
}

// Hold places a hold on a slot for the visit, through the booking core as the link's partner,
// for the practice's hold time. The slot must be one the link offers. A hold the visit already
// had is let go only once the new one is placed, so a refused choice leaves it standing.
func (s *Service) Hold(ctx context.Context, l store.BookingLink, v *Visit, slotID string) (booking.Appointment, error) {
	if StatusOf(l, s.now()) != StatusActive || !v.Verified {
		return booking.Appointment{}, ErrUnusable
	}
	bctx := ctxFor(ctx, l)
	var previous booking.Appointment
	if v.AppointmentID != "" {
		a, err := s.Booking.Appointment(bctx, l.PracticeGroupID, v.AppointmentID)
		switch {
		case err != nil && booking.CodeOf(err) != booking.CodeNotFound:
			return booking.Appointment{}, err
		case err == nil && a.State == booking.StateReserved && s.now().Before(a.ReservedUntil):
			if a.SlotID == slotID {
				return a, nil // the same time again
			}
			previous = a
		case err == nil && a.State.Live() && a.State != booking.StateReserved:
			return booking.Appointment{}, ErrUnusable // this visit already booked
		}
	}
	sl, err := s.offered(bctx, l, slotID)
	if err != nil {
		return booking.Appointment{}, err
	}
	a, err := s.Booking.Reserve(bctx, l.PracticeGroupID, l.OwnerID, booking.ReserveRequest{SlotID: sl.ID,
		AppointmentTypeID: l.AppointmentTypeID, Description: "Booked by the patient through a booking link"})
	if err != nil {
		return booking.Appointment{}, err
	}
	v.AppointmentID = a.ID
	if err := s.Store.UpdateBookingLinkVisit(ctx, v.BookingLinkVisit); err != nil {
		return booking.Appointment{}, err
	}
	if previous.ID != "" {
		// The previous time goes back to others now rather than when its hold runs out.
		if _, err := s.Booking.Cancel(bctx, l.PracticeGroupID, previous.ID, booking.CancelRequest{Reason: "the patient chose another time"}); err != nil {
			s.log().Warn("let go of a booking link's previous hold", "link", l.ID, "appointment", previous.ID, "err", err)
		}
	}
	return a, nil
}

// offered checks that a slot is one the link offers: its type, location, practitioner and
// days.
func (s *Service) offered(ctx context.Context, l store.BookingLink, slotID string) (booking.Slot, error) {
	gone := &booking.Error{Code: booking.CodeSlotUnavailable, Message: "that time is no longer free"}
	from, last, ok, err := s.window(l, emis.Date{})
	if err != nil {
		return booking.Slot{}, err
	}
	cursor := ""
	for ok {
		page, err := s.Booking.Slots(ctx, l.PracticeGroupID, s.query(l, from, last, cursor))
		if err != nil {
			return booking.Slot{}, err
		}
		for _, sl := range page.Slots {
			if sl.ID == slotID {
				return sl, nil
			}
		}
		cursor, ok = page.NextCursor, page.NextCursor != ""
	}
	return booking.Slot{}, gone
}

// Held is the visit's appointment, if any.
func (s *Service) Held(ctx context.Context, l store.BookingLink, v Visit) (booking.Appointment, bool, error) {
	if v.AppointmentID == "" {
		return booking.Appointment{}, false, nil
	}
	a, err := s.Booking.Appointment(ctxFor(ctx, l), l.PracticeGroupID, v.AppointmentID)
	if booking.CodeOf(err) == booking.CodeNotFound {
		return booking.Appointment{}, false, nil
	}
	if err != nil {
		return booking.Appointment{}, false, err
	}
	return a, true, nil
}

// Confirm books the visit's hold for its patient through the booking core. One of the link's
// uses is claimed first (in one statement, so max_uses holds however many patients confirm at
// once) and given back if the booking is refused.
func (s *Service) Confirm(ctx context.Context, l store.BookingLink, v Visit) (booking.Appointment, error) {
	if !v.Verified || v.AppointmentID == "" {
		return booking.Appointment{}, ErrUnusable
	}
	ok, err := s.Store.ClaimBookingLinkUse(ctx, l.ID, s.now())
	if err != nil {
		return booking.Appointment{}, err
	}
	if !ok {
		return booking.Appointment{}, ErrUnusable
	}
	a, err := s.Booking.Book(ctxFor(ctx, l), l.PracticeGroupID, v.AppointmentID, booking.PatientInput{Demographics: matching.Demographics{
		GivenName: v.GivenName, FamilyName: v.FamilyName, DateOfBirth: v.DateOfBirth, NHSNumber: v.NHSNumber}})
	if err != nil {
		if rerr := s.Store.ReleaseBookingLinkUse(context.WithoutCancel(ctx), l.ID); rerr != nil {
			s.log().Error("give back a booking link use", "link", l.ID, "err", rerr)
		}
		return booking.Appointment{}, err
	}
	s.log().Info("booking made through a booking link", "link", l.ID, "appointment", a.ID, "practice", l.PracticeID)
	return a, nil
}

// Cancel cancels the visit's booking as the partner would: the practice's cut-off applies.
func (s *Service) Cancel(ctx context.Context, l store.BookingLink, v Visit) (booking.Appointment, error) {
	if v.AppointmentID == "" {
		return booking.Appointment{}, ErrUnusable
	}
	return s.Booking.Cancel(ctxFor(ctx, l), l.PracticeGroupID, v.AppointmentID,
		booking.CancelRequest{Reason: "cancelled by the patient through the booking link"})
}
