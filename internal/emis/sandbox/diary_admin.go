package sandbox

import (
	"fmt"
	"strings"
	"time"

	"herolink/internal/emis"
)

// SessionView is a session with its slots, as the admin API shows it.
type SessionView struct {
	emis.Session
	Slots []emis.Slot `json:"slots,omitempty"`
}

// ListSessions lists sessions between two dates inclusive (at most 62 days).
func (o *Org) ListSessions(from, to emis.Date, withSlots bool) ([]SessionView, error) {
	if to.Before(from) {
		return nil, invalid("to %s is before from %s", to, from)
	}
	if to.DaysSince(from) >= maxSessionRangeDays {
		return nil, invalid("the range is longer than %d days", maxSessionRangeDays)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []SessionView{}
	o.sessionsLocked(from, to, 0, func(d emis.Date, s *DiarySession) {
		v := SessionView{Session: o.wireSessionLocked(d, s)}
		if withSlots {
			v.Slots = o.wireSlotsLocked(d, s)
		}
		out = append(out, v)
	})
	return out, nil
}

// FreeSlots lists the ids of the Available slots starting in [from, to), in diary order: what
// reception sees looking for a free slot in a stretch of the book. The stretch is at most 62 days.
func (o *Org) FreeSlots(from, to time.Time) ([]int64, error) {
	if !from.Before(to) {
		return nil, invalid("to %s is not after from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	// to is excluded: a stretch ending at midnight does not reach into the next day.
	first, last := emis.Today(from), emis.Today(to.Add(-time.Nanosecond))
	if last.DaysSince(first) >= maxSessionRangeDays {
		return nil, invalid("the range is longer than %d days", maxSessionRangeDays)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out := []int64{}
	o.sessionsLocked(first, last, 0, func(d emis.Date, s *DiarySession) {
		sid := sessionID(o.Serial, dayNum(d), s.Index)
		for i := range s.Slots {
			if s.Slots[i].Status != emis.SlotAvailable {
				continue
			}
			if at := d.At(s.Start + i*s.SlotLength); !at.Before(from) && at.Before(to) {
				out = append(out, slotID(sid, i))
			}
		}
	})
	return out, nil
}

// GetSession reads one session with its slots.
func (o *Org) GetSession(id int64) (SessionView, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	d, s, found := o.findSessionLocked(id)
	if !found {
		return SessionView{}, fmt.Errorf("session %d: %w", id, ErrNotFound)
	}
	return SessionView{Session: o.wireSessionLocked(d, s), Slots: o.wireSlotsLocked(d, s)}, nil
}

// SessionInput adds a session through the admin API.
type SessionInput struct {
	Date       string `json:"date"`       // yyyy-mm-dd
	StartTime  string `json:"start_time"` // HH:MM London
	EndTime    string `json:"end_time"`
	SlotLength int    `json:"slot_length"`
	SiteID     int64  `json:"site_id"`
	HolderID   int64  `json:"holder_id"`
	SlotTypeID int    `json:"slot_type_id"`
	Name       string `json:"name"`
}

// AddSession creates a session whose slots all have one type and are available.
func (o *Org) AddSession(in SessionInput) (SessionView, error) {
	d, err := emis.ParseDate(in.Date)
	if err != nil {
		return SessionView{}, invalid("date: %v", err)
	}
	start, err := emis.ParseClock(in.StartTime)
	if err != nil {
		return SessionView{}, invalid("start_time: %v", err)
	}
	end, err := emis.ParseEndClock(in.EndTime)
	if err != nil {
		return SessionView{}, invalid("end_time: %v", err)
	}
	if in.SlotLength < 5 || in.SlotLength > 120 {
		return SessionView{}, invalid("slot_length must be between 5 and 120 minutes")
	}
	if end <= start || (end-start)%in.SlotLength != 0 {
		return SessionView{}, invalid("end_time must be after start_time by a whole number of slots")
	}
	if clockChangeDay(d) && start < 2*60 && end > 60 {
		return SessionView{}, invalid("the clocks change between 01:00 and 02:00 on %s: a session cannot cover that hour", d)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.siteLocked(in.SiteID) == nil {
		return SessionView{}, invalid("site %d does not exist", in.SiteID)
	}
	if o.holderLocked(in.HolderID) == nil {
		return SessionView{}, invalid("session holder %d does not exist", in.HolderID)
	}
	if o.slotTypeLocked(in.SlotTypeID) == nil {
		return SessionView{}, invalid("slot type %d does not exist", in.SlotTypeID)
	}
	day := o.dayForWriteLocked(d)
	idx := -1
	for cand := 50; cand < 50+maxAddedSessionsPerDay && idx < 0; cand++ {
		taken := false
		for _, s := range day.Sessions {
			taken = taken || s.Index == cand
		}
		if !taken {
			idx = cand
		}
	}
	if idx < 0 {
		return SessionView{}, &ConflictError{Msg: fmt.Sprintf("%s already has %d added sessions", d, maxAddedSessionsPerDay)}
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name = "Surgery"
	}
	s := &DiarySession{Index: idx, Name: name, SiteID: in.SiteID, HolderIDs: []int64{in.HolderID},
		Start: start, SlotLength: in.SlotLength, Slots: make([]SlotState, (end-start)/in.SlotLength)}
	for i := range s.Slots {
		s.Slots[i] = SlotState{TypeID: in.SlotTypeID, Status: emis.SlotAvailable}
	}
	day.Sessions = append(day.Sessions, s)
	o.touch()
	return SessionView{Session: o.wireSessionLocked(d, s), Slots: o.wireSlotsLocked(d, s)}, nil
}

// MoveSession changes a session's start time (its slots move with it) or site.
func (o *Org) MoveSession(id int64, startTime string, siteID int64) (SessionView, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	day, s, found := o.findSessionForWriteLocked(id)
	if !found {
		return SessionView{}, fmt.Errorf("session %d: %w", id, ErrNotFound)
	}
	if startTime != "" {
		start, err := emis.ParseClock(startTime)
		if err != nil {
			return SessionView{}, invalid("start_time: %v", err)
		}
		if start+len(s.Slots)*s.SlotLength > 24*60 {
			return SessionView{}, invalid("the session would run past midnight")
		}
		if clockChangeDay(dayDate(day.Num)) && start < 2*60 && start+len(s.Slots)*s.SlotLength > 60 {
			return SessionView{}, invalid("the clocks change between 01:00 and 02:00 on %s: a session cannot cover that hour", dayDate(day.Num))
		}
		s.Start = start
	}
	if siteID != 0 {
		if o.siteLocked(siteID) == nil {
			return SessionView{}, invalid("site %d does not exist", siteID)
		}
		s.SiteID = siteID
	}
	o.touch()
	d := dayDate(day.Num)
	return SessionView{Session: o.wireSessionLocked(d, s), Slots: o.wireSlotsLocked(d, s)}, nil
}

// DeleteSession removes a session. A session with booked slots is refused, as in EMIS.
func (o *Org) DeleteSession(id int64, force bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	day, s, found := o.findSessionForWriteLocked(id)
	if !found {
		return fmt.Errorf("session %d: %w", id, ErrNotFound)
	}
	if !force {
		for _, sl := range s.Slots {
			if sl.Status == emis.SlotBooked {
				return &ConflictError{Msg: "the session has booked appointments; cancel them first or delete with force"}
			}
		}
	}
	for i, cand := range day.Sessions {
		if cand == s {
			day.Sessions = append(day.Sessions[:i], day.Sessions[i+1:]...)
			break
		}
	}
	o.touch()
	return nil
}

// clockChangeDay reports whether London's offset changes during the date.
func clockChangeDay(d emis.Date) bool {
	_, before := d.At(0).Zone()
	_, after := d.At(23 * 60).Zone()
	return before != after
}

// GetSlot reads one slot.
func (o *Org) GetSlot(id int64) (emis.Slot, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(id, false)
	if !found {
		return emis.Slot{}, fmt.Errorf("slot %d: %w", id, ErrNotFound)
	}
	return o.wireSlotLocked(r), nil
}

// OutcomeError is a reception action refused by the appointment book's rules.
type OutcomeError struct {
	Outcome emis.Outcome
	Msg     string
}

func (e *OutcomeError) Error() string { return e.Msg }

func answerErr(a answer) error {
	if a.outcome == emis.OutcomeSuccess {
		return nil
	}
	if a.outcome == emis.OutcomeNotFound {
		return fmt.Errorf("%s: %w", a.text, ErrNotFound)
	}
	return &OutcomeError{Outcome: a.outcome, Msg: a.text}
}

// ReceptionBook is reception booking a slot directly in EMIS, with the same rules as partners.
func (o *Org) ReceptionBook(in BookInput) (emis.Slot, error) {
	if in.BookedBy == "" {
		in.BookedBy = "Reception"
	}
	a := o.book(in)
	if err := answerErr(a); err != nil {
		return emis.Slot{}, err
	}
	return a.result.(emis.Slot), nil
}

// ReceptionCancel is reception cancelling an appointment in EMIS.
func (o *Org) ReceptionCancel(id int64) error { return answerErr(o.cancel(id)) }

// SlotEdit changes a free slot's status or type through the admin API.
type SlotEdit struct {
	Status     string  `json:"status"` // available, blocked, embargoed
	SlotTypeID int     `json:"slot_type_id"`
	Notes      *string `json:"notes"`
}

// EditSlot blocks, embargoes or frees a slot, or changes its type, as reception can in EMIS.
func (o *Org) EditSlot(id int64, in SlotEdit) (emis.Slot, error) {
	status := ""
	switch strings.ToLower(strings.TrimSpace(in.Status)) {
	case "":
	case "available":
		status = emis.SlotAvailable
	case "blocked":
		status = emis.SlotBlocked
	case "embargoed":
		status = emis.SlotEmbargoed
	default:
		return emis.Slot{}, invalid("status %q must be available, blocked or embargoed (book through the book route)", in.Status)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	r, found := o.findSlotLocked(id, false)
	if !found {
		return emis.Slot{}, fmt.Errorf("slot %d: %w", id, ErrNotFound)
	}
	if r.slot.Status == emis.SlotBooked {
		return emis.Slot{}, &OutcomeError{Outcome: emis.OutcomeSlotBooked, Msg: "the slot is booked; cancel the appointment first"}
	}
	if in.SlotTypeID != 0 && o.slotTypeLocked(in.SlotTypeID) == nil {
		return emis.Slot{}, invalid("slot type %d does not exist", in.SlotTypeID)
	}
	r, _ = o.findSlotLocked(id, true)
	if status != "" {
		r.slot.Status = status
	}
	if in.SlotTypeID != 0 {
		r.slot.TypeID = in.SlotTypeID
	}
	if in.Notes != nil {
		r.slot.Notes = *in.Notes
		// Reception clearing a placeholder's notes frees the time, as in EMIS.
		r.slot.Placeholder = r.slot.Placeholder && r.slot.Notes != ""
	}
	o.touch()
	return o.wireSlotLocked(r), nil
}
