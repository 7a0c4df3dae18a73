package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
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
	client := clientAddr(r)
	// A locked account or a refused address is refused before the password is looked at, so
	// the right password found by guessing does not open it either.
	if err := s.signins.Check(r.Context(), username, client); err != nil {
		var te *staff.ThrottledError
		if !errors.As(err, &te) {
			s.serverError(w, r, nil, "sign in", err)
			return
		}
		s.log.Warn("staff sign-in refused: throttled", "username", clipLog(username), "client", client, "err", err)
		s.throttled(w, r, v, err)
		return
	}
	u, err := staff.Authenticate(r.Context(), s.cfg.Store, username, password)
	if errors.Is(err, staff.ErrMalformedHash) {
		// An operator's problem; the person at the form is told only what anyone would be.
		s.log.Error("staff sign-in: stored password hash is unusable", "err", err)
		err = staff.ErrWrongCredentials
	}
	if errors.Is(err, staff.ErrWrongCredentials) {
		s.log.Warn("staff sign-in refused: wrong username or password", "username", clipLog(username), "client", client)
		select {
		case <-time.After(s.failedSignInDelay):
		case <-r.Context().Done():
		}
		if lerr := s.signins.Failed(r.Context(), username, client); lerr != nil {
			var te *staff.ThrottledError
			if !errors.As(lerr, &te) {
				s.serverError(w, r, nil, "sign in", lerr)
				return
			}
			s.log.Warn("staff sign-in locked", "username", clipLog(username), "client", client, "err", lerr)
			s.throttled(w, r, v, lerr)
			return
		}
		v.Errors = []fieldError{{"username", "The username or password is not right"}}
		s.render(w, r, http.StatusUnprocessableEntity, "login", "", v)
		return
	}
	if err != nil {
		s.serverError(w, r, nil, "sign in", err)
		return
	}
	if err := s.signins.Succeeded(r.Context(), username); err != nil {
		s.log.Warn("staff sign-in: could not clear earlier failures", "err", err)
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

// throttled answers a sign-in refused by the throttle: 429, when to try again, and what to do.
func (s *server) throttled(w http.ResponseWriter, r *http.Request, v loginView, err error) {
	var te *staff.ThrottledError
	if !errors.As(err, &te) {
		s.serverError(w, r, nil, "sign in", err)
		return
	}
	wait := max(te.Wait, time.Second)
	at := te.Until.UTC().Format("15:04 UTC")
	msg := fmt.Sprintf("Too many failed sign-ins from your network. Sign-in from here is paused until %s (about %d minutes).", at, minutesUp(wait))
	if te.Account {
		msg = fmt.Sprintf("This account is locked after too many failed sign-ins. Try again after %s (about %d minutes). If you have forgotten your password, ask whoever administers herolink for your practice.", at, minutesUp(wait))
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
	v.Errors = []fieldError{{"username", msg}}
	s.render(w, r, http.StatusTooManyRequests, "login", "", v)
}

func minutesUp(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }

// clientAddr is the address the request came from. herolink does not trust X-Forwarded-For: a
// proxy in front would make every client one address, which the per-address limit tolerates
// (the per-account lock still applies).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clipLog keeps a typed username short in logs (it may be anything a person typed).
func clipLog(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
