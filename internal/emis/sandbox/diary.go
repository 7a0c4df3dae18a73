package sandbox

import (
	"cmp"
	"slices"
	"strings"

	"herolink/internal/emis"
)

// Day is one date of an organisation's appointment book. A generated practice's days exist
// only as a function of the seed until something changes them; then the day is stored.
type Day struct {
	Num      int             `json:"num"` // days since 2000-01-01
	Sessions []*DiarySession `json:"sessions"`
	// Partial days keep only the sessions changed since generation; the others are still
	// derived from the seed. A slot booked at reception then costs its session (about 2 KB),
	// not the whole day (about 40 KB): under a stream of changes to thousands of practices,
	// whole days took the sandbox to 800 MiB in two minutes.
	Partial bool `json:"partial,omitempty"`
}

// DiarySession is a holder at a site on a date, with its slots.
type DiarySession struct {
	Index      int         `json:"index"` // 0-49 generated, 50-99 added through the admin API
	Name       string      `json:"name"`
	SiteID     int64       `json:"site_id"`
	HolderIDs  []int64     `json:"holder_ids"`
	Start      int         `json:"start"`       // minutes after midnight, London wall clock
	SlotLength int         `json:"slot_length"` // minutes
	Slots      []SlotState `json:"slots"`
}

// End is the session's end as minutes after midnight.
func (s *DiarySession) End() int { return s.Start + len(s.Slots)*s.SlotLength }

// SlotState is everything that can change about a slot.
type SlotState struct {
	TypeID            int    `json:"type_id"`
	Status            string `json:"status"`
	PatientID         int64  `json:"patient_id,omitempty"`
	AppointmentStatus string `json:"appointment_status,omitempty"`
	Reason            string `json:"reason,omitempty"`
	Notes             string `json:"notes,omitempty"`
	BookedBy          string `json:"booked_by,omitempty"`
	// Placeholder is set by SetSlotType with notes: the time is reserved (the guide's yellow
	// "Hero unregistered patient" slot) and no booking may take the slot until its type is set
	// back without notes.
	Placeholder bool `json:"placeholder,omitempty"`
}

var epoch = emis.Date{Year: 2000, Month: 1, Day: 1}

func dayNum(d emis.Date) int    { return d.DaysSince(epoch) }
func dayDate(num int) emis.Date { return epoch.AddDays(num) }

const maxAddedSessionsPerDay = 50

// Session and slot ids encode where they live, so that a slot can be found without an index
// and ids of generated diaries are stable across restarts:
// session = ((serial*100000 + day)*100 + session index), slot = session*1000 + slot index.
func sessionID(serial, day, idx int) int64 {
	return (int64(serial)*100000+int64(day))*100 + int64(idx)
}

func slotID(session int64, idx int) int64 { return session*1000 + int64(idx) }

func splitSessionID(id int64) (serial, day, idx int) {
	return int(id / 100 / 100000), int(id / 100 % 100000), int(id % 100)
}

func splitSlotID(id int64) (session int64, idx int) { return id / 1000, int(id % 1000) }

// guid is "5a4db0c5-%04x-4%03x-8%03x-%012x" of kind, id>>48, id>>36 and id's low 48 bits,
// written without fmt: the sync's answers carry one for every session and slot.
func guid(kind int, id int64) string {
	var b [36]byte
	copy(b[:], "5a4db0c5-0000-4000-8000-000000000000")
	hexInto(b[9:13], uint64(kind))
	hexInto(b[15:18], uint64(id>>48)&0xfff)
	hexInto(b[20:23], uint64(id>>36)&0xfff)
	hexInto(b[24:36], uint64(id)&0xffffffffffff)
	return string(b[:])
}

// hexInto writes v as lower-case hex right-aligned in dst, keeping dst's zeros on the left.
func hexInto(dst []byte, v uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0 && v != 0; i-- {
		dst[i] = digits[v&0xf]
		v >>= 4
	}
}

