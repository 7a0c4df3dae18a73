package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// MaxSlotRangeDays is the longest date range one slot search may cover.
const MaxSlotRangeDays = 56

// slotFilter is a slot query resolved to EMIS ids.
type slotFilter struct {
	practiceID int64
	siteID     int64
	holderID   int64
	typeID     int
}

// resolveFilters turns the public ids of a query into EMIS ids, refusing ids that are not
// the group's. An id naming another practice than an earlier filter leaves nothing to find.
func (s *Service) resolveFilters(ctx context.Context, group string, q SlotQuery) (slotFilter, bool, error) {
	var f slotFilter
	var errs []FieldError
	practices, err := s.groupPractices(ctx, group)
	if err != nil {
		return f, false, err
	}
	empty := false
	narrow := func(pid int64) {
		if f.practiceID != 0 && f.practiceID != pid {
			empty = true
		}
		f.practiceID = pid
	}
	if q.LocationID != "" {
		l, ok := s.findInGroup(ctx, practices, prefixLocation, q.LocationID, func(pid, id int64) (int64, error) {
			l, err := s.Store.Location(ctx, pid, id)
			return l.EMISSiteID, err
		})
		if !ok {
			errs = append(errs, FieldError{Field: "location_id", Code: "unknown", Message: "there is no location " + q.LocationID + " in this practice group"})
		} else {
			narrow(l.practiceID)
			f.siteID = l.emisID
		}
	}
	if q.PractitionerID != "" {
		p, ok := s.findInGroup(ctx, practices, prefixPractitioner, q.PractitionerID, func(pid, id int64) (int64, error) {
			p, err := s.Store.Practitioner(ctx, pid, id)
			return p.EMISHolderID, err
		})
		if !ok {
			errs = append(errs, FieldError{Field: "practitioner_id", Code: "unknown", Message: "there is no practitioner " + q.PractitionerID + " in this practice group"})
		} else {
			narrow(p.practiceID)
			f.holderID = p.emisID
		}
	}
	if q.AppointmentTypeID != "" {
		t, ok := s.findInGroup(ctx, practices, prefixAppointmentType, q.AppointmentTypeID, func(pid, id int64) (int64, error) {
			t, err := s.Store.AppointmentType(ctx, pid, id)
			if err == nil && !t.Published {
				return 0, store.ErrNotFound
			}
			return int64(t.EMISSlotTypeID), err
		})
		if !ok {
			errs = append(errs, FieldError{Field: "appointment_type_id", Code: "unknown", Message: "there is no bookable appointment type " + q.AppointmentTypeID + " in this practice group"})
		} else {
			narrow(t.practiceID)
			f.typeID = int(t.emisID)
		}
	}
	if len(errs) > 0 {
		return f, false, &Error{Code: CodeInvalid, Message: errs[0].Message, Fields: errs}
	}
	return f, !empty, nil
}

type found struct{ practiceID, emisID int64 }

// findInGroup looks a public id up in each of the group's practices; only an id mapped to
// EMIS counts.
func (s *Service) findInGroup(ctx context.Context, practices []int64, prefix, public string, get func(pid, id int64) (int64, error)) (found, bool) {
	id, ok := parsePrefixedID(prefix, public)
	if !ok {
		return found{}, false
	}
	for _, pid := range practices {
		emisID, err := get(pid, id)
		if err == nil && emisID != 0 {
			return found{pid, emisID}, true
		}
	}
	return found{}, false
}

// SyncWindow is the dates herolink keeps in step with EMIS, and so can offer: today in London
// and the sync horizon's days after it (--sync-horizon-days; 14 when not set, at most 56).
func (s *Service) SyncWindow() (first, last emis.Date) {
	days := s.SyncHorizonDays
	switch {
	case days <= 0:
		days = 14
	case days > 56:
		days = 56
	}
	first = emis.Today(s.now())
	return first, first.AddDays(days - 1)
}

// validateWindow refuses a range wholly in the past or wholly beyond the synced window: its
// answer would be empty, which a partner could not tell from a full diary. A range that
// overlaps the window answers the part within it.
func (s *Service) validateWindow(from, to time.Time) *Error {
	first, last := s.SyncWindow()
	window := fmt.Sprintf("slots are offered from today, %s, to %s (%d days, the window herolink keeps in step with the practices' diaries)",
		first, last, last.DaysSince(first)+1)
	switch {
	case emis.DateOf(to).Before(first):
		msg := fmt.Sprintf("the range %s to %s is in the past: %s", emis.DateOf(from), emis.DateOf(to), window)
		return &Error{Code: CodeInvalid, Message: msg, Fields: []FieldError{{Field: "end_date", Code: "in_the_past", Message: msg}}}
	case last.Before(emis.DateOf(from)):
		msg := fmt.Sprintf("the range %s to %s is beyond the synced window: %s", emis.DateOf(from), emis.DateOf(to), window)
		return &Error{Code: CodeInvalid, Message: msg, Fields: []FieldError{{Field: "start_date", Code: "beyond_window", Message: msg}}}
	}
	return nil
}

