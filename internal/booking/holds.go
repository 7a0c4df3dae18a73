package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"herolink/internal/store"
)

// Limits from GP Connect: a description of at most 100 and a comment of at most 500 characters.
const (
	maxDescription = 100
	maxComment     = 500
)

// CodePracticeUnavailable refuses a new hold while the practice's EMIS connection is failing
// for its credentials or set-up (not a passing EMIS error): a booking made now could not reach
// EMIS until the practice acts. The partner is told only that; the cause is for staff.
const CodePracticeUnavailable Code = "practice_unavailable"

// practiceRefusal refuses holds at a practice whose connection is failing. A degraded
// connection (EMIS slow or erroring) still takes bookings: they wait and are written when EMIS
// answers.
func (s *Service) practiceRefusal(practiceID int64, t store.HoldTerms) error {
	if t.HealthStatus == store.HealthFailing {
		s.log().Info("hold refused: the practice's EMIS connection is failing", "practice", practiceID, "reason", t.HealthReason)
		return refuse(CodePracticeUnavailable, "the practice cannot take online bookings just now; try again later or contact the practice")
	}
	return nil
}

func validateReserve(r ReserveRequest) *Error {
	var errs []FieldError
	if r.SlotID == "" {
		errs = append(errs, FieldError{Field: "slot_id", Code: "required", Message: "slot_id is required"})
	}
	if n := utf8.RuneCountInString(r.Description); n > maxDescription {
		errs = append(errs, FieldError{Field: "description", Code: "too_long", Message: fmt.Sprintf("description has %d characters; at most %d", n, maxDescription)})
	}
	if n := utf8.RuneCountInString(r.Comment); n > maxComment {
		errs = append(errs, FieldError{Field: "comment", Code: "too_long", Message: fmt.Sprintf("comment has %d characters; at most %d", n, maxComment)})
	}
	if len(errs) > 0 {
		return &Error{Code: CodeInvalid, Message: errs[0].Message, Fields: errs}
	}
	return nil
}

// checkType refuses an appointment type that is not the slot's.
func (s *Service) checkType(ctx context.Context, r ReserveRequest, f store.FreeSlot) (int64, error) {
	c, err := s.catalogue(ctx, f.PracticeID)
	if err != nil {
		return 0, err
	}
	t, ok := c.typeByEMIS[f.TypeID]
	if !ok {
		return 0, refuse(CodeSlotUnavailable, "slot %s is not offered for online booking", r.SlotID)
	}
	if r.AppointmentTypeID != "" && r.AppointmentTypeID != prefixedID(prefixAppointmentType, t.ID) {
		return 0, &Error{Code: CodeInvalid, Message: "appointment_type_id is not the slot's appointment type",
			Fields: []FieldError{{Field: "appointment_type_id", Code: "mismatch",
				Message: fmt.Sprintf("slot %s is for %s (%s)", r.SlotID, t.Name, prefixedID(prefixAppointmentType, t.ID))}}}
	}
	return t.ID, nil
}

// Reserve places a hold on a free slot for owner, the partner the API key acts for (see
// WithOwner; stored in appointments.api_key_id). The database's unique index is what refuses
// a second hold: of two concurrent reservations exactly one wins.
func (s *Service) Reserve(ctx context.Context, group, owner string, r ReserveRequest) (Appointment, error) {
	if e := validateReserve(r); e != nil {
		return Appointment{}, e
	}
	release, heldByOther, err := s.claims.claim(ctx, group+"/"+r.SlotID)
	if err != nil {
		return Appointment{}, err
	}
	if heldByOther {
		return Appointment{}, refuse(CodeSlotUnavailable, "slot %s is already held or booked", r.SlotID)
	}
	held := false
	defer func() { release(held) }()
	row, f, err := s.newHold(ctx, group, owner, r)
	if err != nil {
		return Appointment{}, err
	}
	row, err = s.writeHold(ctx, row)
	if errors.Is(err, store.ErrSlotHeld) {
		return Appointment{}, refuse(CodeSlotUnavailable, "slot %s is already held or booked", r.SlotID)
	}
	if err != nil {
		return Appointment{}, err
	}
	held = true
	// Answered from what was just written and read: reading it back would be two more round
	// trips for each hold of a burst.
	c, err := s.catalogue(ctx, row.PracticeID)
	if err != nil {
		return Appointment{}, err
	}
	return s.presentWith(c, row, &f), nil
}

