package booking

import "herolink/internal/matching"

// PlaceholderLinkedRecordChanged is the partner's reason for a placeholder made because the
// record the patient was linked to no longer agrees with their details, or left the register.
// It speaks of the partner's own patient and names no record; the other reasons are
// PartnerReason's, shared with the link check.
const PlaceholderLinkedRecordChanged = "linked_record_changed"

// placeholderReason is the partner's reason code for a placeholder's match rule.
func placeholderReason(state State, rule string) string {
	if state != StatePlaceholder {
		return ""
	}
	switch rule {
	case RuleEMISRecordChanged, RuleEMISPatientNotFound:
		return PlaceholderLinkedRecordChanged
	case RuleStaff, matching.RuleNHSNumberAndDOB, matching.RuleDemographics, matching.RuleDemographicsPostcode:
		return "" // linked: being converted into the appointment
	}
	return PartnerReason(rule)
}