func validateRange(from, to time.Time) *Error {
	if from.IsZero() || to.IsZero() {
		return &Error{Code: CodeInvalid, Message: "start_date and end_date are required",
			Fields: []FieldError{{Field: "start_date", Code: "required", Message: "start_date and end_date are required"}}}
	}
	if to.Before(from) {
		return &Error{Code: CodeInvalid, Message: "end_date is before start_date",
			Fields: []FieldError{{Field: "end_date", Code: "before_start", Message: "end_date must be on or after start_date"}}}
	}
	if days := emis.DateOf(to).DaysSince(emis.DateOf(from)); days >= MaxSlotRangeDays {
		return &Error{Code: CodeInvalid, Message: fmt.Sprintf("the range covers %d days; at most %d (8 weeks) are allowed", days+1, MaxSlotRangeDays),
			Fields: []FieldError{{Field: "end_date", Code: "range_too_long", Message: fmt.Sprintf("at most %d days from start_date", MaxSlotRangeDays)}}}
	}
	return nil
}

func encodeCursor(f store.FreeSlot) string {
	return "c" + strconv.FormatInt(f.StartAt.UnixMilli(), 36) + "." + strconv.FormatInt(f.PracticeID, 36) + "." + strconv.FormatInt(f.SlotID, 36)
}

func decodeCursor(c string) (start, practice, slot int64, ok bool) {
	rest, found := strings.CutPrefix(c, "c")
	if !found {
		return 0, 0, 0, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 36, 64)
		if err != nil || n <= 0 {
			return 0, 0, 0, false
		}
		v[i] = n
	}
	return v[0], v[1], v[2], true
}

// Slots lists free, bookable, unheld future slots of the practice group in time order.
func (s *Service) Slots(ctx context.Context, group string, q SlotQuery) (SlotPage, error) {
	fq, _, empty, err := s.slotQuery(ctx, group, &q)
	if err != nil || empty {
		return SlotPage{Slots: []Slot{}}, err
	}
	rows, err := s.Store.FreeSlots(ctx, fq)
	if err != nil {
		return SlotPage{}, err
	}
	return s.pageOf(ctx, rows, q.Limit)
}