// writeHold commits a new hold. A hold whose operation has a commit hook (an Idempotency-Key's
// record) commits alone, since the hook's failure must roll back that hold and no other; the
// rest commit in groups with the holds that arrive with them.
func (s *Service) writeHold(ctx context.Context, row store.AppointmentRow) (store.AppointmentRow, error) {
	if h, ok := ctx.Value(commitHookKey{}).(CommitHook); ok && h != nil {
		return s.writeHoldAlone(ctx, row)
	}
	return s.holdWrites.run(ctx, row, grouped[store.AppointmentRow, store.AppointmentRow]{max: holdGroupsAtOnce, one: s.writeHoldAlone,
		all: func(ctx context.Context, rows []store.AppointmentRow) ([]store.AppointmentRow, error) {
			var out []store.AppointmentRow
			err := s.Store.InTx(ctx, func(tx *store.Tx) error {
				var err error
				out, err = s.Store.CreateHolds(ctx, tx, rows, "appointment.reserved")
				return err
			})
			return out, holdsCommitted(ctx, len(rows), err)
		},
		again: s.holdAgain})
}

// holdsCommittedKey carries a test's hook, run as each commit of holds returns (n holds: a
// group, or one alone) with its error; what it answers replaces that error. Tests hold the
// writers back with it, and lose a COMMIT's answer.
type holdsCommittedKey struct{}

func holdsCommitted(ctx context.Context, n int, err error) error {
	if hook, _ := ctx.Value(holdsCommittedKey{}).(func(int, error) error); hook != nil {
		return hook(n, err)
	}
	return err
}

// writeHoldAlone commits a new hold in a transaction of its own, with the operation's commit
// hook if it has one.
func (s *Service) writeHoldAlone(ctx context.Context, row store.AppointmentRow) (store.AppointmentRow, error) {
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if row, err = s.Store.CreateHold(ctx, tx, row, "appointment.reserved"); err != nil {
			return err
		}
		return commit(ctx, tx, row.ID)
	})
	return row, holdsCommitted(ctx, 1, err)
}

// holdAgain writes a hold of a failed group alone. A group whose COMMIT's answer
// was lost may have written it: the slot is then refused as held, by the hold itself, and the
// partner would be told the slot is taken while its hold keeps it from everyone until it
// lapses. So a refusal after a group failed for any other reason than a slot held (which
// rolled the group back) reads the hold's own row by its id, which no one else knows yet, and
// answers it if the group wrote it.
func (s *Service) holdAgain(ctx context.Context, row store.AppointmentRow, groupErr error) (store.AppointmentRow, error) {
	out, err := s.writeHoldAlone(ctx, row)
	if !errors.Is(err, store.ErrSlotHeld) || errors.Is(groupErr, store.ErrSlotHeld) {
		return out, err
	}
	mine, rerr := s.readOwnHold(ctx, row.ID)
	switch {
	case errors.Is(rerr, store.ErrNotFound): // the slot is another's
		return out, err
	case rerr != nil:
		// Whether the group wrote it is unknown: "taken" could be a lie that keeps the
		// partner from its own hold, so the answer is an error it may try again.
		return store.AppointmentRow{}, fmt.Errorf("booking: hold %s: its group failed (%v) and whether it was written cannot be read: %w", row.ID, groupErr, rerr)
	}
	return mine, nil
}

// readOwnHold reads a hold by its id for holdAgain, unless the context carries a test's
// error for it (ownHoldReadKey).
func (s *Service) readOwnHold(ctx context.Context, id string) (store.AppointmentRow, error) {
	if err, _ := ctx.Value(ownHoldReadKey{}).(error); err != nil {
		return store.AppointmentRow{}, err
	}
	return s.Store.Appointment(ctx, s.Store.DBQ(), id)
}

// ownHoldReadKey carries an error a test makes holdAgain's read of a hold's own row fail with.
type ownHoldReadKey struct{}

