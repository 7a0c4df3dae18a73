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

// ---- Practitioners and session holders ----

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

// holderFor checks that a practitioner (self: ID 0 for a new one) may be mapped to a session
// holder: herolink has read it, EMIS still lists it, and no other practitioner has it.
func (s *Service) holderFor(ctx context.Context, practiceID, holderID int64, self store.Practitioner) (store.EMISHolder, error) {
	h, err := s.Store.EMISHolder(ctx, practiceID, holderID)
	if errors.Is(err, store.ErrNotFound) {
		return h, refuse(ErrInvalid, "emis_holder_id", "There is no session holder %d in the EMIS configuration herolink last read. Refresh from EMIS, then choose a session holder from the list.", holderID)
	}
	if err != nil {
		return h, err
	}
	if h.Gone && self.EMISHolderID != holderID {
		return h, refuse(ErrInvalid, "emis_holder_id", "%s is no longer a session holder in EMIS. Choose another session holder, or leave %s platform-only.", h.DisplayName, self.Name)
	}
	return h, s.holderFree(ctx, practiceID, h, self)
}

// holderFree refuses a session holder mapped to another practitioner, naming both.
func (s *Service) holderFree(ctx context.Context, practiceID int64, h store.EMISHolder, self store.Practitioner) error {
	other, err := s.Store.PractitionerByHolder(ctx, practiceID, h.EMISID)
	if errors.Is(err, store.ErrNotFound) || err == nil && other.ID == self.ID {
		return nil
	}
	if err != nil {
		return err
	}
	return refuse(ErrConflict, "emis_holder_id",
		"%s cannot be mapped to the session holder %s (EMIS): the practitioner %s is already mapped to it. Unmap it from %s first, or choose another session holder for %s.",
		self.Name, h.DisplayName, other.Name, other.Name, self.Name)
}

func holderText(h store.EMISHolder) string {
	return fmt.Sprintf("session holder %s (EMIS %d)", h.DisplayName, h.EMISID)
}

// CreatePractitioner adds a practitioner, mapped to a session holder or platform-only.
func (s *Service) CreatePractitioner(ctx context.Context, who string, practiceID int64, in PractitionerInput) (PractitionerView, error) {
	name, err := cleanName("name", "practitioner", in.Name)
	if err != nil {
		return PractitionerView{}, err
	}
	p := store.Practitioner{PracticeID: practiceID, Name: name}
	detail := name + ", platform-only"
	var holder *store.EMISHolder
	if in.EMISHolderID != 0 {
		h, err := s.holderFor(ctx, practiceID, in.EMISHolderID, p)
		if err != nil {
			return PractitionerView{}, err
		}
		p.EMISHolderID, holder = h.EMISID, &h
		detail = name + ", mapped to " + holderText(h)
	}
	p, err = s.Store.CreatePractitioner(ctx, p, store.AuditEntry{Actor: who, Action: "mapping.practitioner_created", Detail: detail})
	if err != nil {
		return PractitionerView{}, s.practitionerStoreErr(ctx, err, practiceID, in.EMISHolderID, store.Practitioner{Name: name})
	}
	s.changed(practiceID)
	return PractitionerView{Practitioner: p, Holder: holder}, nil
}

// practitionerStoreErr explains the database refusing a mapping the checks above allowed (a
// concurrent change got there first).
func (s *Service) practitionerStoreErr(ctx context.Context, err error, practiceID, holderID int64, self store.Practitioner) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(ErrNotFound, "", "There is no practitioner %d at this practice.", self.ID)
	case errors.Is(err, store.ErrNotInEMIS):
		return refuse(ErrInvalid, "emis_holder_id", "There is no session holder %d in the EMIS configuration herolink last read. Refresh from EMIS, then choose a session holder from the list.", holderID)
	case errors.Is(err, store.ErrHolderTaken):
		if h, herr := s.Store.EMISHolder(ctx, practiceID, holderID); herr == nil {
			if ferr := s.holderFree(ctx, practiceID, h, self); ferr != nil {
				return ferr
			}
		}
		return refuse(ErrConflict, "emis_holder_id", "That session holder is already mapped to another practitioner. Unmap it first, or choose another session holder.")
	}
	return err
}

