package web

import (
	"errors"
	"net/http"
	"strings"

	"herolink/internal/practice"
	"herolink/internal/store"
)

// connectView is the connection form, with the result of a test when there is one. It holds
// the ODS code and username as typed, and never the password.
type connectView struct {
	base
	ODS        string
	Username   string
	Errors     []fieldError
	Notice     string // a problem with the whole form: not your practice, expired
	Result     *resultView
	SandboxURL string
}

// ErrorsFor are the messages shown next to one field.
func (v connectView) ErrorsFor(field string) []string {
	var out []string
	for _, e := range v.Errors {
		if e.Field == field {
			out = append(out, e.Message)
		}
	}
	return out
}

// resultView is a connection test's checklist and what it means.
type resultView struct {
	Saved      bool
	Replaced   bool
	Summary    string // "Connected", or the title of the first failing line
	Failure    practice.Check
	Checks     practice.Checklist
	PracticeID int64
	Kept       *connectionView // a replacement failed: these credentials stay in force
	Transient  bool
}

// spacesView asks what to do with spaces at the start or end of the username or password.
type spacesView struct {
	base
	Token    string
	ODS      string
	Username string
	Warnings []string
}

// replaceView stops at a live connection and asks to confirm replacing it.
type replaceView struct {
	base
	Token      string
	ODS        string
	PracticeID int64
	Existing   practice.Existing
	Error      string
}

const (
	expiredNotice = "For your security herolink keeps what you typed for 10 minutes only, and that time has passed. Enter the details again."
	unlinked      = "Your herolink account is not linked to a practice yet. Ask herolink support to link it to your practice."
)

// actorFor is who acts on the form. A practice user not linked to a practice may not act at
// all: practice.Actor's zero PracticeID would give them support's reach.
func actorFor(u store.StaffUser) (practice.Actor, bool) {
	a := practice.Actor{Name: u.Username}
	if u.Role == store.RoleSupport {
		return a, true
	}
	if u.PracticeID == 0 {
		return a, false
	}
	a.PracticeID = u.PracticeID
	return a, true
}

func (s *server) newConnectView(u store.StaffUser, ods, username string) connectView {
	return connectView{base: newBase("Connect your practice to EMIS", &u), ODS: ods, Username: username, SandboxURL: s.cfg.SandboxURL}
}

func (s *server) connectPage(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
	if _, ok := actorFor(u); !ok {
		s.errorPage(w, r, &u, http.StatusForbidden, "You cannot connect a practice yet", unlinked)
		return
	}
	ods := r.URL.Query().Get("ods")
	if ods == "" && u.PracticeID != 0 {
		if p, err := s.cfg.Store.PracticeByID(r.Context(), u.PracticeID); err == nil {
			ods = p.ODS
		}
	}
	s.render(w, r, http.StatusOK, "connect", "", s.newConnectView(u, ods, ""))
}

