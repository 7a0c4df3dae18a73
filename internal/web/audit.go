package web

// auditWords says each audit trail action code the way practice staff read it. Every code
// written anywhere (store.AuditEntry{Action: ...}) needs its words here:
// TestEveryAuditActionCodeHasWords reads the source and fails on one without.
var auditWords = map[string]string{
	"connection.created":     "Connected to EMIS",
	"connection.replaced":    "Credentials replaced",
	"connection.test_failed": "Connection test failed",

	"mapping.refreshed":                   "EMIS setup read again",
	"mapping.imported":                    "Practitioners and locations imported from EMIS",
	"mapping.changed_in_emis":             "Setup changed in EMIS",
	"mapping.practitioner_created":        "Practitioner added",
	"mapping.practitioner_renamed":        "Practitioner renamed",
	"mapping.practitioner_mapped":         "Practitioner mapped to an EMIS session holder",
	"mapping.practitioner_unmapped":       "Practitioner unmapped",
	"mapping.practitioner_deleted":        "Practitioner removed",
	"mapping.location_created":            "Location added",
	"mapping.location_renamed":            "Location renamed",
	"mapping.location_mapped":             "Location mapped to an EMIS site",
	"mapping.location_unmapped":           "Location unmapped",
	"mapping.location_deleted":            "Location removed",
	"mapping.slot_type_feature_set":       "Slot type’s use changed",
	"mapping.appointment_type_updated":    "Appointment type changed",
	"booking_policy_changed":              "Booking policy changed",
	"booking_waiting_for_emis":            "Booking waiting for EMIS",
	"booking_waiting_for_slot_type":       "Booking waiting for the unregistered patient slot type",
	"booking_cancelled_by_staff":          "Booking cancelled by staff",
	"unregistered_patient_alert":          "Unregistered patient alert raised",
	"placeholder_threshold_changed":       "Unregistered patient alert time changed",
	"placeholder_link_requested":          "Placeholder linked to an EMIS record",
	"placeholder_link_mismatch_confirmed": "Placeholder linked despite differing details",
	"placeholder_booked_in_emis":          "Placeholder booked in EMIS by staff",
	"patient_link_dropped":                "Patient’s EMIS link dropped",
	"patient.link_checked":                "Partner checked a patient’s EMIS link",
	"api_key.created":                     "API key created",
	"api_key.rotated":                     "API key rotated",
	"api_key.revoked":                     "API key revoked",
	"webhook.resent":                      "Webhook resent",
	"booking_link.created":                "Booking link made",
	"booking_link.unlocked":               "Booking link unlocked",
	"booking_link.revoked":                "Booking link revoked",
	"webhook.endpoint_disabled":           "Webhook endpoint disabled",
}

// auditAction is an audit line's action in words; a code without words (a bug the test
// catches) is shown as it is rather than hidden.
func auditAction(action string) string {
	if w, ok := auditWords[action]; ok {
		return w
	}
	return action
}
