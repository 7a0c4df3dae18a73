package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"herolink/internal/staff"
	"herolink/internal/store"
)

const cookieName = "herolink_session"

// maxFormBytes bounds a submitted form.
const maxFormBytes = 64 << 10

// signedIn requires a session: without one, pages redirect to sign-in (htmx requests are told
// to, since a redirect would swap the sign-in page into the status panel).
func (s *server) signedIn(h func(http.ResponseWriter, *http.Request, store.StaffUser)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.currentUser(r)
		if err != nil {
			if !errors.Is(err, staff.ErrNoSession) {
				s.serverError(w, r, nil, "look up session", err)
				return
			}
			target := "/admin/login"
			if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		h(w, r, u)
	})
}

func (s *server) currentUser(r *http.Request) (store.StaffUser, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return store.StaffUser{}, staff.ErrNoSession
	}
	return s.cfg.Sessions.Lookup(r.Context(), c.Value)
}

// sessionKey binds pending forms to the session: the hash of its token, never the token.
func sessionKey(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return staff.TokenHash(c.Value)
}

type loginView struct {
	base
	Username string
	Next     string
	Errors   []fieldError
}

type fieldError struct {
	Field   string
	Message string
}

// ErrorFor is the message shown next to one field, if any.
func (v loginView) ErrorFor(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, err := s.currentUser(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "", loginView{base: newBase("Sign in", nil), Next: r.URL.Query().Get("next")})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, nil, http.StatusBadRequest, "Sign in", "The form could not be read. Go back and try again.")
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	v := loginView{base: newBase("Sign in", nil), Username: username, Next: r.PostForm.Get("next")}
	if strings.TrimSpace(username) == "" {
		v.Errors = append(v.Errors, fieldError{"username", "Enter your username"})
	}
	if password == "" {
		v.Errors = append(v.Errors, fieldError{"password", "Enter your password"})
	}
	if len(v.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "login", "", v)
		return
	}
	u, err := staff.Authenticate(r.Context(), s.cfg.Store, username, password)
	if errors.Is(err, staff.ErrMalformedHash) {
		// An operator's problem; the person at the form is told only what anyone would be.
		s.log.Error("staff sign-in: stored password hash is unusable", "err", err)
		err = staff.ErrWrongCredentials
	}
	if errors.Is(err, staff.ErrWrongCredentials) {
		s.log.Info("staff sign-in refused")
		select {
		case <-time.After(s.failedSignInDelay):
		case <-r.Context().Done():
		}
		v.Errors = []fieldError{{"username", "The username or password is not right"}}
		s.render(w, r, http.StatusUnprocessableEntity, "login", "", v)
		return
	}
	if err != nil {
		s.serverError(w, r, nil, "sign in", err)
		return
	}
	// A new token at every sign-in: a session id planted before sign-in is never promoted.
	if old, err := r.Cookie(cookieName); err == nil {
		_ = s.cfg.Sessions.Delete(r.Context(), old.Value)
	}
	token, err := s.cfg.Sessions.Create(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, nil, "create session", err)
		return
	}
	s.log.Info("staff signed in", "user", u.Username, "role", u.Role)
	http.SetCookie(w, s.cookie(token, s.sessionTTL()))
	http.Redirect(w, r, safeNext(v.Next), http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.pending.dropSession(staff.TokenHash(c.Value))
		if err := s.cfg.Sessions.Delete(r.Context(), c.Value); err != nil {
			s.serverError(w, r, nil, "sign out", err)
			return
		}
	}
	http.SetCookie(w, s.cookie("", -1))
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (s *server) cookie(value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{Name: cookieName, Value: value, Path: "/admin", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies}
	if ttl < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(ttl / time.Second)
	}
	return c
}

func (s *server) sessionTTL() time.Duration {
	if s.cfg.Sessions.TTL > 0 {
		return s.cfg.Sessions.TTL
	}
	return staff.DefaultSessionTTL
}

// safeNext keeps a post-sign-in redirect on herolink's own admin pages.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "/admin/login") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return "/admin/"
	}
	return next
}
