package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Org is one practice's EMIS Web: Organisation Configuration, EMAS Manager, Appts config,
// the appointment book and the patient register. Its lock guards everything in it.
type Org struct {
	mu    sync.Mutex
	world *World

	Serial int    `json:"serial"`
	CDB    int    `json:"cdb"`
	ODS    string `json:"ods"`
	Name   string `json:"name"`

	Users     []*User     `json:"users"`
	Products  []*Product  `json:"products"`
	SlotTypes []*SlotType `json:"slot_types"`
	Sites     []*Site     `json:"sites"`
	Holders   []*Holder   `json:"holders"`

	// Generated diaries and registers are derived from (Seed, GenSerial) on demand; only days
	// and patients that changed are stored below.
	Generated     bool                 `json:"generated"`
	Seed          uint64               `json:"seed"`
	GenSerial     int                  `json:"gen_serial"`
	GenPatients   int                  `json:"gen_patients"`
	Days          map[int]*Day         `json:"days"` // materialised days, by day number
	ExtraPatients []*Patient           `json:"extra_patients"`
	PatientEdits  map[int64]*Patient   `json:"patient_edits"`
	NextIDs       map[string]int64     `json:"next_ids"`
	calls         [methodCount]counter // per-method Partner API calls for this organisation
	changed       bool                 // differs from what generation gives: kept by --state
}

func newOrg(ods string, cdb int, name string) *Org {
	return &Org{ODS: ods, CDB: cdb, Name: name, Products: standardProducts(),
		Days: map[int]*Day{}, PatientEdits: map[int64]*Patient{}, NextIDs: map[string]int64{}}
}

// nextID hands out ids for things added through the admin API, above anything generated.
func (o *Org) nextID(kind string, floor int64) int64 {
	if o.NextIDs[kind] < floor {
		o.NextIDs[kind] = floor
	}
	o.NextIDs[kind]++
	return o.NextIDs[kind]
}

// Lock-free copies for readers outside the package.

// User is an EMIS user as Organisation Configuration -> Users shows it, with the guide's fields.
type User struct {
	DBID                   int64  `json:"dbid"`
	Title                  string `json:"title"`
	FirstName              string `json:"first_name"`
	LastName               string `json:"last_name"`
	Gender                 string `json:"gender"`
	Email                  string `json:"email"`
	Username               string `json:"username"`
	Password               string `json:"password,omitempty"` // EMIS user password; never returned by the admin API
	MustChangePassword     bool   `json:"must_change_password"`
	JobCategory            string `json:"job_category"`
	Mnemonic               string `json:"mnemonic"`
	AuthorisePrescriptions string `json:"authorise_prescriptions"`
	Relationship           string `json:"relationship"`
	ContractStart          string `json:"contract_start"`
	ContractEnd            string `json:"contract_end,omitempty"`
	RBACRole               string `json:"rbac_role"`
	SessionHolder          bool   `json:"session_holder"`
}

// Product is a partner product in EMAS Manager, with its per-organisation state.
type Product struct {
	Key        string                  `json:"key"`
	Name       string                  `json:"name"`
	SupplierID string                  `json:"supplier_id,omitempty"` // empty: the world's Hero supplier id
	Activated  bool                    `json:"activated"`
	Generation int64                   `json:"generation"` // bumped on deactivation: ends sessions
	CredSeq    int64                   `json:"cred_seq"`   // hands out ProductUser generations; never reused
	Users      map[string]*ProductUser `json:"users"`      // by username, exactly as stored on User
}

// ProductUser is a user ticked in Edit Users, with Login Access settings.
type ProductUser struct {
	APIPassword string `json:"api_password"` // set in Edit Users; never read back by any API
	AutoLogin   bool   `json:"auto_login"`
	AllowLogin  bool   `json:"allow_login"`
	Generation  int64  `json:"generation"` // new on every password change (from Product.CredSeq): ends sessions
}

// SlotType is configured in Appts config -> Slot types.
type SlotType struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Colour   string `json:"colour"`
	Bookable bool   `json:"bookable"`
}

// Site is a location of the practice.
type Site struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Postcode string `json:"postcode"`
}