func (s *Service) practitioner(ctx context.Context, practiceID, id int64) (store.Practitioner, error) {
	p, err := s.Store.Practitioner(ctx, practiceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, refuse(ErrNotFound, "", "There is no practitioner %d at this practice.", id)
	}
	return p, err
}

// UpdatePractitioner renames a practitioner, or maps it to another session holder, or unmaps it.
func (s *Service) UpdatePractitioner(ctx context.Context, who string, practiceID, id int64, patch PractitionerPatch) (PractitionerView, error) {
	old, err := s.practitioner(ctx, practiceID, id)
	if err != nil {
		return PractitionerView{}, err
	}
	next := old
	if patch.Name != nil {
		if next.Name, err = cleanName("name", "practitioner", *patch.Name); err != nil {
			return PractitionerView{}, err
		}
	}
	var holder, oldHolder *store.EMISHolder
	if old.EMISHolderID != 0 {
		if h, err := s.Store.EMISHolder(ctx, practiceID, old.EMISHolderID); err == nil {
			oldHolder = &h
		}
	}
	holder = oldHolder
	if patch.EMISHolderID != nil {
		next.EMISHolderID, holder = *patch.EMISHolderID, nil
		if next.EMISHolderID < 0 {
			return PractitionerView{}, refuse(ErrInvalid, "emis_holder_id", "Choose a session holder from the list, or none to make %s platform-only.", next.Name)
		}
		if next.EMISHolderID != 0 {
			h, err := s.holderFor(ctx, practiceID, next.EMISHolderID, next)
			if err != nil {
				return PractitionerView{}, err
			}
			holder = &h
		}
	}
	if next == old {
		return PractitionerView{Practitioner: old, Holder: holder}, nil
	}

	action, detail := "mapping.practitioner_renamed", ""
	switch {
	case next.EMISHolderID != old.EMISHolderID && holder != nil:
		action, detail = "mapping.practitioner_mapped", next.Name+" mapped to "+holderText(*holder)
		if oldHolder != nil {
			detail += ", was " + holderText(*oldHolder)
		}
	case next.EMISHolderID != old.EMISHolderID:
		action, detail = "mapping.practitioner_unmapped", next.Name+" is platform-only"
		if oldHolder != nil {
			detail += ", was " + holderText(*oldHolder)
		}
	}
	if next.Name != old.Name {
		rename := fmt.Sprintf("renamed %q to %q", old.Name, next.Name)
		if detail == "" {
			detail = rename
		} else {
			detail += "; " + rename
		}
	}
	p, err := s.Store.UpdatePractitioner(ctx, next, store.AuditEntry{Actor: who, Action: action, Detail: detail})
	if err != nil {
		return PractitionerView{}, s.practitionerStoreErr(ctx, err, practiceID, next.EMISHolderID, next)
	}
	if next.EMISHolderID != old.EMISHolderID {
		s.changed(practiceID)
	}
	return PractitionerView{Practitioner: p, Holder: holder}, nil
}

// DeletePractitioner removes a practitioner; its session holder becomes free.
func (s *Service) DeletePractitioner(ctx context.Context, who string, practiceID, id int64) error {
	p, err := s.practitioner(ctx, practiceID, id)
	if err != nil {
		return err
	}
	detail := p.Name + ", platform-only"
	if p.EMISHolderID != 0 {
		detail = fmt.Sprintf("%s, was mapped to session holder EMIS %d", p.Name, p.EMISHolderID)
		if h, err := s.Store.EMISHolder(ctx, practiceID, p.EMISHolderID); err == nil {
			detail = p.Name + ", was mapped to " + holderText(h)
		}
	}
	if err := s.Store.DeletePractitioner(ctx, practiceID, id, store.AuditEntry{Actor: who, Action: "mapping.practitioner_deleted", Detail: detail}); err != nil {
		return s.practitionerStoreErr(ctx, err, practiceID, 0, p)
	}
	if p.EMISHolderID != 0 {
		s.changed(practiceID)
	}
	return nil
}

