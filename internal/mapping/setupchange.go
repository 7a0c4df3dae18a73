package mapping

import (
	"fmt"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Reason is one thing that stops bookings, or a warning about the set-up, with its fix in
// the guide's words. Code is stable for programs; Message and Fix are for the practice.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// Codes of the unregistered-patient slot type's condition.
const (
	CodeUnregisteredNotSet      = "unregistered_slot_type_not_set"
	CodeUnregisteredDeleted     = "unregistered_slot_type_deleted"
	CodeUnregisteredNotBookable = "unregistered_slot_type_not_bookable"
	CodeUnregisteredRenamed     = "unregistered_slot_type_renamed"
)

// UnregisteredCondition judges the slot type that has Unregistered Patient Booking, as
// herolink's copy of EMIS's configuration last saw it. blocking is a reason placeholders
// cannot be written (deleted in EMIS, or not bookable); a warning is returned with blocking
// false (renamed away from the guide's name: herolink follows the slot type by its EMIS id,
// which staff cannot change, so placeholders still reserve the time, under the new name).
// ok is false when no slot type has the feature: readiness explains that case itself.
func UnregisteredCondition(types []store.EMISSlotType) (r Reason, blocking, ok bool) {
	for _, t := range types {
		if t.Feature != store.FeatureUnregistered {
			continue
		}
		switch {
		case t.Gone:
			return Reason{Code: CodeUnregisteredDeleted,
				Message: fmt.Sprintf("The slot type %q, which herolink uses to reserve the time of patients it cannot match (the yellow placeholder), has been deleted in EMIS. Bookings that need a placeholder wait until it is back.", t.Name),
				Fix:     emis.GuideAddUnregisteredSlotType + fmt.Sprintf(" Then, on herolink's mapping page, refresh from EMIS, set %q to Not Bookable and the new slot type to Unregistered Patient Booking: the waiting bookings are then written.", t.Name)}, true, true
		case !t.EMISBookable:
			return Reason{Code: CodeUnregisteredNotBookable,
				Message: fmt.Sprintf("EMIS now marks the slot type %q, which herolink uses to reserve the time of patients it cannot match (the yellow placeholder), as not bookable. Bookings that need a placeholder wait until it is bookable again.", t.Name),
				Fix:     emis.GuideTickBookable(t.Name) + " herolink notices at its next health check and writes the waiting bookings."}, true, true
		case !emis.IsUnregisteredSlotTypeName(t.Name):
			return Reason{Code: CodeUnregisteredRenamed,
				Message: fmt.Sprintf("The slot type for unregistered patients is now called %q in EMIS, not %q. herolink follows it by its EMIS id (%d), so placeholders appear in the diary as %q.", t.Name, emis.UnregisteredSlotTypeName, t.EMISID, t.Name),
				Fix:     fmt.Sprintf("If the new name is intended, nothing needs doing. If the slot type is now used for something else, rename it back to %q in Appts config → Slot types, or add a new one (%s) and set it to Unregistered Patient Booking in herolink.", emis.UnregisteredSlotTypeName, emis.GuideAddUnregisteredSlotType)}, false, true
		}
		return Reason{}, false, true
	}
	return Reason{}, false, false
}

// FromEMIS turns EMIS's appointment configuration into herolink's copy, as RefreshFromEMIS
// saves it; the health check saves it the same way when EMIS's slot types changed.
func FromEMIS(cfg *emis.AppointmentConfiguration) store.EMISConfiguration { return fromEMIS(cfg) }
