package sandbox

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"herolink/internal/emis"
)

var (
	postcodeRe  = regexp.MustCompile(`(?i)\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b`)
	nhsSpacedRe = regexp.MustCompile(`\b(\d{3})[ -](\d{3})[ -](\d{4})\b`)
)

// matchTerm is one term of a GetMatchedPatient filter.
type matchTerm struct {
	kind string // nhs, dob, postcode, name
	text string
}

// parseFilter splits a free-text filter into terms. A postcode or NHS number written with
// spaces is one term, so "LS1 4AP" and "999 123 4567" match as a whole.
func parseFilter(filter string) []matchTerm {
	var terms []matchTerm
	rest := nhsSpacedRe.ReplaceAllStringFunc(filter, func(m string) string {
		parts := nhsSpacedRe.FindStringSubmatch(m)
		terms = append(terms, matchTerm{"nhs", parts[1] + parts[2] + parts[3]})
		return " "
	})
	rest = postcodeRe.ReplaceAllStringFunc(rest, func(m string) string {
		parts := postcodeRe.FindStringSubmatch(m)
		terms = append(terms, matchTerm{"postcode", strings.ToUpper(parts[1] + parts[2])})
		return " "
	})
	for _, f := range strings.Fields(rest) {
		switch {
		case len(f) == 10 && isDigits(f):
			terms = append(terms, matchTerm{"nhs", f})
		case strings.Count(f, "/") == 2:
			if t, err := time.Parse("02/01/2006", f); err == nil {
				terms = append(terms, matchTerm{"dob", t.Format(time.DateOnly)})
			} else {
				terms = append(terms, matchTerm{"dob", "invalid:" + f})
			}
		default:
			terms = append(terms, matchTerm{"name", foldName(f)})
		}
	}
	return terms
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// foldName lower-cases for EMIS's case-insensitive prefix search. Accents are kept: EMIS
// searches what was typed, and herolink's matching does its own normalising.
func foldName(s string) string { return strings.ToLower(s) }

func (t matchTerm) matches(p Patient) bool {
	switch t.kind {
	case "nhs":
		return p.NHSNumber == t.text
	case "dob":
		return p.DateOfBirth == t.text
	case "postcode":
		return strings.ReplaceAll(p.Postcode, " ", "") == t.text
	}
	names := append(strings.Fields(p.FamilyName), strings.Fields(p.FirstNames)...)
	names = append(names, p.FamilyName)
	for _, n := range names {
		if strings.HasPrefix(foldName(n), t.text) {
			return true
		}
	}
	return false
}

const maxMatches = 100

// matchPatients answers GetMatchedPatient: every patient for whom every term matches a field.
func (o *Org) matchPatients(filter string) answer {
	terms := parseFilter(filter)
	if len(terms) == 0 {
		return fail(emis.OutcomeTechnicalError, "filter is empty: give an NHS number, names, date of birth (dd/mm/yyyy) or postcode")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out emis.PatientMatches
	o.eachPatientLocked(func(p Patient) bool {
		if p.Deducted != "" {
			return true // no longer registered here: not a match for booking
		}
		for _, t := range terms {
			if !t.matches(p) {
				return true
			}
		}
		out.Patients = append(out.Patients, p.wire())
		return len(out.Patients) < maxMatches
	})
	if len(out.Patients) == 0 {
		return fail(emis.OutcomeNothingToReturn, "no patients match the filter")
	}
	return ok(out)
}

func (p Patient) wire() emis.Patient {
	return emis.Patient{DBID: p.ID, NhsNumber: p.NHSNumber, Title: p.Title, FamilyName: p.FamilyName,
		FirstNames: p.FirstNames, DateOfBirth: p.DateOfBirth, Sex: p.Sex, Address: p.Address, Postcode: p.Postcode}
}

// patientAppointments answers GetPatientAppointments.
func (o *Org) patientAppointments(pid int64, from, to emis.Date) answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, found := o.patientLocked(pid); !found {
		return fail(emis.OutcomePatientNotFound, "patient %d not found", pid)
	}
	var out emis.PatientAppointmentList
	o.sessionsLocked(from, to, 0, func(d emis.Date, s *DiarySession) {
		sid := sessionID(o.Serial, dayNum(d), s.Index)
		for i := range s.Slots {
			if s.Slots[i].Status == emis.SlotBooked && s.Slots[i].PatientID == pid {
				out.Appointments = append(out.Appointments,
					o.wireSlotLocked(slotRef{date: d, session: s, sid: sid, idx: i, slot: &s.Slots[i]}))
			}
		}
	})
	if len(out.Appointments) == 0 {
		return fail(emis.OutcomeNothingToReturn, "the patient has no appointments in the range")
	}
	return ok(out)
}

// PatientInput registers or edits a patient through the admin API.
type PatientInput struct {
	NHSNumber   *string `json:"nhs_number"`
	Title       *string `json:"title"`
	FamilyName  *string `json:"family_name"`
	FirstNames  *string `json:"first_names"`
	DateOfBirth *string `json:"date_of_birth"`
	Sex         *string `json:"sex"`
	Address     *string `json:"address"`
	Postcode    *string `json:"postcode"`
	Phone       *string `json:"phone"`
}

func applyPatientInput(p *Patient, in PatientInput) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&p.Title, in.Title)
	set(&p.FamilyName, in.FamilyName)
	set(&p.FirstNames, in.FirstNames)
	set(&p.Address, in.Address)
	set(&p.Phone, in.Phone)
	if in.Postcode != nil {
		p.Postcode = normalisePostcode(*in.Postcode)
	}
	if in.NHSNumber != nil {
		n := strings.ReplaceAll(strings.TrimSpace(*in.NHSNumber), " ", "")
		if n != "" {
			if len(n) != 10 || !isDigits(n) {
				return invalid("nhs_number %q must be 10 digits", *in.NHSNumber)
			}
			if d, ok := NHSCheckDigit(n[:9]); !ok || int(n[9]-'0') != d {
				return invalid("nhs_number %s fails the Modulus 11 check digit", n)
			}
		}
		p.NHSNumber = n
	}
	if in.DateOfBirth != nil {
		d, err := emis.ParseDate(strings.TrimSpace(*in.DateOfBirth))
		if err != nil {
			return invalid("date_of_birth: %v", err)
		}
		p.DateOfBirth = d.String()
	}
	if in.Sex != nil {
		s := strings.ToUpper(strings.TrimSpace(*in.Sex))
		if s != "M" && s != "F" && s != "U" && s != "I" {
			return invalid("sex %q must be M, F, U (unknown) or I (indeterminate)", *in.Sex)
		}
		p.Sex = s
	}
	if p.FamilyName == "" || p.FirstNames == "" || p.DateOfBirth == "" {
		return invalid("family_name, first_names and date_of_birth are required")
	}
	if p.Sex == "" {
		p.Sex = "U"
	}
	return nil
}

