package mapping

import (
	"context"
	"errors"
	"fmt"

	"herolink/internal/store"
)

// Practitioners and locations are one shape: a herolink record mapped 1:1 to an EMIS id (a
// session holder, a site) or platform-only. The rules are written once here, for a RecordKind;
// rules.go keeps the named methods callers use.

// RecordKind is one kind of mapped record: where it is stored, how it reads in words, and how
// to look up what it may be mapped to.
type RecordKind struct {
	Store    store.MappedKind
	What     string // "practitioner"
	EMISWhat string // "session holder"
	Field    string // the input naming the EMIS id: "emis_holder_id"
	// The audit trail's action codes (literals: the audit words test reads them).
	createdAction, renamedAction, mappedAction, unmappedAction, deletedAction string
	emis                                                                      func(ctx context.Context, st *store.Store, practiceID, emisID int64) (EMISRecord, error)
	list                                                                      func(ctx context.Context, st *store.Store, practiceID int64) ([]EMISRecord, error)
	// The readiness item: its key, title, and what to do before any EMIS entry was read or
	// when none is mapped.
	readyKey, readyTitle, readyRefresh, readyMap string
}

// EMISRecord is what a record may be mapped to: a session holder or a site.
type EMISRecord struct {
	EMISID int64
	Name   string
	Gone   bool // EMIS no longer lists it
	Holder *store.EMISHolder
	Site   *store.EMISSite
}

func holderRecord(h store.EMISHolder) EMISRecord {
	return EMISRecord{EMISID: h.EMISID, Name: h.DisplayName, Gone: h.Gone, Holder: &h}
}

func siteRecord(site store.EMISSite) EMISRecord {
	return EMISRecord{EMISID: site.EMISID, Name: site.Name, Gone: site.Gone, Site: &site}
}

var (
	// Practitioners are mapped to EMIS session holders.
	Practitioners = &RecordKind{Store: store.PractitionerRecords, What: "practitioner", EMISWhat: "session holder", Field: "emis_holder_id",
		createdAction: "mapping.practitioner_created", renamedAction: "mapping.practitioner_renamed", mappedAction: "mapping.practitioner_mapped",
		unmappedAction: "mapping.practitioner_unmapped", deletedAction: "mapping.practitioner_deleted",
		emis: func(ctx context.Context, st *store.Store, practiceID, id int64) (EMISRecord, error) {
			h, err := st.EMISHolder(ctx, practiceID, id)
			return holderRecord(h), err
		},
		list: func(ctx context.Context, st *store.Store, practiceID int64) ([]EMISRecord, error) {
			hs, err := st.EMISHolders(ctx, practiceID)
			return mapEach(hs, holderRecord), err
		},
		readyKey: ItemPractitioners, readyTitle: "At least one practitioner is mapped to an EMIS session holder",
		readyRefresh: "Refresh from EMIS to read the practice's session holders, then import them as practitioners or map a practitioner to one.",
		readyMap:     "Import practitioners from EMIS, or map a practitioner to an EMIS session holder. Patients can only book practitioners mapped to a session holder."}
	// Locations are mapped to EMIS sites.
	Locations = &RecordKind{Store: store.LocationRecords, What: "location", EMISWhat: "site", Field: "emis_site_id",
		createdAction: "mapping.location_created", renamedAction: "mapping.location_renamed", mappedAction: "mapping.location_mapped",
		unmappedAction: "mapping.location_unmapped", deletedAction: "mapping.location_deleted",
		emis: func(ctx context.Context, st *store.Store, practiceID, id int64) (EMISRecord, error) {
			site, err := st.EMISSite(ctx, practiceID, id)
			return siteRecord(site), err
		},
		list: func(ctx context.Context, st *store.Store, practiceID int64) ([]EMISRecord, error) {
			sites, err := st.EMISSites(ctx, practiceID)
			return mapEach(sites, siteRecord), err
		},
		readyKey: ItemLocations, readyTitle: "At least one location is mapped to an EMIS site",
		readyRefresh: "Refresh from EMIS to read the practice's sites, then import them as locations or map a location to one.",
		readyMap:     "Import locations from EMIS, or map a location to an EMIS site."}

	// recordKinds are every kind, in the order pages show them.
	recordKinds = []*RecordKind{Practitioners, Locations}
)

