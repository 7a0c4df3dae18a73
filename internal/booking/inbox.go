package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"herolink/internal/matching"
	"herolink/internal/store"
)

// The reconciliation inbox: every placeholder waiting for its patient, with what staff need to
// decide (who booked and when, the slot, what the patient typed, what EMIS answered and why
// none of it was linked, how long it has waited), and the practice's figures. It is for the
// practice's own staff: the web layer hides the patient and the candidates from support.

// Inbox is a practice's reconciliation inbox.
type Inbox struct {
	Items     []InboxItem
	Figures   store.InboxFigures
	Threshold time.Duration // after which a placeholder is overdue
	Now       time.Time
}

// OverdueCount is how many placeholders have waited past the threshold.
func (in Inbox) OverdueCount() int {
	n := 0
	for _, it := range in.Items {
		if it.Overdue {
			n++
		}
	}
	return n
}

// InboxItem is one placeholder waiting.
type InboxItem struct {
	ID          string
	Reference   string
	StartAt     time.Time
	LengthMin   int
	Description string // the reason for the appointment, as the partner sent it
	// The slot as the practice's mapping names it: "" or empty when unmapped.
	AppointmentType string
	Location        string
	Practitioners   []string
	Partner         string // the name of the partner's API key; "" when booked without one
	BookedAt        time.Time
	Typed           Details // what the patient typed
	Postcode        string
	MatchRule       string // why none was linked (matching's rule, or herolink's)
	WhyNot          string // matching's sentence for staff, from the last search
	SearchedAt      time.Time
	Candidates      []InboxCandidate
	Since           time.Time // when the placeholder was first written
	Waited          time.Duration
	Overdue         bool // waited past the threshold (recorded once, with appointment.placeholder_overdue)
	Linking         bool // staff linked an EMIS number; herolink is converting it
}

// InboxCandidate is a registration EMIS returned for the patient, and why it was not linked.
type InboxCandidate struct {
	EMISNumber  int64  `json:"emis_number"`
	FamilyName  string `json:"family_name"`
	FirstNames  string `json:"first_names"`
	DateOfBirth string `json:"date_of_birth"`
	NHSNumber   string `json:"nhs_number,omitempty"`
	Postcode    string `json:"postcode,omitempty"`
	Why         string `json:"why"`
}

// String keeps candidates out of logs.
func (InboxCandidate) String() string { return "[candidate]" }