// Holder is a session holder: a clinician whose diary holds sessions.
type Holder struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	JobCategory string `json:"job_category"`
	SlotLength  int    `json:"slot_length"` // generated diaries' slot length in minutes
	DayOff      int    `json:"day_off"`     // generated diaries: weekday (1-5) not worked
	SiteID      int64  `json:"site_id"`     // generated diaries: usual site
}

// DisplayName is how EMIS lists a holder: "Dr Sarah Ahmed".
func (h *Holder) DisplayName() string {
	return strings.TrimSpace(h.Title + " " + h.FirstName + " " + h.LastName)
}

// standardProducts is the EMAS Manager list every organisation sees: Hero Health among others.
func standardProducts() []*Product {
	mk := func(key, name, supplier string) *Product {
		return &Product{Key: key, Name: name, SupplierID: supplier, Users: map[string]*ProductUser{}}
	}
	return []*Product{
		mk("brightpath-triage", "BrightPath Triage", "0d6f1c7e-3b1a-4f0e-9c57-2f4b8a1d9e01"),
		mk("docuflow", "DocuFlow Correspondence", "5a2e9b44-7c1d-4e8f-a0b3-6d9c2e1f7a02"),
		mk(HeroProductKey, "Hero Health", ""),
		mk("pcn-hub-scheduler", "PCN Hub Scheduler", "9e4b7a10-2d3c-4b5e-8f6a-1c0d9e8b7a03"),
	}
}

// standardSlotTypes is the Appts config most practices start with. The "Hero unregistered
// patient" type is not among them: creating it is a step of the guide.
func standardSlotTypes() []*SlotType {
	return []*SlotType{
		{ID: 1, Name: "Routine GP appointment", Colour: "#4c9f70", Bookable: true},
		{ID: 2, Name: "Urgent on the day", Colour: "#d5281b", Bookable: true},
		{ID: 3, Name: "Telephone consultation", Colour: "#005eb8", Bookable: true},
		{ID: 4, Name: "Practice nurse", Colour: "#7c2855", Bookable: true},
		{ID: 5, Name: "Admin - not bookable", Colour: "#768692", Bookable: false},
	}
}

func (o *Org) userLocked(username string) *User {
	for _, u := range o.Users {
		if u.Username == username {
			return u
		}
	}
	return nil
}

func (o *Org) userFoldLocked(username string) *User {
	for _, u := range o.Users {
		if strings.EqualFold(u.Username, username) {
			return u
		}
	}
	return nil
}

func (o *Org) productLocked(key string) *Product {
	for _, p := range o.Products {
		if p.Key == key {
			return p
		}
	}
	return nil
}

func (o *Org) productBySupplierLocked(supplierID string) *Product {
	for _, p := range o.Products {
		id := p.SupplierID
		if id == "" {
			id = o.world.opts.SupplierID
		}
		if strings.EqualFold(id, supplierID) {
			return p
		}
	}
	return nil
}