// inWindow says whether a generated diary has been released for the date: four weeks back
// (for history) to DiaryWeeks ahead.
func (o *Org) inWindowLocked(d emis.Date) bool {
	today := o.world.Today()
	ago := today.DaysSince(d)
	return ago <= 28 && -ago < o.world.opts.DiaryWeeks*7
}

// dayLocked returns the day to read. It may be freshly generated and must not be changed.
func (o *Org) dayLocked(d emis.Date) *Day {
	n := dayNum(d)
	if stored, ok := o.Days[n]; ok && !stored.Partial {
		return stored
	}
	return &Day{Num: n, Sessions: o.appendDaySessionsLocked(nil, d, nil)}
}

// appendDaySessionsLocked appends d's sessions to read, in no particular order: the stored
// day's, or the generated ones (made in a) with a partial day's changed sessions in their
// place. Generated ones must not be changed.
func (o *Org) appendDaySessionsLocked(out []*DiarySession, d emis.Date, a *genArena) []*DiarySession {
	stored, ok := o.Days[dayNum(d)]
	if ok && !stored.Partial {
		return append(out, stored.Sessions...)
	}
	start := len(out)
	if o.Generated && o.inWindowLocked(d) {
		out = appendGeneratedSessions(out, o, d, a)
	}
	if ok {
		out = overlay(out, start, stored)
	}
	return out
}

// sessionLocked returns the session of index idx on d to read, or nil: from the stored day, or
// generated alone (a partial day keeps only changed generated sessions, so any other is as
// generated). It may be fresh and must not be changed.
func (o *Org) sessionLocked(d emis.Date, idx int) *DiarySession {
	stored, ok := o.Days[dayNum(d)]
	if ok {
		for _, s := range stored.Sessions {
			if s.Index == idx {
				return s
			}
		}
		if !stored.Partial {
			return nil
		}
	}
	if o.Generated && o.inWindowLocked(d) {
		return generateSession(o, d, idx)
	}
	return nil
}

// overlay puts a partial day's changed sessions in place of their generated versions, which
// are day[start:].
func overlay(day []*DiarySession, start int, partial *Day) []*DiarySession {
	for _, changed := range partial.Sessions {
		replaced := false
		for i := start; i < len(day); i++ {
			if day[i].Index == changed.Index {
				day[i], replaced = changed, true
				break
			}
		}
		if !replaced {
			day = append(day, changed)
		}
	}
	return day
}

// dayForWriteLocked returns the stored day, materialising a generated one first: for changes
// to the day's sessions themselves (one added or deleted).
func (o *Org) dayForWriteLocked(d emis.Date) *Day {
	n := dayNum(d)
	if day, ok := o.Days[n]; ok && !day.Partial {
		return day
	}
	day := o.dayLocked(d) // a fresh day: generated, with the partial day's sessions in it
	o.Days[n] = day
	return day
}

// sessionForEditLocked returns a session to change in place (its slots, its time or site),
// keeping only that session of a generated day.
func (o *Org) sessionForEditLocked(d emis.Date, idx int) (*Day, *DiarySession, bool) {
	n := dayNum(d)
	stored, ok := o.Days[n]
	if ok {
		for _, s := range stored.Sessions {
			if s.Index == idx {
				return stored, s, true
			}
		}
		if !stored.Partial {
			return nil, nil, false
		}
	}
	if !o.Generated || !o.inWindowLocked(d) {
		return nil, nil, false
	}
	s := generateSession(o, d, idx) // generated afresh: this copy is ours
	if s == nil {
		return nil, nil, false
	}
	if !ok {
		stored = &Day{Num: n, Partial: true}
		o.Days[n] = stored
	}
	stored.Sessions = append(stored.Sessions, s)
	return stored, s, true
}

// slotRef locates one slot.
type slotRef struct {
	date    emis.Date
	session *DiarySession
	sid     int64
	idx     int
	slot    *SlotState
}