// newHold is the row a hold on r's slot would be, with the slot as read, or why there can be
// none. It reads once: the slot and its practice's terms together (store.HoldableSlot).
func (s *Service) newHold(ctx context.Context, group, owner string, r ReserveRequest) (store.AppointmentRow, store.FreeSlot, error) {
	f, terms, err := s.holdableSlot(ctx, group, r.SlotID)
	if err != nil {
		return store.AppointmentRow{}, f, err
	}
	typeID, err := s.checkType(ctx, r, f)
	if err != nil {
		return store.AppointmentRow{}, f, err
	}
	if err := s.practiceRefusal(f.PracticeID, terms); err != nil {
		return store.AppointmentRow{}, f, err
	}
	// Without a slot type for unregistered patients, a booking herolink cannot match would
	// have nowhere to go: refuse before anyone is told they have a slot.
	if terms.UnregisteredTypeID == 0 {
		return store.AppointmentRow{}, f, refuse(CodePracticeNotReady,
			"the practice has not chosen a slot type for unregistered patients yet, so online bookings are not open")
	}
	hold := terms.Policy.Hold
	if s.HoldDuration > 0 {
		hold = s.HoldDuration
	}
	return store.AppointmentRow{ID: randomID("apt_", 16), Reference: newReference(), PracticeGroupID: group,
		PracticeID: f.PracticeID, APIKeyID: owner, SlotID: f.SlotID, SessionID: f.SessionID, StartAt: f.StartAt,
		LengthMin: f.LengthMin, EMISSlotTypeID: f.TypeID, AppointmentTypeID: typeID, State: string(StateReserved),
		ReservedUntil: s.now().Add(hold), Description: r.Description, Comment: r.Comment}, f, nil
}

// UpdateHold edits an unconfirmed hold: its description and comment, or a move to another
// slot (the new slot is held before the old one is let go, in one transaction).
func (s *Service) UpdateHold(ctx context.Context, group, id string, r ReserveRequest) (Appointment, error) {
	if e := validateReserve(r); e != nil {
		return Appointment{}, e
	}
	a, err := s.load(ctx, group, id)
	if err != nil {
		return Appointment{}, err
	}
	if err := s.requireLiveHold(a); err != nil {
		return Appointment{}, err
	}
	if r.SlotID == slotID(a.PracticeID, a.SlotID) {
		if r.AppointmentTypeID != "" && r.AppointmentTypeID != prefixedID(prefixAppointmentType, a.AppointmentTypeID) {
			return Appointment{}, &Error{Code: CodeInvalid, Message: "appointment_type_id is not the slot's appointment type",
				Fields: []FieldError{{Field: "appointment_type_id", Code: "mismatch", Message: "the slot's type is " + prefixedID(prefixAppointmentType, a.AppointmentTypeID)}}}
		}
		err := s.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := s.Store.EditHold(ctx, tx, id, r.Description, r.Comment); err != nil {
				return err
			}
			return commit(ctx, tx, id)
		})
		if errors.Is(err, store.ErrStateChanged) {
			return Appointment{}, refuse(CodeInvalidState, "appointment %s changed meanwhile; read it again", id)
		}
		if err != nil {
			return Appointment{}, err
		}
		return s.Appointment(ctx, group, id)
	}
	row, _, err := s.newHold(ctx, group, a.APIKeyID, r)
	if err != nil {
		return Appointment{}, err
	}
	row.ID, row.Reference = a.ID, a.Reference
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		// Move the row to the new slot: the unique index refuses it if the slot was taken.
		err := s.Store.MoveHold(ctx, tx, id, row)
		if err != nil {
			return err
		}
		if err := s.Store.AddAppointmentEvent(ctx, tx, id, "appointment.hold_moved", slotID(a.PracticeID, a.SlotID)+" -> "+r.SlotID); err != nil {
			return err
		}
		return commit(ctx, tx, id)
	})
	switch {
	case errors.Is(err, store.ErrSlotHeld):
		return Appointment{}, refuse(CodeSlotUnavailable, "slot %s is already held or booked", r.SlotID)
	case errors.Is(err, store.ErrStateChanged):
		return Appointment{}, refuse(CodeInvalidState, "appointment %s changed meanwhile; read it again", id)
	case err != nil:
		return Appointment{}, err
	}
	return s.Appointment(ctx, group, id)
}

