package booking

import "herolink/internal/matching"

// Reasons a booking is a placeholder, as partners are told them. They say what herolink could
// not do for the partner's own patient and nothing about any record on the register: every
// matching refusal is the same code, since "the NHS number belongs to someone born on another
// day" would tell a partner that someone holds it.
const (
	PlaceholderPatientNotLinked    = "patient_not_linked"    // herolink could not be certain which record is the patient
	PlaceholderLinkedRecordChanged = "linked_record_changed" // the record the patient was linked to no longer agrees, or left the register
	PlaceholderEMISUnavailable     = "emis_unavailable"      // EMIS did not answer the patient search in time
)

// placeholderReason is the partner's reason code for a placeholder's match rule.
func placeholderReason(state State, rule string) string {
	if state != StatePlaceholder {
		return ""
	}
	switch rule {
	case RuleEMISRecordChanged, RuleEMISPatientNotFound:
		return PlaceholderLinkedRecordChanged
	case RuleMatchTimedOut:
		return PlaceholderEMISUnavailable
	case RuleStaff, matching.RuleNHSNumberAndDOB, matching.RuleDemographics, matching.RuleDemographicsPostcode:
		return "" // linked: being converted into the appointment
	}
	return PlaceholderPatientNotLinked
}