// findSlotLocked finds a slot by id; forWrite keeps its session so changes are kept.
func (o *Org) findSlotLocked(id int64, forWrite bool) (slotRef, bool) {
	if id <= 0 {
		return slotRef{}, false
	}
	sid, idx := splitSlotID(id)
	serial, dn, sidx := splitSessionID(sid)
	if serial != o.Serial {
		return slotRef{}, false
	}
	date := dayDate(dn)
	s := o.sessionLocked(date, sidx)
	if s == nil || idx < 0 || idx >= len(s.Slots) {
		return slotRef{}, false
	}
	if forWrite { // only once the slot is known to exist: a bad id keeps nothing
		_, s, _ = o.sessionForEditLocked(date, sidx)
	}
	return slotRef{date: date, session: s, sid: sid, idx: idx, slot: &s.Slots[idx]}, true
}

// findSessionLocked finds a session by id to read, with its date. Only the session is made:
// generating its whole day to find it was most of a slot read's cost.
func (o *Org) findSessionLocked(id int64) (emis.Date, *DiarySession, bool) {
	serial, dn, sidx := splitSessionID(id)
	if id <= 0 || serial != o.Serial {
		return emis.Date{}, nil, false
	}
	date := dayDate(dn)
	if s := o.sessionLocked(date, sidx); s != nil {
		return date, s, true
	}
	return emis.Date{}, nil, false
}

// findSessionForWriteLocked finds a session by id in its stored day, materialising the day.
func (o *Org) findSessionForWriteLocked(id int64) (*Day, *DiarySession, bool) {
	serial, dn, sidx := splitSessionID(id)
	if id <= 0 || serial != o.Serial {
		return nil, nil, false
	}
	day := o.dayForWriteLocked(dayDate(dn))
	for _, s := range day.Sessions {
		if s.Index == sidx {
			return day, s, true
		}
	}
	return nil, nil, false
}

// slotStart is the instant a slot begins.
func (r slotRef) start() int { return r.session.Start + r.idx*r.session.SlotLength }

// bookRule checks the appointment book's rules for booking a slot.
func (o *Org) bookRuleLocked(r slotRef) answer {
	if r.slot.Status == emis.SlotBooked {
		return fail(emis.OutcomeSlotBooked, "slot already booked")
	}
	if r.slot.Placeholder {
		return fail(emis.OutcomeSlotBooked, "slot already booked: it holds a placeholder; set its slot type back (without notes) before booking it")
	}
	if !r.date.At(r.start()).After(o.world.now()) {
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot is in the past")
	}
	switch r.slot.Status {
	case emis.SlotBlocked:
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot is blocked")
	case emis.SlotEmbargoed:
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot is embargoed")
	}
	if t := o.slotTypeLocked(r.slot.TypeID); t == nil || !t.Bookable {
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot type is not bookable")
	}
	return answer{}
}

// BookInput is a booking by a partner or by reception.
type BookInput struct {
	SlotID    int64  `json:"slot_id"`
	PatientID int64  `json:"patient_id"`
	Reason    string `json:"reason"`
	Notes     string `json:"notes"`
	BookedBy  string `json:"booked_by"`
}

const (
	maxReason = 100
	maxNotes  = 1000
)

