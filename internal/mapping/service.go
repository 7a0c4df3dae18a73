package mapping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Conns gives a logged-on EMIS connection for a practice (practice.Service does).
type Conns interface {
	Conn(ctx context.Context, practiceID int64) (*emis.Conn, error)
}

// Service keeps practices' sync setup. Methods that change something take who acts (a staff
// username, written to the audit trail); the caller has checked that they may.
type Service struct {
	Store *store.Store
	Conns Conns
	Log   *slog.Logger
	// OnChange hears a practice whose setup changed (features, mappings, a fresh configuration),
	// so the sync can run at once with the new active slot types. May be nil.
	OnChange func(practiceID int64)
}

// Kinds of refusal, matched with errors.Is on an *Error.
var (
	ErrInvalid  = errors.New("mapping: invalid input")
	ErrConflict = errors.New("mapping: conflicts with another mapping or the practice's state")
	ErrNotFound = errors.New("mapping: not found")
	ErrEMIS     = errors.New("mapping: EMIS could not be read")
)

// Error is a change refused, in words for the person who asked. Nothing was changed.
type Error struct {
	Kind    error  // ErrInvalid, ErrConflict, ErrNotFound or ErrEMIS
	Field   string // the input at fault ("name", "emis_holder_id"...), if one is
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func refuse(kind error, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}

func (s *Service) changed(practiceID int64) {
	if s.OnChange != nil {
		s.OnChange(practiceID)
	}
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// PractitionerView is a practitioner with the session holder it is mapped to.
type PractitionerView struct {
	store.Practitioner
	Holder *store.EMISHolder // nil: platform-only
}

// LocationView is a location with the site it is mapped to.
type LocationView struct {
	store.Location
	Site *store.EMISSite // nil: platform-only
}

// HolderView is an EMIS session holder with the practitioner mapped to it.
type HolderView struct {
	store.EMISHolder
	Practitioner *store.Practitioner // nil: not mapped
}

// SiteView is an EMIS site with the location mapped to it.
type SiteView struct {
	store.EMISSite
	Location *store.Location // nil: not mapped
}

// SlotTypeView is an EMIS slot type with its feature and appointment type.
type SlotTypeView struct {
	store.EMISSlotType
	// Proposed: no slot type has Unregistered Patient Booking yet, and this is the guide's
	// "Hero unregistered patient" type (found ignoring case, spacing and punctuation).
	Proposed          bool
	AppointmentTypeID int64 // 0: none published yet
}

// Setup is everything about one practice's sync setup, for its page.
type Setup struct {
	Practice         store.Practice
	ConfigReadAt     time.Time // zero: herolink has not read EMIS's configuration yet
	Practitioners    []PractitionerView
	Locations        []LocationView
	Holders          []HolderView
	Sites            []SiteView
	SlotTypes        []SlotTypeView
	AppointmentTypes []store.AppointmentType
	Readiness        Readiness

	records map[*RecordKind][]RecordView // practitioners and locations, each with its EMIS entry
	choices map[*RecordKind][]EMISChoice // session holders and sites, each with its record
}

// Proposed is the slot type proposed for Unregistered Patient Booking, if any.
func (su Setup) Proposed() *SlotTypeView {
	for i := range su.SlotTypes {
		if su.SlotTypes[i].Proposed {
			return &su.SlotTypes[i]
		}
	}
	return nil
}

// Setup reads a practice's whole sync setup with its readiness.
func (s *Service) Setup(ctx context.Context, practiceID int64) (Setup, error) {
	su, err := s.load(ctx, practiceID)
	if err != nil {
		return su, err
	}
	sync, err := s.Store.SyncStatus(ctx, practiceID)
	if err != nil {
		return su, err
	}
	su.Readiness = readiness(su, sync)
	return su, nil
}

func (s *Service) load(ctx context.Context, practiceID int64) (Setup, error) {
	var su Setup
	var err error
	if su.Practice, err = s.Store.PracticeByID(ctx, practiceID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return su, refuse(ErrNotFound, "", "There is no practice %d.", practiceID)
		}
		return su, err
	}
	if su.ConfigReadAt, err = s.Store.EMISConfigurationReadAt(ctx, practiceID); err != nil {
		return su, err
	}
	types, err := s.Store.EMISSlotTypes(ctx, practiceID)
	if err != nil {
		return su, err
	}
	su.records, su.choices = map[*RecordKind][]RecordView{}, map[*RecordKind][]EMISChoice{}
	for _, k := range recordKinds {
		recs, err := s.Store.MappedRecords(ctx, k.Store, practiceID)
		if err != nil {
			return su, err
		}
		entries, err := k.list(ctx, s.Store, practiceID)
		if err != nil {
			return su, err
		}
		su.link(k, recs, entries)
	}
	if su.AppointmentTypes, err = s.Store.AppointmentTypes(ctx, practiceID); err != nil {
		return su, err
	}

	// The kind-specific views, for callers that know the kind.
	for _, v := range su.records[Practitioners] {
		su.Practitioners = append(su.Practitioners, practitionerView(v))
	}
	for _, c := range su.choices[Practitioners] {
		hv := HolderView{EMISHolder: *c.Holder}
		if c.Record != nil {
			p := practitionerView(RecordView{MappedRecord: *c.Record}).Practitioner
			hv.Practitioner = &p
		}
		su.Holders = append(su.Holders, hv)
	}
	for _, v := range su.records[Locations] {
		su.Locations = append(su.Locations, locationView(v))
	}
	for _, c := range su.choices[Locations] {
		sv := SiteView{EMISSite: *c.Site}
		if c.Record != nil {
			l := locationView(RecordView{MappedRecord: *c.Record}).Location
			sv.Location = &l
		}
		su.Sites = append(su.Sites, sv)
	}

	apptBySlotType := map[int]int64{}
	for _, a := range su.AppointmentTypes {
		apptBySlotType[a.EMISSlotTypeID] = a.ID
	}
	proposed := proposeUnregistered(types)
	for _, t := range types {
		su.SlotTypes = append(su.SlotTypes, SlotTypeView{EMISSlotType: t, Proposed: t.EMISID == proposed,
			AppointmentTypeID: apptBySlotType[t.EMISID]})
	}
	return su, nil
}

// proposeUnregistered is the slot type to propose for Unregistered Patient Booking: the guide's
// "Hero unregistered patient", when no type EMIS still lists has the feature. 0: none.
func proposeUnregistered(types []store.EMISSlotType) int {
	var listed []emis.SlotType
	for _, t := range types {
		if t.Gone {
			continue
		}
		if t.Feature == store.FeatureUnregistered {
			return 0
		}
		listed = append(listed, emis.SlotType{TypeID: t.EMISID, Description: t.Name, Bookable: t.EMISBookable})
	}
	found, _ := emis.FindUnregisteredSlotType(listed)
	if found == nil {
		return 0
	}
	return found.TypeID
}

// Practitioners lists a practice's practitioners with their session holders.
func (s *Service) Practitioners(ctx context.Context, practiceID int64) ([]PractitionerView, error) {
	su, err := s.load(ctx, practiceID)
	return su.Practitioners, err
}

// Locations lists a practice's locations with their sites.
func (s *Service) Locations(ctx context.Context, practiceID int64) ([]LocationView, error) {
	su, err := s.load(ctx, practiceID)
	return su.Locations, err
}

// SlotTypes lists a practice's EMIS slot types with their features.
func (s *Service) SlotTypes(ctx context.Context, practiceID int64) ([]SlotTypeView, error) {
	su, err := s.load(ctx, practiceID)
	return su.SlotTypes, err
}

// ActiveSlotTypeIDs lists the slot types the sync keeps fresh: those with the Bookable or
// Unregistered Patient Booking feature that EMIS still lists. Empty before staff give features.
func (s *Service) ActiveSlotTypeIDs(ctx context.Context, practiceID int64) ([]int, error) {
	return s.Store.ActiveSlotTypeIDs(ctx, practiceID)
}

// BookableSlotTypeIDs lists the slot types offered to patients: Bookable here and in EMIS.
func (s *Service) BookableSlotTypeIDs(ctx context.Context, practiceID int64) ([]int, error) {
	return s.Store.BookableSlotTypeIDs(ctx, practiceID)
}

// RefreshFromEMIS reads the practice's appointment configuration from EMIS and replaces
// herolink's copy. Slot types, holders and sites EMIS no longer lists are kept, marked gone,
// when something is mapped to them. No database transaction is open during the EMIS call.
func (s *Service) RefreshFromEMIS(ctx context.Context, who string, practiceID int64) (store.ConfigurationSaved, error) {
	if _, err := s.Store.PracticeByID(ctx, practiceID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.ConfigurationSaved{}, refuse(ErrNotFound, "", "There is no practice %d.", practiceID)
		}
		return store.ConfigurationSaved{}, err
	}
	cfg, err := s.readConfiguration(ctx, practiceID)
	if err != nil {
		return store.ConfigurationSaved{}, err
	}
	saved, err := s.Store.SaveEMISConfiguration(ctx, practiceID, cfg, store.AuditEntry{Actor: who, Action: "mapping.refreshed"})
	if err != nil {
		return saved, err
	}
	s.log().Info("EMIS appointment configuration read", "practice", practiceID, "actor", who,
		"sites", saved.Sites, "holders", saved.Holders, "slot_types", saved.SlotTypes, "gone", len(saved.Gone))
	s.changed(practiceID)
	return saved, nil
}

