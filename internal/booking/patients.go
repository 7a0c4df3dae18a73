package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/matching"
	"herolink/internal/store"
)

const maxContact = 200

// resolvePatient finds the registered patient named by id, or validates demographics for a
// new one (not yet stored: the caller inserts it in its own transaction).
func (s *Service) resolvePatient(ctx context.Context, group string, p PatientInput) (store.PatientRow, bool, error) {
	if p.PatientID != "" {
		row, err := s.Store.Patient(ctx, s.Store.DBQ(), p.PatientID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (row.PracticeGroupID != group || !visible(ctx, row.Owner))) {
			return row, false, &Error{Code: CodeInvalid, Message: "there is no patient " + p.PatientID + " in this practice group",
				Fields: []FieldError{{Field: "patient_id", Code: "unknown", Message: "register the patient first, or send their details instead"}}}
		}
		return row, false, err
	}
	row, err := s.newPatient(group, p, "patient.")
	row.Owner = ownerOf(ctx)
	return row, true, err
}

// newPatient validates a patient's details; field names get prefix ("patient." where the
// details are nested in a booking's body).
func (s *Service) newPatient(group string, p PatientInput, prefix string) (store.PatientRow, error) {
	var fields []FieldError
	if err := matching.ValidateDemographics(p.Demographics); err != nil {
		var fe matching.FieldErrors
		if !errors.As(err, &fe) {
			return store.PatientRow{}, err
		}
		for _, f := range fe {
			fields = append(fields, FieldError{Field: prefix + f.Field, Code: f.Code, Message: f.Message})
		}
	}
	if len(p.Email) > maxContact || (p.Email != "" && !strings.Contains(p.Email, "@")) {
		fields = append(fields, FieldError{Field: prefix + "email", Code: "format", Message: "email must be an address with an @, at most 200 characters"})
	}
	if len(p.Phone) > maxContact {
		fields = append(fields, FieldError{Field: prefix + "phone", Code: "too_long", Message: "phone must be at most 200 characters"})
	}
	if len(fields) > 0 {
		return store.PatientRow{}, &Error{Code: CodeInvalid, Message: fields[0].Message, Fields: fields}
	}
	d := p.Demographics
	nhs, _ := matching.ValidateNHSNumber(d.NHSNumber)
	return store.PatientRow{ID: randomID("pat_", 16), PracticeGroupID: group, NHSNumber: nhs,
		FamilyName: strings.TrimSpace(d.FamilyName), GivenName: strings.TrimSpace(d.GivenName), DateOfBirth: strings.TrimSpace(d.DateOfBirth),
		Postcode: strings.TrimSpace(d.Postcode), Email: strings.TrimSpace(p.Email), Phone: strings.TrimSpace(p.Phone)}, nil
}

// RegisterPatient stores a patient for the practice group.
func (s *Service) RegisterPatient(ctx context.Context, group string, p PatientInput) (Patient, error) {
	if p.PatientID != "" {
		return Patient{}, &Error{Code: CodeInvalid, Message: "a new patient has no id yet",
			Fields: []FieldError{{Field: "patient_id", Code: "not_allowed", Message: "leave patient_id out when registering"}}}
	}
	row, err := s.newPatient(group, p, "")
	if err != nil {
		return Patient{}, err
	}
	row.Owner = ownerOf(ctx)
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.InsertPatient(ctx, tx, row); err != nil {
			return err
		}
		return commit(ctx, tx, row.ID)
	})
	if err != nil {
		return Patient{}, err
	}
	return s.Patient(ctx, group, row.ID)
}

// Patient reads a patient of the group with their EMIS links.
func (s *Service) Patient(ctx context.Context, group, id string) (Patient, error) {
	row, err := s.Store.Patient(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (row.PracticeGroupID != group || !visible(ctx, row.Owner))) {
		return Patient{}, refuse(CodeNotFound, "there is no patient %s in this practice group", id)
	}
	if err != nil {
		return Patient{}, err
	}
	links, err := s.Store.PatientLinks(ctx, id)
	if err != nil {
		return Patient{}, err
	}
	out := Patient{ID: row.ID, PracticeGroupID: row.PracticeGroupID, Demographics: demographicsOf(row), Email: row.Email,
		Phone: row.Phone, CreatedAt: row.CreatedAt, Links: []PatientLink{}}
	for _, l := range links {
		out.Links = append(out.Links, PatientLink{PracticeID: l.PracticeID, EMISPatientID: l.EMISPatientID, Rule: l.Rule, LinkedAt: l.LinkedAt})
	}
	return out, nil
}