// Inbox reads a practice's reconciliation inbox, oldest placeholder first.
func (s *Service) Inbox(ctx context.Context, practiceID int64) (Inbox, error) {
	now := s.now()
	threshold, err := s.overdueAfter(ctx, practiceID)
	if err != nil {
		return Inbox{}, err
	}
	figs, err := s.Store.PlaceholderFigures(ctx, practiceID, now.Add(-30*24*time.Hour))
	if err != nil {
		return Inbox{}, err
	}
	waiting, err := s.Store.WaitingPlaceholders(ctx, practiceID)
	if err != nil {
		return Inbox{}, err
	}
	in := Inbox{Figures: figs, Threshold: threshold, Now: now, Items: make([]InboxItem, 0, len(waiting))}
	cat, err := s.catalogue(ctx, practiceID)
	if err != nil {
		return Inbox{}, err
	}
	for _, w := range waiting {
		a, err := s.Store.Appointment(ctx, s.Store.DBQ(), w.AppointmentID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Inbox{}, err
		}
		it := InboxItem{ID: a.ID, Reference: a.Reference, StartAt: a.StartAt, LengthMin: a.LengthMin, Description: a.Description,
			BookedAt: a.ConfirmedAt, MatchRule: a.MatchRule, Since: w.Since, Waited: now.Sub(w.Since),
			Overdue: w.Overdue || now.Sub(w.Since) >= threshold, Linking: a.EMISPatientID != 0}
		it.AppointmentType, it.Location, it.Practitioners = cat.names(ctx, s.Store, a)
		if it.Partner, err = s.Store.APIKeyName(ctx, a.APIKeyID); err != nil {
			return Inbox{}, err
		}
		if p, err := s.Store.Patient(ctx, s.Store.DBQ(), a.PatientID); err == nil {
			it.Typed, it.Postcode = detailsOfPatient(p), p.Postcode
		}
		if m, err := s.Store.MatchCandidatesOf(ctx, a.ID); err == nil {
			it.WhyNot, it.SearchedAt = m.Reason, m.SearchedAt
			if err := json.Unmarshal([]byte(m.Candidates), &it.Candidates); err != nil {
				return Inbox{}, fmt.Errorf("booking: candidates of %s: %w", a.Reference, err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return Inbox{}, err
		}
		in.Items = append(in.Items, it)
	}
	return in, nil
}

// overdueAfter is how long a practice's placeholders may wait: PlaceholderAlertAfter for
// every practice when set, otherwise the practice's own threshold.
func (s *Service) overdueAfter(ctx context.Context, practiceID int64) (time.Duration, error) {
	if s.PlaceholderAlertAfter > 0 {
		return s.PlaceholderAlertAfter, nil
	}
	return s.Store.PlaceholderOverdue(ctx, practiceID)
}

// saveCandidates keeps what a search that linked nobody found, for staff.
func (s *Service) saveCandidates(ctx context.Context, q store.Queryer, id string, v matching.Verdict) error {
	cs := make([]InboxCandidate, 0, len(v.Assessments))
	for _, as := range v.Assessments {
		c := as.Candidate
		cs = append(cs, InboxCandidate{EMISNumber: c.EMISNumber, FamilyName: c.FamilyName, FirstNames: c.FirstNames,
			DateOfBirth: c.DateOfBirth, NHSNumber: c.NHSNumber, Postcode: c.Postcode, Why: as.Reason})
	}
	js, err := json.Marshal(cs)
	if err != nil {
		return err
	}
	return s.Store.SaveMatchCandidates(ctx, q, id, store.MatchCandidates{SearchedAt: s.now(), Reason: v.Reason, Candidates: string(js)})
}

// alertPlaceholders records, once, each placeholder that has waited past its practice's
// threshold: appointment.placeholder_overdue (the webhook's source), the alert on the bookings
// page and an audit line, in one transaction. Safe when two instances sweep at once.
func (s *Service) alertPlaceholders(ctx context.Context) error {
	waiting, err := s.Store.WaitingPlaceholders(ctx, 0)
	if err != nil {
		return err
	}
	now := s.now()
	for _, w := range waiting {
		after := w.Threshold
		if s.PlaceholderAlertAfter > 0 {
			after = s.PlaceholderAlertAfter
		}
		if w.Overdue || now.Sub(w.Since) < after {
			continue
		}
		err := s.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := s.Store.MarkPlaceholderOverdue(ctx, tx, w.AppointmentID, now); err != nil {
				return err
			}
			if err := s.Store.AddAppointmentEvent(ctx, tx, w.AppointmentID, "appointment.placeholder_overdue", after.String()); err != nil {
				return err
			}
			return s.Store.AppendAuditTx(ctx, tx, store.AuditEntry{Actor: "herolink", Action: "unregistered_patient_alert", PracticeID: w.PracticeID,
				Detail: fmt.Sprintf("booking %s has been a placeholder for more than %s: find the patient in EMIS and link their EMIS number", w.Reference, after)})
		})
		if errors.Is(err, store.ErrStateChanged) {
			continue // resolved meanwhile, or another instance recorded it
		}
		if err != nil {
			return err
		}
		s.log().Warn("unregistered patient alert: placeholder overdue", "appointment", w.AppointmentID, "practice", w.PracticeID)
	}
	return nil
}

// names says which appointment type, location and practitioners a booking's slot is, by the
// practice's mapping (the diary copy's site and session holders).
func (c *catalogue) names(ctx context.Context, st *store.Store, a store.AppointmentRow) (apptType, location string, practitioners []string) {
	if t, ok := c.typeByEMIS[a.EMISSlotTypeID]; ok {
		apptType = t.Name
	}
	d, err := st.DiarySlotByID(ctx, a.PracticeID, a.SlotID)
	if err != nil {
		return apptType, "", nil
	}
	if l, ok := c.locationBySite[d.SiteID]; ok {
		location = l.Name
	}
	for _, h := range d.HolderIDs {
		if p, ok := c.practByHolder[h]; ok {
			practitioners = append(practitioners, p.Name)
		}
	}
	return apptType, location, practitioners
}