func (s *Service) readConfiguration(ctx context.Context, practiceID int64) (store.EMISConfiguration, error) {
	var out store.EMISConfiguration
	if s.Conns == nil {
		return out, refuse(ErrEMIS, "", "herolink cannot reach EMIS from here.")
	}
	conn, err := s.Conns.Conn(ctx, practiceID)
	if err == nil {
		var cfg *emis.AppointmentConfiguration
		if cfg, err = conn.GetAppointmentConfiguration(ctx); err == nil {
			return fromEMIS(cfg), nil
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return out, refuse(ErrConflict, "", "This practice has no EMIS connection yet. Fill in the connection form first; herolink then reads the appointment configuration from EMIS.")
	case errors.Is(err, emis.ErrLogonUnsuccessful): // includes practice.ErrCredentialsRejected
		return out, refuse(ErrConflict, "", "EMIS refused this practice's API password, so herolink cannot read the appointment configuration. Enter the current API password on the connection form, then refresh again.")
	case errors.Is(err, emis.ErrAccessDenied):
		return out, refuse(ErrEMIS, "", "EMIS denied access to the appointment configuration: the Herouser's role needs Perform Patient Administration (B0560). Check the user role profile in EMIS, then refresh again.")
	}
	var te *emis.TransportError
	if errors.As(err, &te) {
		return out, refuse(ErrEMIS, "", "EMIS did not answer, so the appointment configuration could not be read. This is not the practice's fault; try again in a few minutes.")
	}
	s.log().Warn("read EMIS appointment configuration", "practice", practiceID, "err", err)
	return out, refuse(ErrEMIS, "", "herolink could not read the appointment configuration from EMIS (%v). Try again in a few minutes.", err)
}

// fromEMIS turns EMIS's answer into herolink's copy.
func fromEMIS(cfg *emis.AppointmentConfiguration) store.EMISConfiguration {
	var out store.EMISConfiguration
	for _, site := range cfg.Sites {
		out.Sites = append(out.Sites, store.EMISSite{EMISID: site.DBID, Name: strings.TrimSpace(site.Name), Postcode: site.Postcode})
	}
	for _, h := range cfg.Holders {
		out.Holders = append(out.Holders, store.EMISHolder{EMISID: h.DBID, Title: h.Title, FirstNames: h.FirstNames,
			LastName: h.LastName, JobCategory: h.JobCategory, DisplayName: HolderName(h)})
	}
	for _, t := range cfg.SlotTypes {
		out.SlotTypes = append(out.SlotTypes, store.EMISSlotType{EMISID: t.TypeID, Name: strings.TrimSpace(t.Description),
			Colour: t.Colour, EMISBookable: t.Bookable})
	}
	return out
}

// HolderName is a session holder's name as EMIS lists it: "Dr Sarah Ahmed".
func HolderName(h emis.Holder) string {
	return strings.Join(strings.Fields(h.Title+" "+h.FirstNames+" "+h.LastName), " ")
}

// Imported says what ImportFromEMIS did.
type Imported struct {
	Configuration store.ConfigurationSaved
	store.ImportResult
}

// ImportFromEMIS reads EMIS's configuration afresh, then gives every session holder and site
// not mapped yet a practitioner or location named as EMIS shows it ("Dr Sarah Ahmed") and
// mapped to it. An unmapped practitioner or location of that name is mapped instead of
// duplicated. Running it again creates nothing.
func (s *Service) ImportFromEMIS(ctx context.Context, who string, practiceID int64) (Imported, error) {
	saved, err := s.RefreshFromEMIS(ctx, who, practiceID)
	if err != nil {
		return Imported{}, err
	}
	res, err := s.Store.ImportFromEMIS(ctx, practiceID, store.AuditEntry{Actor: who, Action: "mapping.imported"})
	if err != nil {
		return Imported{}, err
	}
	if res.Changed() {
		s.log().Info("practitioners and locations imported from EMIS", "practice", practiceID, "actor", who,
			"practitioners", res.PractitionersCreated+res.PractitionersLinked, "locations", res.LocationsCreated+res.LocationsLinked)
		s.changed(practiceID)
	}
	return Imported{Configuration: saved, ImportResult: res}, nil
}