func demographicsOf(p store.PatientRow) matching.Demographics {
	return matching.Demographics{NHSNumber: p.NHSNumber, FamilyName: p.FamilyName, GivenName: p.GivenName,
		DateOfBirth: p.DateOfBirth, Postcode: p.Postcode}
}

// PatientLinkCheck searches a practice's EMIS register for the patient and says only whether
// herolink could link them there, with a reason code when not. practiceID 0 means the group's
// only practice.
//
// The answer goes to a partner, who must learn nothing about the register beyond what it
// supplied: so it carries no candidate, no EMIS or NHS number, and no rule or sentence that
// tells one refusal from another (an NHS number whose holder has another date of birth reads
// exactly like an NHS number nobody holds). Linked means matching's rules accepted exactly one
// record for exactly these details; anything less is no_unique_match.
func (s *Service) PatientLinkCheck(ctx context.Context, group, id string, practiceID int64) (LinkCheck, error) {
	row, err := s.Store.Patient(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (row.PracticeGroupID != group || !visible(ctx, row.Owner))) {
		return LinkCheck{}, refuse(CodeNotFound, "there is no patient %s in this practice group", id)
	}
	if err != nil {
		return LinkCheck{}, err
	}
	practices, err := s.groupPractices(ctx, group)
	if err != nil {
		return LinkCheck{}, err
	}
	switch {
	case practiceID == 0 && len(practices) == 1:
		practiceID = practices[0]
	case practiceID == 0:
		return LinkCheck{}, &Error{Code: CodeInvalid, Message: "this practice group has several practices; say which",
			Fields: []FieldError{{Field: "practice_id", Code: "required", Message: "practice_id is required for a group with several practices"}}}
	case !slices.Contains(practices, practiceID):
		return LinkCheck{}, &Error{Code: CodeInvalid, Message: "practice_id is not a practice of this group",
			Fields: []FieldError{{Field: "practice_id", Code: "unknown", Message: fmt.Sprintf("there is no practice %d in this practice group", practiceID)}}}
	}
	out := LinkCheck{PracticeID: practiceID, Reason: LinkPracticeUnavailable}
	conn, err := s.Conns.Conn(ctx, practiceID)
	if err != nil {
		// The cause (refused credentials, the vault, the network) is the practice's and
		// herolink's business, not the partner's: it is logged, and the partner told only this.
		s.log().Warn("patient link check: no EMIS connection", "practice", practiceID, "err", err)
		return out, nil
	}
	v, err := s.search(ctx, conn, demographicsOf(row))
	if err != nil {
		s.log().Warn("patient link check: EMIS search failed", "practice", practiceID, "err", err)
		return out, nil
	}
	if v.Outcome == matching.Linked {
		return LinkCheck{PracticeID: practiceID, Linked: true}, nil
	}
	out.Reason = PartnerReason(v.Rule)
	return out, nil
}

// The reason codes a partner may be told why a patient is not linked (a link check, a
// placeholder). Each covers many of matching's rules on purpose: telling them apart would say
// what the register holds.
const (
	LinkNoUniqueMatch       = "no_unique_match"      // the register holds no one record that fits every detail given
	LinkDetailsIncomplete   = "details_incomplete"   // the details given are not enough to link anyone
	LinkPracticeUnavailable = "practice_unavailable" // the practice's EMIS could not be searched now
)

// PartnerReason turns the rule that refused a link into the code a partner may see.
func PartnerReason(rule string) string {
	switch rule {
	case matching.RuleNotEnoughDetails, matching.RuleDateOfBirthMissing:
		return LinkDetailsIncomplete
	case RuleMatchTimedOut:
		return LinkPracticeUnavailable
	}
	return LinkNoUniqueMatch
}

// search runs the matching searches against EMIS and decides (matching.Match refuses to
// link on a search EMIS may have cut short).
func (s *Service) search(ctx context.Context, conn *emis.Conn, d matching.Demographics) (matching.Verdict, error) {
	v, _, err := s.countedSearch(ctx, conn, d)
	return v, err
}

// countedSearch also says how many searches EMIS was sent.
func (s *Service) countedSearch(ctx context.Context, conn *emis.Conn, d matching.Demographics) (matching.Verdict, int, error) {
	c := &countingSearcher{conn: conn}
	v, err := matching.Match(ctx, c, d)
	return v, c.calls, err
}

type countingSearcher struct {
	conn  *emis.Conn
	calls int
}

func (c *countingSearcher) GetMatchedPatient(ctx context.Context, filter string) ([]emis.Patient, error) {
	c.calls++
	return c.conn.GetMatchedPatient(ctx, filter)
}
