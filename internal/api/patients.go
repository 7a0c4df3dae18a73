package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/matching"
	"herolink/internal/store"
)

// patientBody is who a patient is, as a partner tells it: POST /v1/patients/register and the
// patient of POST /v1/appointments/{id}/book.
type patientBody struct {
	NHSNumber   *string `json:"nhs_number"`
	FamilyName  *string `json:"family_name"`
	GivenName   *string `json:"given_name"`
	DateOfBirth *string `json:"date_of_birth"`
	Postcode    *string `json:"postcode"`
	Email       *string `json:"email"`
	Phone       *string `json:"phone"`
}

type bookBody struct {
	PatientID *string      `json:"patient_id"`
	Patient   *patientBody `json:"patient"`
}

// check finds what is wrong with the shape of each field (prefix is "patient." inside a book
// body); whether the details identify a patient is matching's to say.
func (b patientBody) check(prefix string) []FieldProblem {
	var fields []FieldProblem
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"nhs_number", b.NHSNumber, 20}, {"family_name", b.FamilyName, 100}, {"given_name", b.GivenName, 100},
		{"postcode", b.Postcode, 10}, {"email", b.Email, 254}, {"phone", b.Phone, 32}} {
		fields = textField(fields, prefix+f.name, f.v, f.max)
	}
	if b.DateOfBirth != nil {
		if _, err := time.Parse(time.DateOnly, *b.DateOfBirth); err != nil {
			fields = append(fields, FieldProblem{Field: prefix + "date_of_birth", Code: "invalid_date", Message: "date_of_birth must be a date written yyyy-mm-dd"})
		}
	}
	if b.Email != nil && *b.Email != "" && !strings.Contains(*b.Email, "@") {
		fields = append(fields, FieldProblem{Field: prefix + "email", Code: "invalid", Message: "email must be an email address"})
	}
	return fields
}

func (b patientBody) input() booking.PatientInput {
	return booking.PatientInput{Demographics: matching.Demographics{NHSNumber: deref(b.NHSNumber), FamilyName: deref(b.FamilyName),
		GivenName: deref(b.GivenName), DateOfBirth: deref(b.DateOfBirth), Postcode: deref(b.Postcode)},
		Email: deref(b.Email), Phone: deref(b.Phone)}
}

func decodeBook(data []byte) (booking.PatientInput, *Problem) {
	var b bookBody
	if p := decodeBody(data, &b, false); p != nil {
		return booking.PatientInput{}, p
	}
	switch {
	case b.PatientID != nil && b.Patient != nil:
		return booking.PatientInput{}, invalid("Send either patient_id or patient, not both.",
			FieldProblem{Field: "patient", Code: "conflict", Message: "give either patient_id or patient"})
	case b.Patient != nil:
		if fields := b.Patient.check("patient."); len(fields) > 0 {
			return booking.PatientInput{}, invalid("The patient is not valid: see errors.", fields...)
		}
		return b.Patient.input(), nil
	}
	if fields := idField(nil, "patient_id", b.PatientID, true); len(fields) > 0 {
		return booking.PatientInput{}, invalid("Send the patient_id of a registered patient, or the patient's details in patient.", fields...)
	}
	return booking.PatientInput{PatientID: *b.PatientID}, nil
}

// patientLinkJSON says the patient is linked at a practice. The EMIS number is not given: the
// partner never supplied it, and it identifies a record in the practice's register.
type patientLinkJSON struct {
	PracticeID string `json:"practice_id"`
	Rule       string `json:"rule"`
	LinkedAt   string `json:"linked_at"`
}

type patientJSON struct {
	ID          string            `json:"id"`
	NHSNumber   *string           `json:"nhs_number"`
	FamilyName  *string           `json:"family_name"`
	GivenName   *string           `json:"given_name"`
	DateOfBirth *string           `json:"date_of_birth"`
	Postcode    *string           `json:"postcode"`
	Email       *string           `json:"email"`
	Phone       *string           `json:"phone"`
	Links       []patientLinkJSON `json:"links"`
	CreatedAt   string            `json:"created_at"`
}

func toPatientJSON(p booking.Patient) patientJSON {
	d := p.Demographics
	out := patientJSON{ID: p.ID, NHSNumber: str(d.NHSNumber), FamilyName: str(d.FamilyName), GivenName: str(d.GivenName),
		DateOfBirth: str(d.DateOfBirth), Postcode: str(d.Postcode), Email: str(p.Email), Phone: str(p.Phone),
		Links: []patientLinkJSON{}, CreatedAt: mustTime(p.CreatedAt)}
	for _, l := range p.Links {
		// Which matching rule linked says what else the register holds (a postcode tie-break
		// means namesakes born the same day), so a partner is told only who linked.
		rule := "matched"
		if l.Rule == booking.RuleStaff {
			rule = booking.RuleStaff
		}
		out.Links = append(out.Links, patientLinkJSON{PracticeID: practiceID(l.PracticeID), Rule: rule, LinkedAt: mustTime(l.LinkedAt)})
	}
	return out
}