func (o *Org) slotTypeLocked(id int) *SlotType {
	for _, t := range o.SlotTypes {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (o *Org) siteLocked(id int64) *Site {
	for _, s := range o.Sites {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (o *Org) holderLocked(id int64) *Holder {
	for _, h := range o.Holders {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// touch records a change; callers hold o.mu (or own o exclusively).
func (o *Org) touch() {
	o.changed = true
	o.world.markDirty()
}

// ListSlotTypes lists Appts config's slot types.
func (o *Org) ListSlotTypes() []SlotType {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]SlotType, len(o.SlotTypes))
	for i, t := range o.SlotTypes {
		out[i] = *t
	}
	return out
}

// SlotTypeInput adds or edits a slot type.
type SlotTypeInput struct {
	Name     *string `json:"name"`
	Colour   *string `json:"colour"`
	Bookable *bool   `json:"bookable"`
}

// AddSlotType is Appts config -> Slot types -> Add.
func (o *Org) AddSlotType(in SlotTypeInput) (SlotType, error) {
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return SlotType{}, invalid("name is required")
	}
	name := strings.TrimSpace(*in.Name)
	if len([]rune(name)) > 60 {
		return SlotType{}, invalid("name is longer than 60 characters")
	}
	colour := "#ffeb3b" // EMIS's default is a yellow swatch; the guide's placeholder is yellow
	if in.Colour != nil {
		colour = strings.TrimSpace(*in.Colour)
		if !validColour(colour) {
			return SlotType{}, invalid("colour %q is not a #rrggbb colour", colour)
		}
	}
	bookable := true
	if in.Bookable != nil {
		bookable = *in.Bookable
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range o.SlotTypes {
		if strings.EqualFold(t.Name, name) {
			return SlotType{}, &ConflictError{Msg: fmt.Sprintf("a slot type called %q already exists", t.Name)}
		}
	}
	next := int(o.NextIDs[deletedSlotTypeFloor]) + 1 // EMIS never reuses a deleted slot type's id
	for _, t := range o.SlotTypes {
		if t.ID >= next {
			next = t.ID + 1
		}
	}
	t := &SlotType{ID: next, Name: name, Colour: colour, Bookable: bookable}
	o.SlotTypes = append(o.SlotTypes, t)
	o.touch()
	return *t, nil
}

// EditSlotType renames a slot type or changes its colour or bookable flag. Everything is
// checked before anything changes.
func (o *Org) EditSlotType(id int, in SlotTypeInput) (SlotType, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.slotTypeLocked(id)
	if t == nil {
		return SlotType{}, fmt.Errorf("slot type %d: %w", id, ErrNotFound)
	}
	next := *t
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return SlotType{}, invalid("name cannot be empty")
		}
		if len([]rune(name)) > 60 {
			return SlotType{}, invalid("name is longer than 60 characters")
		}
		for _, other := range o.SlotTypes {
			if other != t && strings.EqualFold(other.Name, name) {
				return SlotType{}, &ConflictError{Msg: fmt.Sprintf("a slot type called %q already exists", other.Name)}
			}
		}
		next.Name = name
	}
	if in.Colour != nil {
		colour := strings.TrimSpace(*in.Colour)
		if !validColour(colour) {
			return SlotType{}, invalid("colour %q is not a #rrggbb colour", colour)
		}
		next.Colour = colour
	}
	if in.Bookable != nil {
		next.Bookable = *in.Bookable
	}
	*t = next
	o.touch()
	return *t, nil
}

func validColour(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range strings.ToLower(s[1:]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ListSites lists the organisation's sites.
func (o *Org) ListSites() []Site {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Site, len(o.Sites))
	for i, s := range o.Sites {
		out[i] = *s
	}
	return out
}

// AddSite adds a location.
func (o *Org) AddSite(name, postcode string) (Site, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Site{}, invalid("name is required")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := &Site{ID: o.nextID("site", int64(100+len(o.Sites))), Name: name, Postcode: normalisePostcode(postcode)}
	o.Sites = append(o.Sites, s)
	o.touch()
	return *s, nil
}

// ListHolders lists session holders.
func (o *Org) ListHolders() []Holder {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Holder, len(o.Holders))
	for i, h := range o.Holders {
		out[i] = *h
	}
	return out
}

// HolderInput adds a session holder.
type HolderInput struct {
	Title       string `json:"title"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	JobCategory string `json:"job_category"`
}

// AddHolder adds a session holder (a clinician whose diary holds sessions).
func (o *Org) AddHolder(in HolderInput) (Holder, error) {
	if strings.TrimSpace(in.FirstName) == "" || strings.TrimSpace(in.LastName) == "" {
		return Holder{}, invalid("first_name and last_name are required")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	h := &Holder{ID: o.nextID("holder", int64(200+len(o.Holders))), Title: strings.TrimSpace(in.Title),
		FirstName: strings.TrimSpace(in.FirstName), LastName: strings.TrimSpace(in.LastName),
		JobCategory: strings.TrimSpace(in.JobCategory), SlotLength: 10}
	o.Holders = append(o.Holders, h)
	o.touch()
	return *h, nil
}

func sortUsers(us []User) {
	sort.Slice(us, func(i, j int) bool { return strings.ToLower(us[i].Username) < strings.ToLower(us[j].Username) })
}