// requireLiveHold refuses anything but a hold whose time has not run out.
func (s *Service) requireLiveHold(a store.AppointmentRow) error {
	switch {
	case a.State == string(StateReserved) && !s.now().Before(a.ReservedUntil), a.State == string(StateExpired):
		return refuse(CodeHoldExpired, "the hold on this slot ran out at %s; reserve a slot again", a.ReservedUntil.UTC().Format(time.RFC3339))
	case a.State != string(StateReserved):
		return refuse(CodeInvalidState, "appointment %s is %s, not an unconfirmed hold", a.ID, a.State)
	}
	return nil
}

// load reads an appointment of the group; another group's is not found, by design.
func (s *Service) load(ctx context.Context, group, id string) (store.AppointmentRow, error) {
	// Read from the read-only pool: every change is a conditional update afterwards, so a
	// read that does not queue behind writers is enough here.
	a, err := s.Store.Appointment(ctx, s.Store.ReadQ(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (a.PracticeGroupID != group || !visible(ctx, a.APIKeyID))) {
		return a, refuse(CodeNotFound, "there is no appointment %s in this practice group", id)
	}
	return a, err
}

// Appointment reads one appointment of the group. A hold whose time ran out reads as expired.
func (s *Service) Appointment(ctx context.Context, group, id string) (Appointment, error) {
	a, err := s.load(ctx, group, id)
	if err != nil {
		return Appointment{}, err
	}
	return s.present(ctx, a)
}

func (s *Service) present(ctx context.Context, a store.AppointmentRow) (Appointment, error) {
	c, err := s.catalogue(ctx, a.PracticeID)
	if err != nil {
		return Appointment{}, err
	}
	var place *store.FreeSlot
	if d, err := s.Store.DiarySlotByID(ctx, a.PracticeID, a.SlotID); err == nil {
		place = &store.FreeSlot{SiteID: d.SiteID, HolderIDs: d.HolderIDs}
	}
	return s.presentWith(c, a, place), nil
}

// presentWith is the appointment as partners see it; place gives the slot's site and holders
// (nil: the slot is no longer in the synced diary, so no location or practitioners).
func (s *Service) presentWith(c *catalogue, a store.AppointmentRow, place *store.FreeSlot) Appointment {
	out := Appointment{ID: a.ID, Reference: a.Reference, PracticeGroupID: a.PracticeGroupID, PracticeID: a.PracticeID,
		SlotID: slotID(a.PracticeID, a.SlotID), StartAt: a.StartAt, EndAt: a.StartAt.Add(time.Duration(a.LengthMin) * time.Minute),
		AppointmentTypeID: prefixedID(prefixAppointmentType, a.AppointmentTypeID), State: State(a.State),
		ReservedUntil: a.ReservedUntil, Description: a.Description, Comment: a.Comment, PatientID: a.PatientID,
		FailureCode: a.FailureCode, RescheduledFrom: a.RescheduledFrom, RescheduledTo: a.RescheduledTo,
		CancelledBy: a.CancelledBy, CancelReason: a.CancelReason, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		PractitionerIDs: []string{}, Alternatives: []string{}}
	out.PlaceholderReason = placeholderReason(out.State, a.MatchRule)
	if out.State == StateReserved && !s.now().Before(a.ReservedUntil) {
		out.State = StateExpired
	}
	if a.EMISWritten != "" {
		out.EMISReference = fmt.Sprintf("EMIS slot %d", a.SlotID)
	}
	if a.FailureCode != "" {
		out.FailureMessage = failureMessages[a.FailureCode]
		_ = json.Unmarshal([]byte(a.Alternatives), &out.Alternatives)
	}
	if place != nil {
		if l, ok := c.locationBySite[place.SiteID]; ok {
			out.LocationID = prefixedID(prefixLocation, l.ID)
		}
		out.PractitionerIDs = c.practitionerIDs(place.HolderIDs)
	}
	return out
}

var failureMessages = map[string]string{
	"slot_taken":   "The slot was booked in EMIS (by reception or another system) before herolink could write this booking. Choose one of the alternatives.",
	"slot_gone":    "The slot no longer exists in EMIS: the session was changed or removed.",
	"not_bookable": "EMIS refused the slot as not bookable (embargoed, blocked or in the past).",
}
