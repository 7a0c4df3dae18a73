package sandbox

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"herolink/internal/emis"
)

// DefaultSupplierID is the supplier id EMIS "issued" to Hero Health in the sandbox. It is fixed
// so that a herolink configured once keeps working against any sandbox; --supplier-id overrides.
const DefaultSupplierID = "15853ebe-a64d-4e6f-afa1-9f10977add1f"

// HeroProductKey is the EMAS Manager key of the Hero Health partner product.
const HeroProductKey = "hero-health"

// Options configure a World.
type Options struct {
	Seed               uint64
	Practices          int              // generated practices besides the demo practice
	SupplierID         string           // Hero Health's supplier id; DefaultSupplierID if empty
	SessionIdleTimeout time.Duration    // Partner API login sessions; 20 minutes if zero
	DiaryWeeks         int              // how far ahead diaries are released; 4 if zero
	Now                func() time.Time // the clock; time.Now if nil
	Preconfigured      bool             // perform the setup guide's steps for the demo practice
	NoDemo             bool             // leave out the demo practice
	SecondDemo         bool             // add Oakfield Surgery (A81002), never preconfigured
}

// World is the whole emulated EMIS estate: organisations, their users, EMAS Manager, diaries and
// registers, plus the Partner API's login state. Safe for concurrent use: the organisation
// registry has its own lock and each organisation is locked on its own.
type World struct {
	opts Options
	now  func() time.Time

	mu     sync.RWMutex
	orgs   map[int]*Org // by CDB
	byODS  map[string]*Org
	serial []*Org // index is the organisation's serial number, used inside ids

	logins loginTable
	faults faultTable
	stats  callStats
	dirty  atomic.Bool // state changed since the last save
}

// ErrNotFound is returned by admin operations on something that does not exist.
var ErrNotFound = errors.New("not found")

// ValidationError is bad admin input; its message says what is wrong, for the person at the form.
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &ValidationError{Msg: fmt.Sprintf(format, args...)}
}

// ConflictError is an admin operation that clashes with the current state (a duplicate username,
// a booked slot).
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// New builds a World from options. Generated practices are cheap: their configuration is made
// now, their diaries and registers are derived from the seed whenever they are read.
func New(opts Options) *World {
	if opts.SupplierID == "" {
		opts.SupplierID = DefaultSupplierID
	}
	if opts.SessionIdleTimeout <= 0 {
		opts.SessionIdleTimeout = 20 * time.Minute
	}
	if opts.DiaryWeeks <= 0 {
		opts.DiaryWeeks = 4
	}
	w := &World{opts: opts, now: opts.Now, orgs: map[int]*Org{}, byODS: map[string]*Org{}}
	if w.now == nil {
		w.now = time.Now
	}
	w.logins.init()
	w.stats.init()
	w.serial = append(w.serial, nil) // serial 0 is never used, so a zero id is never valid
	if !opts.NoDemo {
		org := w.addOrg(demoPractice())
		seedDemoPatients(org)
		if opts.Preconfigured {
			if err := w.Preconfigure(org.CDB, DemoAPIPassword); err != nil {
				panic(fmt.Sprintf("sandbox: preconfigure demo practice: %v", err))
			}
		}
	}
	if opts.SecondDemo {
		o := generatedShape(demoSeed+1, 0, SecondDemoODS, SecondDemoCDB, SecondDemoName, 4, 1, false)
		o.GenPatients = 240
		w.addOrg(o)
	}
	for i := 1; i <= opts.Practices; i++ {
		w.addOrg(generatedPractice(opts.Seed, i))
	}
	w.dirty.Store(false)
	return w
}

// Now is the world's clock.
func (w *World) Now() time.Time { return w.now() }

// Today is the date in London now.
func (w *World) Today() emis.Date { return emis.Today(w.now()) }

// SupplierID is Hero Health's supplier id in this world.
func (w *World) SupplierID() string { return w.opts.SupplierID }

func (w *World) addOrg(o *Org) *Org {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addOrgLocked(o)
}

func (w *World) addOrgLocked(o *Org) *Org {
	o.Serial = len(w.serial)
	o.world = w
	w.serial = append(w.serial, o)
	w.orgs[o.CDB] = o
	w.byODS[o.ODS] = o
	w.dirty.Store(true)
	return o
}

// Org finds an organisation by CDB number.
func (w *World) Org(cdb int) (*Org, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if o, ok := w.orgs[cdb]; ok {
		return o, nil
	}
	return nil, fmt.Errorf("organisation with CDB %d: %w", cdb, ErrNotFound)
}

// OrgByODS finds an organisation by ODS code (case-insensitive, trimmed): the directory.
func (w *World) OrgByODS(ods string) (*Org, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if o, ok := w.byODS[strings.ToUpper(strings.TrimSpace(ods))]; ok {
		return o, nil
	}
	return nil, fmt.Errorf("organisation with ODS code %q: %w", ods, ErrNotFound)
}

// Orgs lists organisations ordered by CDB.
func (w *World) Orgs() []*Org {
	w.mu.RLock()
	out := make([]*Org, 0, len(w.orgs))
	for _, o := range w.orgs {
		out = append(out, o)
	}
	w.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CDB < out[j].CDB })
	return out
}

// OrgInput creates an organisation through the admin API.
type OrgInput struct {
	ODS  string `json:"ods"`
	CDB  int    `json:"cdb"`
	Name string `json:"name"`
}

// CreateOrg adds an empty organisation: no users, a standard set of slot types, no diary.
func (w *World) CreateOrg(in OrgInput) (*Org, error) {
	ods := strings.ToUpper(strings.TrimSpace(in.ODS))
	if !validODS(ods) {
		return nil, invalid("ods %q is not an ODS code: expected a letter followed by 5 characters, e.g. A81001", in.ODS)
	}
	if in.CDB <= 0 {
		return nil, invalid("cdb must be a positive number")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, invalid("name is required")
	}
	o := newOrg(ods, in.CDB, name)
	o.SlotTypes = standardSlotTypes()
	o.changed = true
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, taken := w.orgs[in.CDB]; taken {
		return nil, &ConflictError{Msg: fmt.Sprintf("an organisation with CDB %d already exists", in.CDB)}
	}
	if _, taken := w.byODS[ods]; taken {
		return nil, &ConflictError{Msg: fmt.Sprintf("an organisation with ODS code %s already exists", ods)}
	}
	return w.addOrgLocked(o), nil
}

func validODS(s string) bool {
	if len(s) < 3 || len(s) > 6 {
		return false
	}
	if s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func (w *World) markDirty() { w.dirty.Store(true) }
