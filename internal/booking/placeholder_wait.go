package booking

import (
	"context"
	"fmt"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// PlaceholderWaitError means a booking that needs a placeholder is waiting because the
// practice's slot type for unregistered patients cannot take one now: none is chosen in
// herolink, or EMIS no longer has it, or EMIS marks it not bookable. Nothing was written; the
// booking stays confirming, staff are alerted with Reason, and the write-back tries again
// until the slot type is back. It is never a failure of the booking.
type PlaceholderWaitError struct {
	Reference string
	Reason    string // what is wrong and the fix, in the guide's words
}

func (e *PlaceholderWaitError) Error() string {
	return fmt.Sprintf("booking %s waits for its placeholder: %s", e.Reference, e.Reason)
}

// placeholderTypeReady asks EMIS, just before writing a placeholder, whether the slot type for
// unregistered patients still exists and is bookable: staff change Appts config at any time, and
// herolink's copy may be up to one health interval old. The slot type is followed by its EMIS
// id, so a rename changes nothing here (health and readiness warn about it).
func (s *Service) placeholderTypeReady(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, unreg int) error {
	if unreg == 0 {
		return s.waitForPlaceholderType(ctx, a, "No slot type has Unregistered Patient Booking in herolink, so the time cannot be reserved in EMIS. "+
			"On herolink's mapping page, set the \""+emis.UnregisteredSlotTypeName+"\" slot type to Unregistered Patient Booking. If EMIS has none: "+emis.GuideAddUnregisteredSlotType)
	}
	if err := s.Store.AddEMISCalls(ctx, a.ID, 1); err != nil {
		return err
	}
	cfg, err := conn.GetAppointmentConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("booking: read the appointment configuration before the placeholder for %s: %w", a.Reference, err)
	}
	for _, t := range cfg.SlotTypes {
		if t.TypeID != unreg {
			continue
		}
		if t.Bookable {
			return nil
		}
		return s.waitForPlaceholderType(ctx, a, fmt.Sprintf("EMIS marks the slot type %q, used for unregistered patients, as not bookable. %s", t.Description, emis.GuideTickBookable(t.Description)))
	}
	name := emis.UnregisteredSlotTypeName
	if t, err := s.Store.EMISSlotType(ctx, a.PracticeID, unreg); err == nil {
		name = t.Name
	}
	return s.waitForPlaceholderType(ctx, a, fmt.Sprintf("The slot type %q, used for unregistered patients, has been deleted in EMIS. %s Then, on herolink's mapping page, refresh from EMIS, set %q to Not Bookable and the new slot type to Unregistered Patient Booking.",
		name, emis.GuideAddUnregisteredSlotType, name))
}

// waitForPlaceholderType alerts staff, once per booking, with the reason, and returns the
// wait: the write-back is retried (and re-enqueued by the sweep) until the slot type is back.
func (s *Service) waitForPlaceholderType(ctx context.Context, a store.AppointmentRow, reason string) error {
	wait := &PlaceholderWaitError{Reference: a.Reference, Reason: reason}
	if a.AlertedAt.IsZero() {
		ctx := context.WithoutCancel(ctx)
		if err := s.Store.NoteError(ctx, s.Store.DBQ(), a.ID, clip(wait.Error(), 500), s.now()); err != nil {
			return err
		}
		s.log().Error("booking waits for the unregistered slot type: staff alerted", "appointment", a.ID, "practice", a.PracticeID, "reason", reason)
		if err := s.Store.AppendAudit(ctx, store.AuditEntry{Actor: "herolink", Action: "booking_waiting_for_slot_type", PracticeID: a.PracticeID,
			Detail: fmt.Sprintf("booking %s needs a placeholder and waits: %s", a.Reference, reason)}); err != nil {
			return err
		}
	}
	return wait
}

// placeholderRefused decides what a definite refusal of the placeholder write means. EMIS
// answers "not found" for a missing slot and for a missing slot type alike, and "not bookable"
// for a slot in the past and for a slot type made unbookable: only the slot's own fate fails
// the booking (never a false "slot no longer exists"); the slot type's makes it wait.
func (s *Service) placeholderRefused(ctx context.Context, conn *emis.Conn, a store.AppointmentRow, unreg int, refusal error, code string) (bool, error) {
	_ = s.settleFailedWrite(ctx, a, refusal) // a definite refusal: nothing was written
	if err := s.placeholderTypeReady(ctx, conn, a, unreg); err != nil {
		return false, err
	}
	st, _, err := s.readSlot(ctx, conn, a, unreg)
	switch {
	case err != nil:
		return false, err
	case st == seenGone:
		return true, s.fail(ctx, a, "slot_gone")
	case code == "slot_gone":
		// The slot and the slot type both exist now: whatever EMIS did not find, it was not
		// the slot. Try again rather than tell the partner the slot is gone.
		return false, fmt.Errorf("booking: EMIS answered not found for the placeholder of %s, yet the slot and its slot type exist: %w", a.Reference, refusal)
	}
	return true, s.fail(ctx, a, code)
}
