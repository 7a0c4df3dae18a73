package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herolink/internal/booking"
	"herolink/internal/matching"
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

type patientLinkJSON struct {
	PracticeID string `json:"practice_id"`
	EMISNumber string `json:"emis_number"`
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
		out.Links = append(out.Links, patientLinkJSON{PracticeID: practiceID(l.PracticeID),
			EMISNumber: strconv.FormatInt(l.EMISPatientID, 10), Rule: l.Rule, LinkedAt: mustTime(l.LinkedAt)})
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

type agreementJSON struct {
	NHSNumber   string `json:"nhs_number"`
	FamilyName  string `json:"family_name"`
	GivenName   string `json:"given_name"`
	DateOfBirth string `json:"date_of_birth"`
	Postcode    string `json:"postcode"`
}

// candidateJSON is one EMIS registration the search returned. Its postcode and address are
// not revealed: only what identifies the record and how it compares.
type candidateJSON struct {
	EMISNumber  string        `json:"emis_number"`
	NHSNumber   *string       `json:"nhs_number"`
	FamilyName  string        `json:"family_name"`
	FirstNames  string        `json:"first_names"`
	DateOfBirth *string       `json:"date_of_birth"`
	Matched     bool          `json:"matched"`
	Agreement   agreementJSON `json:"agreement"`
	Reason      string        `json:"reason"`
}

type candidatesJSON struct {
	PatientID  string          `json:"patient_id"`
	PracticeID string          `json:"practice_id"`
	Outcome    string          `json:"outcome"`
	Rule       string          `json:"rule"`
	Reason     string          `json:"reason"`
	EMISNumber *string         `json:"emis_number"`
	Candidates []candidateJSON `json:"candidates"`
}

func toCandidatesJSON(patientID string, c booking.Candidates) candidatesJSON {
	v := c.Verdict
	out := candidatesJSON{PatientID: patientID, PracticeID: practiceID(c.PracticeID), Outcome: string(v.Outcome), Rule: v.Rule,
		Reason: v.Reason, Candidates: []candidateJSON{}}
	if v.EMISNumber != 0 {
		out.EMISNumber = str(strconv.FormatInt(v.EMISNumber, 10))
	}
	for _, a := range v.Assessments {
		cd := a.Candidate
		out.Candidates = append(out.Candidates, candidateJSON{EMISNumber: strconv.FormatInt(cd.EMISNumber, 10),
			NHSNumber: str(cd.NHSNumber), FamilyName: cd.FamilyName, FirstNames: cd.FirstNames, DateOfBirth: str(cd.DateOfBirth),
			Matched: a.Matched, Reason: a.Reason, Agreement: agreementJSON{NHSNumber: string(a.NHSNumber),
				FamilyName: string(a.FamilyName), GivenName: string(a.GivenName), DateOfBirth: string(a.DateOfBirth),
				Postcode: string(a.Postcode)}})
	}
	return out
}

// candidates is GET /v1/patients/{id}/ehr/candidates?practice_id=: the EMIS search for the
// patient at one practice (practice_id may be left out when the group has one) and matching's
// verdict. It reveals EMIS demographics of the
// registrations the search returned, and of no others.
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
	id := r.PathValue("id")
	cands, err := s.cfg.Booking.PatientCandidates(r.Context(), c.group, id, pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toCandidatesJSON(id, cands))
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
