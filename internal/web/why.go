package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// whyView is the "Why can't I see this slot?" page: a form (date, time, session holder) and,
// once asked, the answers.
type whyView struct {
	base
	Practice store.Practice
	Holders  []store.EMISHolder
	Date     dateInput
	Time     timeInput
	Holder   int64
	Errors   []fieldError
	Answers  []slotsync.Answer
	Asked    bool
}

// HolderError is what is wrong with the session holder chosen, if anything.
func (v whyView) HolderError() string {
	for _, e := range v.Errors {
		if e.Field == "holder" {
			return e.Message
		}
	}
	return ""
}

// whyPage answers GET /admin/practices/{id}/why with the date and time inputs' parts
// (date-day, date-month, date-year, time-hour, time-minute) and holder=ID. Links may give
// date=yyyy-mm-dd&time=HH:MM instead.
func (s *server) whyPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	q := r.URL.Query()
	v := whyView{base: newBase("Why can't I see this slot?", &u), Practice: p,
		Date: dateInput{Name: "date", Label: "Date of the slot", Hint: "For example, 27 3 2026",
			Day: q.Get("date-day"), Month: q.Get("date-month"), Year: q.Get("date-year")},
		Time: timeInput{Name: "time", Label: "Time the slot starts", Hint: "On the 24-hour clock, for example 9 30 or 14 05",
			Hour: q.Get("time-hour"), Minute: q.Get("time-minute")}}
	holders, err := s.cfg.Store.EMISHolders(r.Context(), p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list session holders", err)
		return
	}
	v.Holders = holders
	asked := false
	for _, k := range []string{"date", "time", "holder", "date-day", "date-month", "date-year", "time-hour", "time-minute"} {
		asked = asked || q.Has(k)
	}
	if !asked {
		s.render(w, r, http.StatusOK, "why", "", v)
		return
	}
	v.Asked = true
	d, minute, ok := v.readDateTime(q)
	v.Holder, err = strconv.ParseInt(q.Get("holder"), 10, 64)
	if err != nil || v.Holder <= 0 {
		v.Errors = append(v.Errors, fieldError{"holder", "Choose the session holder whose diary the slot is in."})
	}
	if !ok || len(v.Errors) > 0 || s.cfg.Explain == nil {
		s.render(w, r, http.StatusUnprocessableEntity, "why", "", v)
		return
	}
	v.Answers, err = s.cfg.Explain.Explain(r.Context(), p.ID, d, minute, v.Holder)
	if err != nil {
		v.Errors = append(v.Errors, fieldError{"", "herolink could not ask EMIS just now: " + err.Error()})
		s.render(w, r, http.StatusBadGateway, "why", "", v)
		return
	}
	s.render(w, r, http.StatusOK, "why", "", v)
}

// readDateTime reads the slot's date and time from the inputs' parts, or from a link's
// date=yyyy-mm-dd and time=HH:MM, noting what is wrong for the error summary.
func (v *whyView) readDateTime(q url.Values) (emis.Date, int, bool) {
	var d emis.Date
	var minute int
	okD, okT := true, true
	if raw := strings.TrimSpace(q.Get("date")); q.Has("date") && !q.Has("date-day") {
		var err error
		if d, err = emis.ParseDate(raw); err == nil {
			v.Date.setDate(d)
		} else {
			okD, v.Date.Error, v.Date.BadDay, v.Date.BadMonth, v.Date.BadYear = false, "Enter the date as year-month-day, for example 2026-12-01.", true, true, true
		}
	} else {
		d, okD = parseDateInput(&v.Date, "the slot")
	}
	if raw := strings.TrimSpace(q.Get("time")); q.Has("time") && !q.Has("time-hour") {
		var err error
		if minute, err = emis.ParseClock(raw); err == nil {
			v.Time.setTime(minute)
		} else {
			okT, v.Time.Error, v.Time.BadHour, v.Time.BadMin = false, "Enter the time as hours and minutes, for example 09:30.", true, true
		}
	} else {
		minute, okT = parseTimeInput(&v.Time, "the slot")
	}
	if !okD {
		v.Errors = append(v.Errors, fieldError{v.Date.firstBad(), v.Date.Error})
	}
	if !okT {
		v.Errors = append(v.Errors, fieldError{v.Time.firstBad(), v.Time.Error})
	}
	return d, minute, okD && okT
}