// ---- Locations and sites ----

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

func (s *Service) siteFor(ctx context.Context, practiceID, siteID int64, self store.Location) (store.EMISSite, error) {
	site, err := s.Store.EMISSite(ctx, practiceID, siteID)
	if errors.Is(err, store.ErrNotFound) {
		return site, refuse(ErrInvalid, "emis_site_id", "There is no site %d in the EMIS configuration herolink last read. Refresh from EMIS, then choose a site from the list.", siteID)
	}
	if err != nil {
		return site, err
	}
	if site.Gone && self.EMISSiteID != siteID {
		return site, refuse(ErrInvalid, "emis_site_id", "%s is no longer a site in EMIS. Choose another site, or leave %s platform-only.", site.Name, self.Name)
	}
	return site, s.siteFree(ctx, practiceID, site, self)
}

// siteFree refuses a site mapped to another location, naming both.
func (s *Service) siteFree(ctx context.Context, practiceID int64, site store.EMISSite, self store.Location) error {
	other, err := s.Store.LocationBySite(ctx, practiceID, site.EMISID)
	if errors.Is(err, store.ErrNotFound) || err == nil && other.ID == self.ID {
		return nil
	}
	if err != nil {
		return err
	}
	return refuse(ErrConflict, "emis_site_id",
		"%s cannot be mapped to the site %s (EMIS): the location %s is already mapped to it. Unmap it from %s first, or choose another site for %s.",
		self.Name, site.Name, other.Name, other.Name, self.Name)
}

func siteText(site store.EMISSite) string {
	return fmt.Sprintf("site %s (EMIS %d)", site.Name, site.EMISID)
}

// CreateLocation adds a location, mapped to a site or platform-only.
func (s *Service) CreateLocation(ctx context.Context, who string, practiceID int64, in LocationInput) (LocationView, error) {
	name, err := cleanName("name", "location", in.Name)
	if err != nil {
		return LocationView{}, err
	}
	l := store.Location{PracticeID: practiceID, Name: name}
	detail := name + ", platform-only"
	var site *store.EMISSite
	if in.EMISSiteID != 0 {
		st, err := s.siteFor(ctx, practiceID, in.EMISSiteID, l)
		if err != nil {
			return LocationView{}, err
		}
		l.EMISSiteID, site = st.EMISID, &st
		detail = name + ", mapped to " + siteText(st)
	}
	l, err = s.Store.CreateLocation(ctx, l, store.AuditEntry{Actor: who, Action: "mapping.location_created", Detail: detail})
	if err != nil {
		return LocationView{}, s.locationStoreErr(ctx, err, practiceID, in.EMISSiteID, store.Location{Name: name})
	}
	s.changed(practiceID)
	return LocationView{Location: l, Site: site}, nil
}

func (s *Service) locationStoreErr(ctx context.Context, err error, practiceID, siteID int64, self store.Location) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(ErrNotFound, "", "There is no location %d at this practice.", self.ID)
	case errors.Is(err, store.ErrNotInEMIS):
		return refuse(ErrInvalid, "emis_site_id", "There is no site %d in the EMIS configuration herolink last read. Refresh from EMIS, then choose a site from the list.", siteID)
	case errors.Is(err, store.ErrSiteTaken):
		if site, serr := s.Store.EMISSite(ctx, practiceID, siteID); serr == nil {
			if ferr := s.siteFree(ctx, practiceID, site, self); ferr != nil {
				return ferr
			}
		}
		return refuse(ErrConflict, "emis_site_id", "That site is already mapped to another location. Unmap it first, or choose another site.")
	}
	return err
}