// slotQuery checks a search and resolves it to the store's query and the practices it covers;
// empty when the filters name things of different practices.
func (s *Service) slotQuery(ctx context.Context, group string, q *SlotQuery) (store.FreeSlotQuery, []int64, bool, error) {
	if e := validateRange(q.From, q.To); e != nil {
		return store.FreeSlotQuery{}, nil, false, e
	}
	if e := s.validateWindow(q.From, q.To); e != nil {
		return store.FreeSlotQuery{}, nil, false, e
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 500 {
		return store.FreeSlotQuery{}, nil, false, &Error{Code: CodeInvalid, Message: "limit must be between 1 and 500",
			Fields: []FieldError{{Field: "limit", Code: "out_of_range", Message: "limit must be between 1 and 500"}}}
	}
	f, any, err := s.resolveFilters(ctx, group, *q)
	if err != nil || !any {
		return store.FreeSlotQuery{}, nil, true, err
	}
	practices, err := s.groupPractices(ctx, group)
	if err != nil {
		return store.FreeSlotQuery{}, nil, false, err
	}
	fq := store.FreeSlotQuery{GroupID: group, PracticeID: f.practiceID, Practices: practices, SiteID: f.siteID, HolderID: f.holderID, TypeID: f.typeID,
		From: dayStart(q.From), To: dayStart(q.To).AddDate(0, 0, 1), Now: s.now(), Limit: q.Limit + 1}
	if q.Cursor != "" {
		var ok bool
		fq.AfterStart, fq.AfterPractice, fq.AfterSlot, ok = decodeCursor(q.Cursor)
		if !ok {
			return store.FreeSlotQuery{}, nil, false, &Error{Code: CodeInvalid, Message: "the cursor is not one this API gave out",
				Fields: []FieldError{{Field: "cursor", Code: "invalid", Message: "use next_cursor from the previous page, unchanged"}}}
		}
	}
	if f.practiceID != 0 {
		practices = []int64{f.practiceID}
	}
	return fq, practices, false, nil
}

// pageOf turns the store's rows (limit+1 of them at most) into a page of slots.
func (s *Service) pageOf(ctx context.Context, rows []store.FreeSlot, limit int) (SlotPage, error) {
	page := SlotPage{Slots: make([]Slot, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = encodeCursor(rows[len(rows)-1])
	}
	cats := map[int64]*catalogue{}
	for _, r := range rows {
		sl, ok, err := s.toSlot(ctx, cats, r)
		if err != nil {
			return SlotPage{}, err
		}
		if ok {
			page.Slots = append(page.Slots, sl)
		}
	}
	return page, nil
}

func (s *Service) toSlot(ctx context.Context, cats map[int64]*catalogue, r store.FreeSlot) (Slot, bool, error) {
	c, ok := cats[r.PracticeID]
	if !ok {
		var err error
		if c, err = s.catalogue(ctx, r.PracticeID); err != nil {
			return Slot{}, false, err
		}
		cats[r.PracticeID] = c
	}
	at := c.appointmentTypeID(r.TypeID)
	loc, ok := c.locationIDBySite[r.SiteID]
	if at == "" || !ok {
		return Slot{}, false, nil // not offered: no published type or no location
	}
	return Slot{ID: slotID(r.PracticeID, r.SlotID), PracticeID: r.PracticeID, StartAt: r.StartAt,
		EndAt: r.StartAt.Add(time.Duration(r.LengthMin) * time.Minute), AppointmentTypeID: at,
		LocationID: loc, PractitionerIDs: c.practitionerIDs(r.HolderIDs)}, true, nil
}

// Slot returns one slot if it is free to reserve now.
func (s *Service) Slot(ctx context.Context, group, id string) (Slot, error) {
	r, _, err := s.holdableSlot(ctx, group, id)
	if err != nil {
		return Slot{}, err
	}
	sl, ok, err := s.toSlot(ctx, map[int64]*catalogue{}, r)
	if err != nil {
		return Slot{}, err
	}
	if !ok {
		return Slot{}, refuse(CodeSlotUnavailable, "slot %s is not offered for online booking", id)
	}
	return sl, nil
}

// holdableSlot finds a slot of the group that can be reserved now, with its practice's terms
// for a new hold read in the same query, or says why not. Slots asked for together are read in
// one query (groups.go).
func (s *Service) holdableSlot(ctx context.Context, group, id string) (store.FreeSlot, store.HoldTerms, error) {
	pid, sid, err := s.groupSlot(ctx, group, id)
	if err != nil {
		return store.FreeSlot{}, store.HoldTerms{}, err
	}
	h, err := s.holdReads.run(ctx, store.SlotKey{GroupID: group, PracticeID: pid, SlotID: sid}, grouped[store.SlotKey, store.Holdable]{
		max: holdGroupsAtOnce,
		all: func(ctx context.Context, keys []store.SlotKey) ([]store.Holdable, error) {
			return s.Store.HoldableSlots(ctx, keys, s.now())
		},
		one: func(ctx context.Context, k store.SlotKey) (store.Holdable, error) {
			f, terms, ok, err := s.Store.HoldableSlot(ctx, k.GroupID, k.PracticeID, k.SlotID, s.now())
			return store.Holdable{Slot: f, Terms: terms, OK: ok}, err
		}})
	if err != nil {
		return store.FreeSlot{}, store.HoldTerms{}, err
	}
	if !h.OK {
		return store.FreeSlot{}, store.HoldTerms{}, s.notFree(ctx, pid, sid, id)
	}
	return h.Slot, h.Terms, nil
}

// groupSlot parses a slot id and checks that its practice is one of the group's.
func (s *Service) groupSlot(ctx context.Context, group, id string) (pid, sid int64, err error) {
	pid, sid, ok := parseSlotID(id)
	if !ok {
		return 0, 0, refuse(CodeNotFound, "there is no slot %q", id)
	}
	practices, err := s.groupPractices(ctx, group)
	if err != nil {
		return 0, 0, err
	}
	if !slices.Contains(practices, pid) {
		return 0, 0, refuse(CodeNotFound, "there is no slot %s in this practice group", id)
	}
	return pid, sid, nil
}

// notFree says why a slot of the group is not free: unknown, or taken (by anyone), past or
// not offered.
func (s *Service) notFree(ctx context.Context, pid, sid int64, id string) error {
	if _, err := s.Store.DiarySlotByID(ctx, pid, sid); errors.Is(err, store.ErrNotFound) {
		return refuse(CodeNotFound, "there is no slot %s in this practice group", id)
	} else if err != nil {
		return err
	}
	return refuse(CodeSlotUnavailable, "slot %s is no longer free: it is booked, held, in the past or not offered online", id)
}

// dayStart is midnight in Europe/London of the date t names.
func dayStart(t time.Time) time.Time {
	d := emis.DateOf(t)
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, emis.London)
}
