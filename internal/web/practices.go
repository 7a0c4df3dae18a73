package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"herolink/internal/store"
)

type overviewView struct {
	base
	Practices []store.Practice
}

// overview is the support overview of every practice, failing first, newest check first.
// Practice staff go straight to their own practice.
func (s *server) overview(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
	if u.Role != store.RoleSupport {
		if u.PracticeID == 0 {
			s.errorPage(w, r, &u, http.StatusForbidden, "Your account is not linked to a practice", unlinked)
			return
		}
		http.Redirect(w, r, "/admin/practices/"+strconv.FormatInt(u.PracticeID, 10), http.StatusSeeOther)
		return
	}
	ps, err := s.cfg.Store.ListPractices(r.Context())
	if err != nil {
		s.serverError(w, r, &u, "list practices", err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", "", overviewView{base: newBase("Practices", &u), Practices: ps})
}

// connectionView is the connection in force as pages show it: never its password.
type connectionView struct {
	Username    string
	ConnectedBy string
	ConnectedAt time.Time
}

type practiceView struct {
	base
	Practice   store.Practice
	Connection *connectionView
	Sync       store.SyncStatus
	History    []store.HealthEvent
	Audit      []store.AuditEntry
	Checked    bool // a check was just run: say so above the status
	CheckError string
	// WebhooksDisabled counts the group's webhook endpoints disabled after failing for 3 days.
	WebhooksDisabled int
	// WaitingPlaceholders and OverduePlaceholders: the reconciliation inbox at a glance.
	WaitingPlaceholders, OverduePlaceholders int
}

const historyLimit = 20

// practiceFor loads the practice named in the path if this user may see it, else writes the
// page that says why not.
func (s *server) practiceFor(w http.ResponseWriter, r *http.Request, u store.StaffUser) (store.Practice, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.errorPage(w, r, &u, http.StatusNotFound, "Page not found", "There is no practice at this address.")
		return store.Practice{}, false
	}
	if u.Role != store.RoleSupport && u.PracticeID != id {
		s.errorPage(w, r, &u, http.StatusForbidden, "You cannot see this practice",
			"Your herolink account is for one practice only, and this is not it.")
		return store.Practice{}, false
	}
	p, err := s.cfg.Store.PracticeByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, &u, http.StatusNotFound, "Page not found", "There is no practice at this address.")
		return store.Practice{}, false
	}
	if err != nil {
		s.serverError(w, r, &u, "load practice", err)
		return store.Practice{}, false
	}
	return p, true
}

func (s *server) practicePage(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
	p, ok := s.practiceFor(w, r, u)
	if !ok {
		return
	}
	v, err := s.practiceView(r, u, p)
	if err != nil {
		s.serverError(w, r, &u, "load practice page", err)
		return
	}
	v.Checked = r.URL.Query().Get("checked") == "1"
	s.render(w, r, http.StatusOK, "practice", "", v)
}

func (s *server) practiceView(r *http.Request, u store.StaffUser, p store.Practice) (practiceView, error) {
	ctx := r.Context()
	v := practiceView{base: newBase(p.Name, &u), Practice: p}
	conn, err := s.cfg.Store.ActiveConnection(ctx, p.ID)
	switch {
	case err == nil:
		v.Connection = &connectionView{Username: conn.Username, ConnectedBy: conn.ConnectedBy, ConnectedAt: conn.ConnectedAt}
	case !errors.Is(err, store.ErrNotFound):
		return v, err
	}
	if v.Sync, err = s.cfg.Store.SyncStatus(ctx, p.ID); err != nil {
		return v, err
	}
	waiting, err := s.cfg.Store.WaitingPlaceholders(ctx, p.ID)
	if err != nil {
		return v, err
	}
	v.WaitingPlaceholders = len(waiting)
	for _, w := range waiting {
		if w.Overdue || time.Since(w.Since) >= w.Threshold {
			v.OverduePlaceholders++
		}
	}
	if v.History, err = s.cfg.Store.HealthHistory(ctx, p.ID, historyLimit); err != nil {
		return v, err
	}
	if v.Audit, err = s.cfg.Store.ListAudit(ctx, p.ID, historyLimit); err != nil {
		return v, err
	}
	if v.WebhooksDisabled, err = s.disabledWebhooks(ctx, p); err != nil {
		return v, err
	}
	return v, nil
}

// checkNow runs a health check at once. Credentials EMIS has refused are never tried again
// (a real EMIS may lock the user): the practice must enter new ones on the form. With htmx the
// answer is the status panel alone; without, the page again (post, redirect, get).
func (s *server) checkNow(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
	p, ok := s.practiceFor(w, r, u)
	if !ok {
		return
	}
	htmx := r.Header.Get("HX-Request") == "true"
	w.Header().Set("Vary", "HX-Request")
	if p.CredentialsRejected {
		v, err := s.practiceView(r, u, p)
		if err != nil {
			s.serverError(w, r, &u, "load practice page", err)
			return
		}
		v.CheckError = "EMIS refused this practice's API password, so herolink will not try it again. Enter the current API password on the connection form."
		// htmx swaps only successful answers: the panel must replace the stale button.
		if htmx {
			s.render(w, r, http.StatusOK, "practice", "status_panel", v)
			return
		}
		s.render(w, r, http.StatusConflict, "practice", "", v)
		return
	}
	if _, err := s.cfg.Practices.CheckHealth(r.Context(), p.ID); err != nil {
		s.serverError(w, r, &u, "check connection", err)
		return
	}
	s.log.Info("connection checked on request", "ods", p.ODS, "user", u.Username)
	if !htmx {
		http.Redirect(w, r, "/admin/practices/"+strconv.FormatInt(p.ID, 10)+"?checked=1", http.StatusSeeOther)
		return
	}
	p, err := s.cfg.Store.PracticeByID(r.Context(), p.ID)
	if err != nil {
		s.serverError(w, r, &u, "reload practice after check", err)
		return
	}
	v, err := s.practiceView(r, u, p)
	if err != nil {
		s.serverError(w, r, &u, "load practice page", err)
		return
	}
	v.Checked = true
	s.render(w, r, http.StatusOK, "practice", "status_panel", v)
}