// RegisterPatient adds a patient to the register with the next EMIS number.
func (o *Org) RegisterPatient(in PatientInput) (Patient, error) {
	var p Patient
	if err := applyPatientInput(&p, in); err != nil {
		return Patient{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.nhsNumberFreeLocked(p.NHSNumber, 0); err != nil {
		return Patient{}, err
	}
	p.ID = o.nextID("patient", emisNumber(o.GenPatients)+1000)
	o.ExtraPatients = append(o.ExtraPatients, &p)
	o.touch()
	return p, nil
}

func (o *Org) nhsNumberFreeLocked(n string, self int64) error {
	if n == "" {
		return nil
	}
	var clash *Patient
	o.eachPatientLocked(func(q Patient) bool {
		if q.NHSNumber == n && q.ID != self {
			clash = &q
			return false
		}
		return true
	})
	if clash != nil {
		return &ConflictError{Msg: fmt.Sprintf("NHS number %s is already registered to EMIS number %d", n, clash.ID)}
	}
	return nil
}

// EditPatient changes a registration (a name change, a new address).
func (o *Org) EditPatient(id int64, in PatientInput) (Patient, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, found := o.patientLocked(id)
	if !found {
		return Patient{}, fmt.Errorf("patient %d: %w", id, ErrNotFound)
	}
	if err := applyPatientInput(&p, in); err != nil {
		return Patient{}, err
	}
	if err := o.nhsNumberFreeLocked(p.NHSNumber, id); err != nil {
		return Patient{}, err
	}
	o.PatientEdits[id] = &p
	o.touch()
	return p, nil
}

// GetPatient reads a registration by EMIS number.
func (o *Org) GetPatient(id int64) (Patient, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, found := o.patientLocked(id)
	if !found {
		return Patient{}, fmt.Errorf("patient %d: %w", id, ErrNotFound)
	}
	return p, nil
}

// SearchPatients is the register's search for the admin API: the same rules as GetMatchedPatient,
// with an empty filter listing the register from the start.
func (o *Org) SearchPatients(filter string, limit int) []Patient {
	terms := parseFilter(filter)
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Patient
	o.eachPatientLocked(func(p Patient) bool {
		for _, t := range terms {
			if !t.matches(p) {
				return true
			}
		}
		out = append(out, p)
		return len(out) < limit
	})
	return out
}