// registerPatient is POST /v1/patients/register.
func (s *server) registerPatient(w http.ResponseWriter, r *http.Request, c *call) error {
	var b patientBody
	if p := decodeBody(c.body, &b, false); p != nil {
		return p
	}
	if fields := b.check(""); len(fields) > 0 {
		return invalid("The patient is not valid: see errors.", fields...)
	}
	pt, err := s.cfg.Booking.RegisterPatient(r.Context(), c.group, b.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/patients/"+pt.ID)
	return writeJSON(w, http.StatusCreated, toPatientJSON(pt))
}

func (s *server) patient(w http.ResponseWriter, r *http.Request, c *call) error {
	if p := noQuery(r); p != nil {
		return p
	}
	pt, err := s.cfg.Booking.Patient(r.Context(), c.group, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toPatientJSON(pt))
}

// linkCheckJSON is the answer of GET /v1/patients/{id}/ehr/candidates: whether herolink could
// link the patient at the practice. It names the patient and practice the partner asked about
// and nothing from EMIS: no candidate, no EMIS or NHS number, no rule.
type linkCheckJSON struct {
	PatientID  string  `json:"patient_id"`
	PracticeID string  `json:"practice_id"`
	Outcome    string  `json:"outcome"`
	Reason     *string `json:"reason"`
	Detail     string  `json:"detail"`
}

// linkDetails says each outcome in a sentence that is the same for every patient.
var linkDetails = map[string]string{
	"":                              "herolink can link this patient to exactly one record at the practice; bookings are written against it.",
	booking.LinkNoUniqueMatch:       "herolink cannot link this patient to exactly one record at the practice from the details given; a booking becomes a placeholder the practice reconciles.",
	booking.LinkDetailsIncomplete:   "The details given are not enough to link anyone: send the date of birth with the NHS number or both names.",
	booking.LinkPracticeUnavailable: "The practice's EMIS could not be searched just now; try again later.",
}

func toLinkCheckJSON(patientID string, c booking.LinkCheck) linkCheckJSON {
	out := linkCheckJSON{PatientID: patientID, PracticeID: practiceID(c.PracticeID), Outcome: "linked", Detail: linkDetails[""]}
	if !c.Linked {
		reason := c.Reason
		if _, known := linkDetails[reason]; !known || reason == "" {
			reason = booking.LinkNoUniqueMatch // never pass on a code this layer does not know to be safe
		}
		out.Outcome, out.Reason, out.Detail = "not_linked", &reason, linkDetails[reason]
	}
	return out
}

// candidates is GET /v1/patients/{id}/ehr/candidates?practice_id=: whether herolink could link
// the patient at one practice (practice_id may be left out when the group has one). Each
// look-up searches the practice's register, so it is limited more strictly than other calls
// and audited.
func (s *server) candidates(w http.ResponseWriter, r *http.Request, c *call) error {
	q := parseQuery(r, "practice_id")
	var pid int64 // 0: the group's only practice
	if v := q.value("practice_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			q.fields = append(q.fields, FieldProblem{Field: "practice_id", Code: "invalid", Message: "practice_id must be a practice id herolink gives"})
		}
		pid = n
	}
	if p := q.problem(); p != nil {
		return p
	}
	if ok, wait := s.lookups.allow(c.key.Owner); !ok {
		return problem(http.StatusTooManyRequests, codeRateLimited,
			"This partner checked too many patients against practice registers; wait as Retry-After says.").with("Retry-After", retryAfter(wait))
	}
	id := r.PathValue("id")
	check, err := s.cfg.Booking.PatientLinkCheck(r.Context(), c.group, id, pid)
	s.auditLookup(r, c, id, pid, check, err)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLinkCheckJSON(id, check))
}

// auditLookup records who checked which patient at which practice and what they were told;
// never the patient's details.
func (s *server) auditLookup(r *http.Request, c *call, patientID string, pid int64, check booking.LinkCheck, err error) {
	outcome := "linked"
	switch {
	case err != nil:
		outcome = "refused"
		if code := booking.CodeOf(err); code != "" {
			outcome += " (" + string(code) + ")"
		}
	case !check.Linked:
		outcome = "not_linked (" + check.Reason + ")"
	}
	// Only a practice the booking core found in the key's group is written as the line's
	// practice; one the partner merely named may not exist.
	e := store.AuditEntry{Actor: "api_key:" + c.key.ID, Action: "patient.link_checked", PracticeID: check.PracticeID,
		Detail: "partner " + c.key.Owner + " checked patient " + patientID + ": " + outcome}
	if check.PracticeID == 0 && pid != 0 {
		e.Detail += "; practice asked " + strconv.FormatInt(pid, 10)
	}
	if aerr := s.cfg.Store.AppendAudit(context.WithoutCancel(r.Context()), e); aerr != nil {
		s.log.Error("partner API: audit a patient link check", "err", aerr)
	}
}

// fromMatching answers demographics matching refused, should booking pass them on as they are.
func fromMatching(err error) *Problem {
	var fe matching.FieldErrors
	if !errors.As(err, &fe) {
		return nil
	}
	p := invalid("The patient's details are not valid: see errors.")
	for _, f := range fe {
		p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Code: f.Code, Message: f.Message})
	}
	return p
}