// book applies BookAppointment's rules. The organisation lock makes check and change one step,
// so of many concurrent bookings of one slot exactly one succeeds.
func (o *Org) book(in BookInput) answer {
	if len(in.Reason) > maxReason {
		return fail(emis.OutcomeTechnicalError, "reason is longer than %d characters", maxReason)
	}
	if len(in.Notes) > maxNotes {
		return fail(emis.OutcomeTechnicalError, "notes are longer than %d characters", maxNotes)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(in.SlotID, false)
	if !found {
		return fail(emis.OutcomeNotFound, "slot %d not found", in.SlotID)
	}
	if p, found := o.patientLocked(in.PatientID); !found {
		return fail(emis.OutcomePatientNotFound, "patient %d not found", in.PatientID)
	} else if p.Deducted != "" {
		return fail(emis.OutcomePatientNotFound, "patient %d not found: deducted on %s", in.PatientID, p.Deducted)
	}
	if a := o.bookRuleLocked(r); a.outcome != 0 {
		return a
	}
	r, _ = o.findSlotLocked(in.SlotID, true)
	*r.slot = SlotState{TypeID: r.slot.TypeID, Status: emis.SlotBooked, PatientID: in.PatientID,
		AppointmentStatus: "Booked", Reason: in.Reason, Notes: in.Notes, BookedBy: in.BookedBy}
	o.touch()
	return ok(o.wireSlotLocked(r))
}

// cancel frees a booked slot.
func (o *Org) cancel(id int64) answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(id, false)
	if !found {
		return fail(emis.OutcomeNotFound, "slot %d not found", id)
	}
	if r.slot.Status != emis.SlotBooked {
		return fail(emis.OutcomeSlotNotBooked, "slot not booked")
	}
	r, _ = o.findSlotLocked(id, true)
	*r.slot = SlotState{TypeID: r.slot.TypeID, Status: emis.SlotAvailable}
	o.touch()
	return ok(nil)
}