// connect handles the form and its follow-ups. A first submission carries the three fields; a
// follow-up (spaces, replace) carries only the pending token and the person's choice.
func (s *server) connect(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
	actor, ok := actorFor(u)
	if !ok {
		s.errorPage(w, r, &u, http.StatusForbidden, "You cannot connect a practice yet", unlinked)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, &u, http.StatusBadRequest, "The form could not be read", "Go back to the connection form and try again.")
		return
	}
	f := r.PostForm
	var req practice.ConnectRequest
	unconfirmed := false
	if token := f.Get("pending"); token != "" {
		var found bool
		if req, found = s.pending.take(sessionKey(r), token); !found {
			v := s.newConnectView(u, f.Get("ods"), "")
			v.Notice = expiredNotice
			s.render(w, r, http.StatusUnprocessableEntity, "connect", "", v)
			return
		}
		switch f.Get("step") {
		case "spaces":
			switch f.Get("spaces") {
			case "remove":
				req.Spaces = practice.SpacesRemove
			case "keep":
				req.Spaces = practice.SpacesKeep
			}
		case "replace":
			req.Replace = f.Get("confirm") == "yes"
			unconfirmed = !req.Replace
		}
	} else {
		req = practice.ConnectRequest{Form: practice.Form{ODS: f.Get("ods"), Username: f.Get("username"), Password: f.Get("password")}}
	}

	res, err := s.cfg.Practices.Connect(r.Context(), actor, req)
	switch {
	case errors.Is(err, practice.ErrNotYourPractice):
		v := s.newConnectView(u, req.Form.ODS, req.Form.Username)
		v.Notice = "You can only connect your own practice. " + strings.ToUpper(strings.TrimSpace(req.Form.ODS)) +
			" is not the practice your herolink account is for: check the ODS code."
		s.render(w, r, http.StatusForbidden, "connect", "", v)
		return
	case err != nil:
		s.serverError(w, r, &u, "connect practice", err)
		return
	}

	switch {
	case len(res.FieldErrors) > 0:
		v := s.newConnectView(u, req.Form.ODS, req.Form.Username)
		for _, e := range res.FieldErrors {
			v.Errors = append(v.Errors, fieldError{e.Field, e.Message})
		}
		s.render(w, r, http.StatusUnprocessableEntity, "connect", "", v)
	case len(res.SpaceWarnings) > 0:
		req.Spaces = practice.SpacesAsk
		v := spacesView{base: newBase("Check the spaces", &u), ODS: res.Form.ODS, Username: strings.TrimSpace(req.Form.Username),
			Token: s.pending.put(sessionKey(r), req)}
		for _, sw := range res.SpaceWarnings {
			v.Warnings = append(v.Warnings, sw.Message())
		}
		s.render(w, r, http.StatusOK, "spaces", "", v)
	case res.Existing != nil:
		// The confirmation replaces exactly the connection shown here, nothing newer.
		req.Replace, req.Replaces = false, res.Existing.ConnectionID
		v := replaceView{base: newBase("This practice is already connected", &u), ODS: res.Form.ODS, PracticeID: res.PracticeID,
			Existing: *res.Existing, Token: s.pending.put(sessionKey(r), req)}
		if unconfirmed {
			v.Error = "Tick the box to confirm that the new credentials should replace the connection in force, or cancel."
		}
		status := http.StatusOK
		if unconfirmed {
			status = http.StatusUnprocessableEntity
		}
		s.render(w, r, status, "replace", "", v)
	case res.Test != nil:
		// The username is typed back into the form only once EMIS has proven it: an unproven one
		// may be a password pasted into the wrong field.
		username := ""
		if res.Test.Checks.Get(practice.StepUser).Status == practice.Pass {
			username = req.Form.Username
		}
		v := s.newConnectView(u, req.Form.ODS, username)
		v.Result = s.result(r, req, res)
		v.Title = "Connection test: " + v.Result.Summary
		s.render(w, r, http.StatusOK, "connect", "", v)
	default:
		s.serverError(w, r, &u, "connect practice", errors.New("connect returned no outcome"))
	}
}

func (s *server) result(r *http.Request, req practice.ConnectRequest, res practice.ConnectResult) *resultView {
	v := &resultView{Saved: res.Saved, Replaced: req.Replace && res.Saved, Checks: res.Test.Checks, PracticeID: res.PracticeID,
		Transient: res.Test.Transient, Failure: res.Test.Checks.FirstFailure()}
	switch {
	case res.Saved:
		v.Summary = "Connected"
	case v.Failure.Step != "":
		v.Summary = v.Failure.Title
	default:
		v.Summary = "Not connected"
	}
	if !res.Saved && res.PracticeID != 0 {
		if conn, err := s.cfg.Store.ActiveConnection(r.Context(), res.PracticeID); err == nil {
			v.Kept = &connectionView{Username: conn.Username, ConnectedBy: conn.ConnectedBy, ConnectedAt: conn.ConnectedAt}
		}
	}
	return v
}
