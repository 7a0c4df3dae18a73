package slotsync

import (
	"context"
	"fmt"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// Answer is one answer to "why can't I see this slot?".
type Answer struct {
	Question string `json:"question"`
	OK       bool   `json:"ok"`
	Detail   string `json:"detail"`
}

// Explainer answers the reference product's four questions about a slot staff expected to see
// online (is the session in EMIS, is the slot type active, when was the last sync, is the
// connection healthy) and what herolink's copy says about the slot itself. It asks EMIS live.
type Explainer struct {
	Store       *store.Store
	Conns       ConnSource
	ActiveTypes func(ctx context.Context, practiceID int64) ([]int, error)
	Now         func() time.Time
	HorizonDays int // the scheduler's sync horizon (14 if zero): dates beyond it are not synced
}

// window answers whether the date is among those herolink keeps in step with EMIS, and
// says plainly how to change the window when it is beyond it.
func (x *Explainer) window(date emis.Date, now time.Time) (Answer, bool) {
	days := x.HorizonDays
	switch {
	case days <= 0:
		days = 14
	case days > 56:
		days = 56
	}
	first := emis.Today(now)
	last := first.AddDays(days - 1)
	a := Answer{Question: "Is the date within the days herolink keeps in step with EMIS?"}
	switch {
	case date.Before(first):
		a.Detail = fmt.Sprintf("%s has passed: herolink keeps today (%s) to %s in step with EMIS, and past slots are never offered.", date, first, last)
	case last.Before(date):
		a.Detail = fmt.Sprintf("No: %s is beyond the synced window. herolink keeps %d days of the diary in step with EMIS, today (%s) to %s, and offers only those; this date's slots appear once it is within %d days. "+
			"To offer slots further ahead, a herolink administrator starts herolink with --sync-horizon-days (or the environment variable HEROLINK_SYNC_HORIZON_DAYS) set to more days, at most 56.",
			date, days, first, last, days)
	default:
		a.OK, a.Detail = true, fmt.Sprintf("Yes: herolink keeps %d days in step with EMIS, today (%s) to %s.", days, first, last)
	}
	return a, a.OK
}

// Explain looks for the slot at a London wall-clock date and time in a session holder's diary.
func (x *Explainer) Explain(ctx context.Context, practiceID int64, date emis.Date, minute int, holderID int64) ([]Answer, error) {
	now := time.Now()
	if x.Now != nil {
		now = x.Now()
	}
	at := date.At(minute)
	var out []Answer
	p, err := x.Store.PracticeByID(ctx, practiceID)
	if err != nil {
		return nil, err
	}

	// 4. The connection (asked first: without it nothing else can be checked live).
	healthy := p.HealthStatus == store.HealthConnected
	out = append(out, Answer{Question: "Is the connection to EMIS healthy?", OK: healthy,
		Detail: fmt.Sprintf("Status %s: %s (checked %s).", p.HealthStatus, p.HealthReason, ago(now, p.HealthCheckedAt))})

	// 3. The last sync.
	st, err := x.Store.SyncStatus(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	syncOK := st.FirstSyncDone && st.ConsecutiveFailures == 0
	detail := fmt.Sprintf("Last successful sync %s.", ago(now, st.LastSuccessAt))
	switch {
	case !st.FirstSyncDone:
		detail = fmt.Sprintf("The first sync has not finished yet (%d of %d sessions read).", st.ProgressDone, st.ProgressTotal)
	case st.ConsecutiveFailures > 0:
		detail += fmt.Sprintf(" The last %d attempts failed: %s", st.ConsecutiveFailures, st.LastError)
	}
	out = append(out, Answer{Question: "When was the last sync?", OK: syncOK, Detail: detail})

	// The synced window: a date beyond it is never in herolink's copy, whatever EMIS holds.
	win, inWindow := x.window(date, now)
	out = append(out, win)

	// 1. The session in EMIS, asked live.
	var session *emis.Session
	var slot *emis.Slot
	conn, err := x.Conns.Conn(ctx, practiceID)
	if err != nil {
		out = append(out, Answer{Question: "Is the session in EMIS?", Detail: "herolink could not ask EMIS: " + err.Error()})
	} else {
		sessions, err := conn.GetAppointmentSessions(ctx, date, date, 0)
		if err != nil {
			return nil, fmt.Errorf("slotsync: explain: %w", err)
		}
		for i, s := range sessions {
			start, _ := emis.ParseClock(s.StartTime)
			end, _ := emis.ParseEndClock(s.EndTime) // 24:00: the session runs to midnight
			if minute < start || minute >= end {
				continue
			}
			for _, h := range s.Holders {
				if h.DBID == holderID {
					session = &sessions[i]
				}
			}
		}
		if session == nil {
			out = append(out, Answer{Question: "Is the session in EMIS?", Detail: fmt.Sprintf(
				"EMIS has no session for this session holder on %s covering %s. Check the appointment book in EMIS: the session may not be set up, or may be at another time.",
				date, emis.FormatClock(minute))})
		} else {
			out = append(out, Answer{Question: "Is the session in EMIS?", OK: true, Detail: fmt.Sprintf("%s, %s–%s at %s.",
				session.Name, session.StartTime, session.EndTime, session.Site.Name)})
			slots, err := conn.GetSlotsForSession(ctx, session.DBID)
			if err != nil {
				return nil, fmt.Errorf("slotsync: explain: %w", err)
			}
			for i, sl := range slots {
				start, _ := emis.ParseClock(sl.StartTime)
				if minute >= start && minute < start+sl.SlotLength {
					slot = &slots[i]
				}
			}
		}
	}

	// 2. The slot type.
	switch {
	case slot == nil && session != nil:
		out = append(out, Answer{Question: "Is the slot type active?", Detail: "The session has no slot starting at that time."})
	case slot != nil:
		active, err := x.activeSet(ctx, practiceID)
		if err != nil {
			return nil, err
		}
		ok := active == nil || active[slot.Type.TypeID]
		d := fmt.Sprintf("The slot is %q.", slot.Type.Description)
		if !ok {
			d += " That slot type is not active for online booking: set it to Bookable on the practice's slot types page."
		}
		out = append(out, Answer{Question: "Is the slot type active?", OK: ok, Detail: d})
		out = append(out, x.slotState(ctx, practiceID, slot, at, now, inWindow))
	}
	return out, nil
}

func (x *Explainer) activeSet(ctx context.Context, practiceID int64) (map[int]bool, error) {
	if x.ActiveTypes == nil {
		return nil, nil
	}
	ids, err := x.ActiveTypes(ctx, practiceID)
	if err != nil || ids == nil {
		return nil, err
	}
	m := map[int]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}

// slotState says whether the slot is free in EMIS and in herolink's copy.
func (x *Explainer) slotState(ctx context.Context, practiceID int64, slot *emis.Slot, at, now time.Time, inWindow bool) Answer {
	a := Answer{Question: "Is the slot free?"}
	switch {
	case !at.After(now):
		a.Detail = "The slot has already started: past slots are never offered."
		return a
	case slot.Status != emis.SlotAvailable:
		a.Detail = fmt.Sprintf("In EMIS the slot is %s.", slot.Status)
		return a
	case !inWindow:
		a.Detail = "Free in EMIS, but its date is beyond the days herolink keeps in step with EMIS (see above), so it is not offered yet."
		return a
	}
	stored, err := x.Store.DiarySlotsBetween(ctx, practiceID, at, at.Add(time.Minute))
	if err != nil {
		a.Detail = "herolink could not read its copy: " + err.Error()
		return a
	}
	for _, s := range stored {
		if s.ID == slot.DBID {
			if s.Status != emis.SlotAvailable {
				a.Detail = fmt.Sprintf("Free in EMIS, but herolink's copy still says %s: the next sync will bring it in.", s.Status)
				return a
			}
			a.OK, a.Detail = true, "Free in EMIS and in herolink's copy."
			return a
		}
	}
	a.Detail = "Free in EMIS, but not yet in herolink's copy: the next sync will bring it in."
	return a
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}