// setSlotType changes a free slot's type and notes.
func (o *Org) setSlotType(id int64, typeID int, notes string) answer {
	if len(notes) > maxNotes {
		return fail(emis.OutcomeTechnicalError, "notes are longer than %d characters", maxNotes)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(id, false)
	if !found {
		return fail(emis.OutcomeNotFound, "slot %d not found", id)
	}
	if o.slotTypeLocked(typeID) == nil {
		return fail(emis.OutcomeNotFound, "slot type %d not found", typeID)
	}
	if r.slot.Status == emis.SlotBooked {
		return fail(emis.OutcomeSlotBooked, "slot already booked: cancel the appointment before changing the slot type")
	}
	if r.slot.Placeholder && notes != "" {
		return fail(emis.OutcomeSlotBooked, "slot already booked: it already holds a placeholder")
	}
	if !r.date.At(r.start()).After(o.world.now()) {
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot is in the past")
	}
	if r.slot.Status == emis.SlotBlocked || r.slot.Status == emis.SlotEmbargoed {
		return fail(emis.OutcomeSlotNotBookable, "slot not bookable: the slot is %s", strings.ToLower(r.slot.Status))
	}
	r, _ = o.findSlotLocked(id, true)
	r.slot.TypeID, r.slot.Notes, r.slot.Placeholder = typeID, notes, notes != ""
	o.touch()
	return ok(o.wireSlotLocked(r))
}

// AppointmentStatuses are the attendance states EMIS records on a booked slot.
var AppointmentStatuses = []string{"Booked", "Arrived", "Sent In", "Left", "Did Not Attend", "Walked Out"}

func (o *Org) setAppointmentStatus(id int64, status string) answer {
	valid := false
	for _, s := range AppointmentStatuses {
		valid = valid || s == status
	}
	if !valid {
		return fail(emis.OutcomeTechnicalError, "status %q is not an appointment status", status)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(id, false)
	if !found {
		return fail(emis.OutcomeNotFound, "slot %d not found", id)
	}
	if r.slot.Status != emis.SlotBooked {
		return fail(emis.OutcomeSlotNotBooked, "slot not booked")
	}
	r, _ = o.findSlotLocked(id, true)
	r.slot.AppointmentStatus = status
	o.touch()
	return ok(nil)
}

// sessionsLocked lists sessions from..to inclusive, optionally at one site, in date and time
// order. visit must not keep s: generated sessions are made in an arena reused after the call.
func (o *Org) sessionsLocked(from, to emis.Date, siteID int64, visit func(d emis.Date, s *DiarySession)) {
	a := getArena()
	defer putArena(a)
	for d := from; !to.Before(d); d = d.AddDays(1) {
		a.list = o.appendDaySessionsLocked(a.list[:0], d, a)
		slices.SortStableFunc(a.list, func(x, y *DiarySession) int {
			return cmp.Or(cmp.Compare(x.Start, y.Start), cmp.Compare(x.Index, y.Index))
		})
		for _, s := range a.list {
			if siteID == 0 || s.SiteID == siteID {
				visit(d, s)
			}
		}
	}
}

func (o *Org) wireSessionLocked(d emis.Date, s *DiarySession) emis.Session {
	id := sessionID(o.Serial, dayNum(d), s.Index)
	ws := emis.Session{DBID: id, GUID: guid(1, id), Name: s.Name, Date: d.String(),
		StartTime: emis.FormatClock(s.Start), EndTime: emis.FormatClock(s.End()), SlotLength: s.SlotLength}
	if site := o.siteLocked(s.SiteID); site != nil {
		ws.Site = emis.Site{DBID: site.ID, Name: site.Name, Postcode: site.Postcode}
	}
	for _, hid := range s.HolderIDs {
		if h := o.holderLocked(hid); h != nil {
			ws.Holders = append(ws.Holders, emis.Holder{DBID: h.ID, Title: h.Title, FirstNames: h.FirstName,
				LastName: h.LastName, JobCategory: h.JobCategory})
		}
	}
	// Counted in a slice: a session has a handful of types, and a map cost more than the rest.
	counts := make([]emis.SessionSlotCount, 0, 4)
	for _, sl := range s.Slots {
		k := -1
		for i := range counts {
			if counts[i].TypeID == sl.TypeID {
				k = i
				break
			}
		}
		if k < 0 {
			c := emis.SessionSlotCount{TypeID: sl.TypeID}
			if t := o.slotTypeLocked(sl.TypeID); t != nil {
				c.Description = t.Name
			}
			counts = append(counts, c)
			k = len(counts) - 1
		}
		c := &counts[k]
		c.Total++
		switch sl.Status {
		case emis.SlotBooked:
			c.Booked++
		case emis.SlotBlocked:
			c.Blocked++
		case emis.SlotEmbargoed:
			c.Embargoed++
		default:
			c.Available++
		}
	}
	slices.SortFunc(counts, func(x, y emis.SessionSlotCount) int { return cmp.Compare(x.TypeID, y.TypeID) })
	ws.SlotTypes = counts
	return ws
}

func (o *Org) wireSlotLocked(r slotRef) emis.Slot {
	return o.wireSlotOn(r, r.date.String(), guid(1, r.sid))
}

// wireSlotOn is wireSlotLocked with the date and session GUID already written, once for a
// session's slots.
func (o *Org) wireSlotOn(r slotRef, date, sessionGUID string) emis.Slot {
	id := slotID(r.sid, r.idx)
	ws := emis.Slot{DBID: id, GUID: guid(2, id), SessionGUID: sessionGUID, SessionDBID: r.sid,
		Date: date, StartTime: emis.FormatClock(r.start()), SlotLength: r.session.SlotLength,
		Type: emis.SlotTypeRef{TypeID: r.slot.TypeID}, Status: r.slot.Status,
		AppointmentStatus: r.slot.AppointmentStatus, Notes: r.slot.Notes, Reason: r.slot.Reason, BookedBy: r.slot.BookedBy}
	if t := o.slotTypeLocked(r.slot.TypeID); t != nil {
		ws.Type.Description = t.Name
	}
	if r.slot.PatientID != 0 {
		if p, found := o.patientBriefLocked(r.slot.PatientID); found {
			ws.Patients = []emis.PatientBrief{p}
		}
	}
	return ws
}

func (o *Org) wireSlotsLocked(d emis.Date, s *DiarySession) []emis.Slot {
	sid := sessionID(o.Serial, dayNum(d), s.Index)
	out := make([]emis.Slot, len(s.Slots))
	date, sessionGUID := d.String(), guid(1, sid)
	for i := range s.Slots {
		out[i] = o.wireSlotOn(slotRef{date: d, session: s, sid: sid, idx: i, slot: &s.Slots[i]}, date, sessionGUID)
	}
	return out
}
