package mapping

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"herolink/internal/store"
)

// MaxNameLength bounds the names of practitioners, locations and appointment types.
const MaxNameLength = 100

// Appointment type durations staff may set, in minutes, and the one a new type starts with
// (the real length is known only once the diary is synced; staff adjust it).
const (
	MinDuration     = 5
	MaxDuration     = 120
	DefaultDuration = 10
)

// cleanName trims a name and folds runs of spaces; it must be 1 to MaxNameLength characters of
// printable text.
func cleanName(field, what, name string) (string, error) {
	n := strings.Join(strings.Fields(name), " ")
	switch {
	case n == "":
		return "", refuse(ErrInvalid, field, "Enter a name for the %s.", what)
	case !utf8.ValidString(n) || strings.IndexFunc(n, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return "", refuse(ErrInvalid, field, "The name of the %s can only contain printable characters.", what)
	case utf8.RuneCountInString(n) > MaxNameLength:
		return "", refuse(ErrInvalid, field, "The name of the %s must be %d characters or fewer.", what, MaxNameLength)
	}
	return n, nil
}

// ---- Practitioners and locations (records.go holds the rules for both) ----

// PractitionerInput is a new practitioner. EMISHolderID 0 makes it platform-only.
type PractitionerInput struct {
	Name         string
	EMISHolderID int64
}

// PractitionerPatch changes a practitioner: nil fields stay as they are; an EMISHolderID of 0
// unmaps it (platform-only).
type PractitionerPatch struct {
	Name         *string
	EMISHolderID *int64
}

// LocationInput is a new location. EMISSiteID 0 makes it platform-only.
type LocationInput struct {
	Name       string
	EMISSiteID int64
}

// LocationPatch changes a location: nil fields stay as they are; an EMISSiteID of 0 unmaps it.
type LocationPatch struct {
	Name       *string
	EMISSiteID *int64
}

func practitionerView(v RecordView) PractitionerView {
	out := PractitionerView{Practitioner: store.Practitioner{ID: v.ID, PracticeID: v.PracticeID, Name: v.Name, EMISHolderID: v.EMISID, CreatedAt: v.CreatedAt}}
	if v.EMIS != nil {
		out.Holder = v.EMIS.Holder
	}
	return out
}

func locationView(v RecordView) LocationView {
	out := LocationView{Location: store.Location{ID: v.ID, PracticeID: v.PracticeID, Name: v.Name, EMISSiteID: v.EMISID, CreatedAt: v.CreatedAt}}
	if v.EMIS != nil {
		out.Site = v.EMIS.Site
	}
	return out
}

// CreatePractitioner adds a practitioner, mapped to a session holder or platform-only.
func (s *Service) CreatePractitioner(ctx context.Context, who string, practiceID int64, in PractitionerInput) (PractitionerView, error) {
	v, err := s.CreateRecord(ctx, Practitioners, who, practiceID, in.Name, in.EMISHolderID)
	return practitionerView(v), err
}

// UpdatePractitioner renames a practitioner, or maps it to another session holder, or unmaps it.
func (s *Service) UpdatePractitioner(ctx context.Context, who string, practiceID, id int64, patch PractitionerPatch) (PractitionerView, error) {
	v, err := s.UpdateRecord(ctx, Practitioners, who, practiceID, id, patch.Name, patch.EMISHolderID)
	return practitionerView(v), err
}

// DeletePractitioner removes a practitioner; its session holder becomes free.
func (s *Service) DeletePractitioner(ctx context.Context, who string, practiceID, id int64) error {
	return s.DeleteRecord(ctx, Practitioners, who, practiceID, id)
}

// CreateLocation adds a location, mapped to a site or platform-only.
func (s *Service) CreateLocation(ctx context.Context, who string, practiceID int64, in LocationInput) (LocationView, error) {
	v, err := s.CreateRecord(ctx, Locations, who, practiceID, in.Name, in.EMISSiteID)
	return locationView(v), err
}

// UpdateLocation renames a location, or maps it to another site, or unmaps it.
func (s *Service) UpdateLocation(ctx context.Context, who string, practiceID, id int64, patch LocationPatch) (LocationView, error) {
	v, err := s.UpdateRecord(ctx, Locations, who, practiceID, id, patch.Name, patch.EMISSiteID)
	return locationView(v), err
}

// DeleteLocation removes a location; its site becomes free.
func (s *Service) DeleteLocation(ctx context.Context, who string, practiceID, id int64) error {
	return s.DeleteRecord(ctx, Locations, who, practiceID, id)
}

// ---- Slot type features ----

// FeatureLabel is a feature as practice staff read it.
func FeatureLabel(feature string) string {
	switch feature {
	case store.FeatureBookable:
		return "Bookable"
	case store.FeatureNotBookable:
		return "Not Bookable"
	case store.FeatureUnregistered:
		return "Unregistered Patient Booking"
	}
	return "Not set"
}

// Features are the features staff can choose, in the order pages list them.
var Features = []string{store.FeatureBookable, store.FeatureNotBookable, store.FeatureUnregistered}

// SetFeature gives an EMIS slot type its feature. Bookable publishes an appointment type (once;
// it is kept, hidden, if the feature changes later). Refused: a type EMIS marks not bookable as
// Bookable or Unregistered (EMIS would refuse to book it), a second Unregistered type, and a type
// EMIS no longer lists as anything but Not Bookable.
func (s *Service) SetFeature(ctx context.Context, who string, practiceID int64, typeID int, feature string) (SlotTypeView, error) {
	valid := false
	for _, f := range Features {
		valid = valid || f == feature
	}
	if !valid {
		return SlotTypeView{}, refuse(ErrInvalid, "feature", "Choose Bookable, Not Bookable or Unregistered Patient Booking.")
	}
	t, err := s.Store.EMISSlotType(ctx, practiceID, typeID)
	if errors.Is(err, store.ErrNotFound) {
		return SlotTypeView{}, refuse(ErrNotFound, "", "There is no slot type %d in the EMIS configuration herolink last read. Refresh from EMIS to see the practice's slot types.", typeID)
	}
	if err != nil {
		return SlotTypeView{}, err
	}
	if t.Feature == feature {
		return s.slotTypeView(ctx, practiceID, typeID)
	}
	switch {
	case t.Gone && feature != store.FeatureNotBookable:
		return SlotTypeView{}, refuse(ErrInvalid, "feature", "EMIS no longer lists the slot type %q, so it can only be Not Bookable. If it is back in EMIS, refresh from EMIS first.", t.Name)
	case feature == store.FeatureBookable && !t.EMISBookable:
		return SlotTypeView{}, refuse(ErrInvalid, "feature", "EMIS marks the slot type %q as not bookable, so patients cannot be booked into it and it cannot be Bookable here. If patients should book it, tick Bookable for it in EMIS (Appts config → Slot types), then refresh from EMIS.", t.Name)
	case feature == store.FeatureUnregistered && !t.EMISBookable:
		return SlotTypeView{}, refuse(ErrInvalid, "feature", "EMIS marks the slot type %q as not bookable, so herolink could not reserve time with it for unregistered patients. Tick Bookable for it in EMIS (Appts config → Slot types), then refresh from EMIS.", t.Name)
	case feature == store.FeatureUnregistered:
		if err := s.unregisteredFree(ctx, practiceID, t); err != nil {
			return SlotTypeView{}, err
		}
	}
	var publish *store.AppointmentType
	if feature == store.FeatureBookable {
		publish = &store.AppointmentType{Name: defaultAppointmentName(t.Name), DurationMinutes: DefaultDuration, Channel: guessChannel(t.Name)}
	}
	detail := fmt.Sprintf("slot type %q (EMIS %d): %s → %s", t.Name, t.EMISID, FeatureLabel(t.Feature), FeatureLabel(feature))
	err = s.Store.SetSlotTypeFeature(ctx, practiceID, typeID, feature, publish, store.AuditEntry{Actor: who, Action: "mapping.slot_type_feature_set", Detail: detail})
	if errors.Is(err, store.ErrUnregisteredTaken) {
		if ferr := s.unregisteredFree(ctx, practiceID, t); ferr != nil {
			return SlotTypeView{}, ferr
		}
		return SlotTypeView{}, refuse(ErrConflict, "feature", "Another slot type already has Unregistered Patient Booking, and only one can. Set it to Not Bookable first.")
	}
	if errors.Is(err, store.ErrNotFound) {
		return SlotTypeView{}, refuse(ErrNotFound, "", "There is no slot type %d in the EMIS configuration herolink last read.", typeID)
	}
	if err != nil {
		return SlotTypeView{}, err
	}
	s.changed(practiceID)
	return s.slotTypeView(ctx, practiceID, typeID)
}

// unregisteredFree refuses a second Unregistered Patient Booking type, naming the first.
func (s *Service) unregisteredFree(ctx context.Context, practiceID int64, t store.EMISSlotType) error {
	types, err := s.Store.EMISSlotTypes(ctx, practiceID)
	if err != nil {
		return err
	}
	for _, other := range types {
		if other.Feature == store.FeatureUnregistered && other.EMISID != t.EMISID {
			return refuse(ErrConflict, "feature",
				"The slot type %q already has Unregistered Patient Booking, and only one slot type can. Set %q to Not Bookable first, then choose %q.",
				other.Name, other.Name, t.Name)
		}
	}
	return nil
}

func (s *Service) slotTypeView(ctx context.Context, practiceID int64, typeID int) (SlotTypeView, error) {
	types, err := s.SlotTypes(ctx, practiceID)
	if err != nil {
		return SlotTypeView{}, err
	}
	for _, t := range types {
		if t.EMISID == typeID {
			return t, nil
		}
	}
	return SlotTypeView{}, refuse(ErrNotFound, "", "There is no slot type %d in the EMIS configuration herolink last read.", typeID)
}

func defaultAppointmentName(emisName string) string {
	n := strings.Join(strings.Fields(emisName), " ")
	if utf8.RuneCountInString(n) > MaxNameLength {
		n = string([]rune(n)[:MaxNameLength])
	}
	if n == "" {
		n = "Appointment"
	}
	return n
}

// guessChannel proposes how a slot type's appointments happen from its EMIS name; staff correct it.
func guessChannel(emisName string) string {
	n := strings.ToLower(emisName)
	switch {
	case strings.Contains(n, "video"):
		return store.ChannelVideo
	case strings.Contains(n, "telephone") || strings.Contains(n, "phone") || strings.Contains(n, "call back") || strings.Contains(n, "callback"):
		return store.ChannelTelephone
	}
	return store.ChannelInPerson
}

// ---- Appointment types ----

// Channels are the ways an appointment happens, in the order pages list them.
var Channels = []string{store.ChannelInPerson, store.ChannelTelephone, store.ChannelVideo}

// ChannelLabel is a channel as practice staff read it.
func ChannelLabel(channel string) string {
	switch channel {
	case store.ChannelInPerson:
		return "In person"
	case store.ChannelTelephone:
		return "Telephone"
	case store.ChannelVideo:
		return "Video"
	}
	return channel
}

// AppointmentTypePatch changes an appointment type: nil fields stay as they are.
type AppointmentTypePatch struct {
	Name            *string
	DurationMinutes *int
	Channel         *string
}

// AppointmentTypes lists a practice's appointment types, published and hidden.
func (s *Service) AppointmentTypes(ctx context.Context, practiceID int64) ([]store.AppointmentType, error) {
	return s.Store.AppointmentTypes(ctx, practiceID)
}

// AppointmentType finds one of a practice's appointment types.
func (s *Service) AppointmentType(ctx context.Context, practiceID, id int64) (store.AppointmentType, error) {
	a, err := s.Store.AppointmentType(ctx, practiceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, refuse(ErrNotFound, "", "There is no appointment type %d at this practice.", id)
	}
	return a, err
}

// UpdateAppointmentType renames an appointment type or changes its duration or channel. Every
// field is checked before anything is saved.
func (s *Service) UpdateAppointmentType(ctx context.Context, who string, practiceID, id int64, patch AppointmentTypePatch) (store.AppointmentType, error) {
	old, err := s.AppointmentType(ctx, practiceID, id)
	if err != nil {
		return old, err
	}
	next := old
	var changes []string
	if patch.Name != nil {
		if next.Name, err = cleanName("name", "appointment type", *patch.Name); err != nil {
			return old, err
		}
		if next.Name != old.Name {
			changes = append(changes, fmt.Sprintf("name %q → %q", old.Name, next.Name))
		}
	}
	if patch.DurationMinutes != nil {
		next.DurationMinutes = *patch.DurationMinutes
		if next.DurationMinutes < MinDuration || next.DurationMinutes > MaxDuration {
			return old, refuse(ErrInvalid, "duration_minutes", "The duration must be between %d and %d minutes.", MinDuration, MaxDuration)
		}
		if next.DurationMinutes != old.DurationMinutes {
			changes = append(changes, fmt.Sprintf("duration %d → %d minutes", old.DurationMinutes, next.DurationMinutes))
		}
	}
	if patch.Channel != nil {
		next.Channel = *patch.Channel
		valid := false
		for _, c := range Channels {
			valid = valid || c == next.Channel
		}
		if !valid {
			return old, refuse(ErrInvalid, "channel", "Choose in person, telephone or video.")
		}
		if next.Channel != old.Channel {
			changes = append(changes, fmt.Sprintf("channel %s → %s", ChannelLabel(old.Channel), ChannelLabel(next.Channel)))
		}
	}
	if len(changes) == 0 {
		return old, nil
	}
	detail := fmt.Sprintf("appointment type %d (slot type EMIS %d): %s", id, old.EMISSlotTypeID, strings.Join(changes, ", "))
	a, err := s.Store.UpdateAppointmentType(ctx, next, store.AuditEntry{Actor: who, Action: "mapping.appointment_type_updated", Detail: detail})
	if errors.Is(err, store.ErrNotFound) {
		return old, refuse(ErrNotFound, "", "There is no appointment type %d at this practice.", id)
	}
	return a, err
}