func (s *Service) location(ctx context.Context, practiceID, id int64) (store.Location, error) {
	l, err := s.Store.Location(ctx, practiceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return l, refuse(ErrNotFound, "", "There is no location %d at this practice.", id)
	}
	return l, err
}

// UpdateLocation renames a location, or maps it to another site, or unmaps it.
func (s *Service) UpdateLocation(ctx context.Context, who string, practiceID, id int64, patch LocationPatch) (LocationView, error) {
	old, err := s.location(ctx, practiceID, id)
	if err != nil {
		return LocationView{}, err
	}
	next := old
	if patch.Name != nil {
		if next.Name, err = cleanName("name", "location", *patch.Name); err != nil {
			return LocationView{}, err
		}
	}
	var site, oldSite *store.EMISSite
	if old.EMISSiteID != 0 {
		if st, err := s.Store.EMISSite(ctx, practiceID, old.EMISSiteID); err == nil {
			oldSite = &st
		}
	}
	site = oldSite
	if patch.EMISSiteID != nil {
		next.EMISSiteID, site = *patch.EMISSiteID, nil
		if next.EMISSiteID < 0 {
			return LocationView{}, refuse(ErrInvalid, "emis_site_id", "Choose a site from the list, or none to make %s platform-only.", next.Name)
		}
		if next.EMISSiteID != 0 {
			st, err := s.siteFor(ctx, practiceID, next.EMISSiteID, next)
			if err != nil {
				return LocationView{}, err
			}
			site = &st
		}
	}
	if next == old {
		return LocationView{Location: old, Site: site}, nil
	}

	action, detail := "mapping.location_renamed", ""
	switch {
	case next.EMISSiteID != old.EMISSiteID && site != nil:
		action, detail = "mapping.location_mapped", next.Name+" mapped to "+siteText(*site)
		if oldSite != nil {
			detail += ", was " + siteText(*oldSite)
		}
	case next.EMISSiteID != old.EMISSiteID:
		action, detail = "mapping.location_unmapped", next.Name+" is platform-only"
		if oldSite != nil {
			detail += ", was " + siteText(*oldSite)
		}
	}
	if next.Name != old.Name {
		rename := fmt.Sprintf("renamed %q to %q", old.Name, next.Name)
		if detail == "" {
			detail = rename
		} else {
			detail += "; " + rename
		}
	}
	l, err := s.Store.UpdateLocation(ctx, next, store.AuditEntry{Actor: who, Action: action, Detail: detail})
	if err != nil {
		return LocationView{}, s.locationStoreErr(ctx, err, practiceID, next.EMISSiteID, next)
	}
	if next.EMISSiteID != old.EMISSiteID {
		s.changed(practiceID)
	}
	return LocationView{Location: l, Site: site}, nil
}

// DeleteLocation removes a location; its site becomes free.
func (s *Service) DeleteLocation(ctx context.Context, who string, practiceID, id int64) error {
	l, err := s.location(ctx, practiceID, id)
	if err != nil {
		return err
	}
	detail := l.Name + ", platform-only"
	if l.EMISSiteID != 0 {
		detail = fmt.Sprintf("%s, was mapped to site EMIS %d", l.Name, l.EMISSiteID)
		if st, err := s.Store.EMISSite(ctx, practiceID, l.EMISSiteID); err == nil {
			detail = l.Name + ", was mapped to " + siteText(st)
		}
	}
	if err := s.Store.DeleteLocation(ctx, practiceID, id, store.AuditEntry{Actor: who, Action: "mapping.location_deleted", Detail: detail}); err != nil {
		return s.locationStoreErr(ctx, err, practiceID, 0, l)
	}
	if l.EMISSiteID != 0 {
		s.changed(practiceID)
	}
	return nil
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
