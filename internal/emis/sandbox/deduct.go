package sandbox

import (
	"fmt"

	"herolink/internal/emis"
)

// patientDemographics answers GetPatientDemographics: the registration as staff see it when
// they open the record. A deducted patient is not registered here any more: outcome 7, as
// BookAppointment answers for them.
func (o *Org) patientDemographics(pid int64) answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, found := o.patientLocked(pid)
	if !found {
		return fail(emis.OutcomePatientNotFound, "patient %d not found", pid)
	}
	if p.Deducted != "" {
		return fail(emis.OutcomePatientNotFound, "patient %d not found: deducted on %s", pid, p.Deducted)
	}
	return ok(p.wire())
}

// DeductPatient records that a patient left the practice, as registration staff do in EMIS.
// The record stays (EMIS keeps it) but is no longer searched or bookable.
func (o *Org) DeductPatient(id int64) (Patient, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, found := o.patientLocked(id)
	if !found {
		return Patient{}, fmt.Errorf("patient %d: %w", id, ErrNotFound)
	}
	if p.Deducted == "" {
		p.Deducted = emis.Today(o.world.now()).String()
	}
	o.PatientEdits[id] = &p
	o.touch()
	return p, nil
}