func mapEach[A, B any](xs []A, f func(A) B) []B {
	out := make([]B, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// RecordView is a record with what it is mapped to (nil: platform-only, or EMIS's entry unread).
type RecordView struct {
	store.MappedRecord
	EMIS *EMISRecord
}

// text is an EMIS entry as the audit trail says it: "session holder Dr A (EMIS 601)".
func (k *RecordKind) text(e EMISRecord) string {
	return fmt.Sprintf("%s %s (EMIS %d)", k.EMISWhat, e.Name, e.EMISID)
}

func (k *RecordKind) notInEMIS(emisID int64) error {
	return refuse(ErrInvalid, k.Field, "There is no %s %d in the EMIS configuration herolink last read. Refresh from EMIS, then choose a %s from the list.", k.EMISWhat, emisID, k.EMISWhat)
}

// emisFor checks that a record (self: ID 0 for a new one) may be mapped to an EMIS entry:
// herolink has read it, EMIS still lists it, and no other record has it.
func (s *Service) emisFor(ctx context.Context, k *RecordKind, practiceID, emisID int64, self store.MappedRecord) (EMISRecord, error) {
	e, err := k.emis(ctx, s.Store, practiceID, emisID)
	if errors.Is(err, store.ErrNotFound) {
		return e, k.notInEMIS(emisID)
	}
	if err != nil {
		return e, err
	}
	if e.Gone && self.EMISID != emisID {
		return e, refuse(ErrInvalid, k.Field, "%s is no longer a %s in EMIS. Choose another %s, or leave %s platform-only.", e.Name, k.EMISWhat, k.EMISWhat, self.Name)
	}
	return e, s.emisFree(ctx, k, practiceID, e, self)
}

// emisFree refuses an EMIS entry mapped to another record, naming both.
func (s *Service) emisFree(ctx context.Context, k *RecordKind, practiceID int64, e EMISRecord, self store.MappedRecord) error {
	other, err := s.Store.MappedRecordByEMIS(ctx, k.Store, practiceID, e.EMISID)
	if errors.Is(err, store.ErrNotFound) || err == nil && other.ID == self.ID {
		return nil
	}
	if err != nil {
		return err
	}
	return refuse(ErrConflict, k.Field,
		"%s cannot be mapped to the %s %s (EMIS): the %s %s is already mapped to it. Unmap it from %s first, or choose another %s for %s.",
		self.Name, k.EMISWhat, e.Name, k.What, other.Name, other.Name, k.EMISWhat, self.Name)
}

// storeErr explains the database refusing a mapping the checks allowed (a concurrent change
// got there first).
func (s *Service) storeErr(ctx context.Context, k *RecordKind, err error, practiceID, emisID int64, self store.MappedRecord) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(ErrNotFound, "", "There is no %s %d at this practice.", k.What, self.ID)
	case errors.Is(err, store.ErrNotInEMIS):
		return k.notInEMIS(emisID)
	case errors.Is(err, store.ErrHolderTaken), errors.Is(err, store.ErrSiteTaken):
		if e, eerr := k.emis(ctx, s.Store, practiceID, emisID); eerr == nil {
			if ferr := s.emisFree(ctx, k, practiceID, e, self); ferr != nil {
				return ferr
			}
		}
		return refuse(ErrConflict, k.Field, "That %s is already mapped to another %s. Unmap it first, or choose another %s.", k.EMISWhat, k.What, k.EMISWhat)
	}
	return err
}

func (s *Service) record(ctx context.Context, k *RecordKind, practiceID, id int64) (store.MappedRecord, error) {
	m, err := s.Store.MappedRecord(ctx, k.Store, practiceID, id)
	if errors.Is(err, store.ErrNotFound) {
		return m, refuse(ErrNotFound, "", "There is no %s %d at this practice.", k.What, id)
	}
	return m, err
}

// CreateRecord adds a record, mapped to an EMIS entry (emisID) or platform-only (0).
func (s *Service) CreateRecord(ctx context.Context, k *RecordKind, who string, practiceID int64, name string, emisID int64) (RecordView, error) {
	name, err := cleanName("name", k.What, name)
	if err != nil {
		return RecordView{}, err
	}
	m := store.MappedRecord{PracticeID: practiceID, Name: name}
	detail := name + ", platform-only"
	var mappedTo *EMISRecord
	if emisID != 0 {
		e, err := s.emisFor(ctx, k, practiceID, emisID, m)
		if err != nil {
			return RecordView{}, err
		}
		m.EMISID, mappedTo = e.EMISID, &e
		detail = name + ", mapped to " + k.text(e)
	}
	m, err = s.Store.CreateMappedRecord(ctx, k.Store, m, store.AuditEntry{Actor: who, Action: k.createdAction, Detail: detail})
	if err != nil {
		return RecordView{}, s.storeErr(ctx, k, err, practiceID, emisID, store.MappedRecord{Name: name})
	}
	s.changed(practiceID)
	return RecordView{MappedRecord: m, EMIS: mappedTo}, nil
}

