package web

import (
	"net/http"
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
	Date     string
	Time     string
	Holder   int64
	Errors   []fieldError
	Answers  []slotsync.Answer
	Asked    bool
}

// whyPage answers GET /admin/practices/{id}/why?date=yyyy-mm-dd&time=HH:MM&holder=ID.
func (s *server) whyPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	q := r.URL.Query()
	v := whyView{base: newBase("Why can't I see this slot?", &u), Practice: p,
		Date: strings.TrimSpace(q.Get("date")), Time: strings.TrimSpace(q.Get("time"))}
	holders, err := s.cfg.Store.EMISHolders(r.Context(), p.ID)
	if err != nil {
		s.serverError(w, r, &u, "list session holders", err)
		return
	}
	v.Holders = holders
	if q.Get("date") == "" && q.Get("time") == "" && q.Get("holder") == "" {
		s.render(w, r, http.StatusOK, "why", "", v)
		return
	}
	v.Asked = true
	d, derr := emis.ParseDate(v.Date)
	if derr != nil {
		v.Errors = append(v.Errors, fieldError{"date", "Enter the date as year-month-day, for example 2026-12-01."})
	}
	minute, terr := emis.ParseClock(v.Time)
	if terr != nil {
		v.Errors = append(v.Errors, fieldError{"time", "Enter the time as hours and minutes, for example 09:30."})
	}
	v.Holder, err = strconv.ParseInt(q.Get("holder"), 10, 64)
	if err != nil || v.Holder <= 0 {
		v.Errors = append(v.Errors, fieldError{"holder", "Choose the session holder whose diary the slot is in."})
	}
	if len(v.Errors) > 0 || s.cfg.Explain == nil {
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