// UpdateRecord renames a record, or maps it to another EMIS entry, or unmaps it (emisID 0):
// nil leaves that part as it is.
func (s *Service) UpdateRecord(ctx context.Context, k *RecordKind, who string, practiceID, id int64, name *string, emisID *int64) (RecordView, error) {
	old, err := s.record(ctx, k, practiceID, id)
	if err != nil {
		return RecordView{}, err
	}
	next := old
	if name != nil {
		if next.Name, err = cleanName("name", k.What, *name); err != nil {
			return RecordView{}, err
		}
	}
	var mappedTo, was *EMISRecord
	if old.EMISID != 0 {
		if e, err := k.emis(ctx, s.Store, practiceID, old.EMISID); err == nil {
			was = &e
		}
	}
	mappedTo = was
	if emisID != nil {
		next.EMISID, mappedTo = *emisID, nil
		if next.EMISID < 0 {
			return RecordView{}, refuse(ErrInvalid, k.Field, "Choose a %s from the list, or none to make %s platform-only.", k.EMISWhat, next.Name)
		}
		if next.EMISID != 0 {
			e, err := s.emisFor(ctx, k, practiceID, next.EMISID, next)
			if err != nil {
				return RecordView{}, err
			}
			mappedTo = &e
		}
	}
	if next == old {
		return RecordView{MappedRecord: old, EMIS: mappedTo}, nil
	}

	action, detail := k.renamedAction, ""
	switch {
	case next.EMISID != old.EMISID && mappedTo != nil:
		action, detail = k.mappedAction, next.Name+" mapped to "+k.text(*mappedTo)
		if was != nil {
			detail += ", was " + k.text(*was)
		}
	case next.EMISID != old.EMISID:
		action, detail = k.unmappedAction, next.Name+" is platform-only"
		if was != nil {
			detail += ", was " + k.text(*was)
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
	m, err := s.Store.UpdateMappedRecord(ctx, k.Store, next, store.AuditEntry{Actor: who, Action: action, Detail: detail})
	if err != nil {
		return RecordView{}, s.storeErr(ctx, k, err, practiceID, next.EMISID, next)
	}
	if next.EMISID != old.EMISID {
		s.changed(practiceID)
	}
	return RecordView{MappedRecord: m, EMIS: mappedTo}, nil
}

// DeleteRecord removes a record; its EMIS entry becomes free.
func (s *Service) DeleteRecord(ctx context.Context, k *RecordKind, who string, practiceID, id int64) error {
	m, err := s.record(ctx, k, practiceID, id)
	if err != nil {
		return err
	}
	detail := m.Name + ", platform-only"
	if m.EMISID != 0 {
		detail = fmt.Sprintf("%s, was mapped to %s EMIS %d", m.Name, k.EMISWhat, m.EMISID)
		if e, err := k.emis(ctx, s.Store, practiceID, m.EMISID); err == nil {
			detail = m.Name + ", was mapped to " + k.text(e)
		}
	}
	if err := s.Store.DeleteMappedRecord(ctx, k.Store, practiceID, id, store.AuditEntry{Actor: who, Action: k.deletedAction, Detail: detail}); err != nil {
		return s.storeErr(ctx, k, err, practiceID, 0, m)
	}
	if m.EMISID != 0 {
		s.changed(practiceID)
	}
	return nil
}

// link pairs a kind's records with the EMIS entries they may be mapped to, both ways.
func (su *Setup) link(k *RecordKind, recs []store.MappedRecord, entries []EMISRecord) {
	byID := map[int64]*EMISRecord{}
	for i := range entries {
		byID[entries[i].EMISID] = &entries[i]
	}
	byEMIS := map[int64]*store.MappedRecord{}
	for i := range recs {
		su.records[k] = append(su.records[k], RecordView{MappedRecord: recs[i], EMIS: byID[recs[i].EMISID]})
		if recs[i].EMISID != 0 {
			byEMIS[recs[i].EMISID] = &recs[i]
		}
	}
	for _, e := range entries {
		c := EMISChoice{EMISRecord: e, Record: byEMIS[e.EMISID]}
		if c.Record != nil {
			c.MappedTo = c.Record.Name
		}
		su.choices[k] = append(su.choices[k], c)
	}
}

// Records are a practice's records of a kind with what each is mapped to.
func (su Setup) Records(k *RecordKind) []RecordView { return su.records[k] }

// EMISChoice is an EMIS entry a record of the kind may be mapped to, with the record mapped
// to it now (nil, "" when none).
type EMISChoice struct {
	EMISRecord
	Record   *store.MappedRecord
	MappedTo string
}

// Choices are the EMIS entries (session holders, sites) records of the kind may be mapped to.
func (su Setup) Choices(k *RecordKind) []EMISChoice { return su.choices[k] }
