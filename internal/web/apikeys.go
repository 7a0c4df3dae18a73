package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"herolink/internal/api/apikey"
	"herolink/internal/store"
)

// The partner API keys of a practice's practice group: list, create (the key is shown once,
// on the answer to the form, never again), rotate (a new key shown once; the old one stops at
// once) and revoke. Support staff reach every practice's page, practice staff only their own.
// Every change is audited by the key service without the key.

// apiKeys is the key service, shared with the partner API so that revoking here empties the
// API's cache at once (New builds one over the store when Config has none: tests).
func (s *server) apiKeys() *apikey.Service { return s.cfg.APIKeys }

type scopeOption struct {
	Value, Label, Hint string
	Checked            bool
}

var scopeText = map[string][2]string{
	apikey.ScopeBooking:      {"Booking", "List slots, reserve, confirm, cancel and reschedule appointments, register patients."},
	apikey.ScopeBookingLinks: {"Booking links", "Send patients self-booking links."},
	apikey.ScopeMessaging:    {"Messaging", "Send messages to patients."},
}

type apiKeysView struct {
	base
	Practice store.Practice
	Keys     []apikey.Key
	Scopes   []scopeOption
	Name     string
	Partner  string
	Errors   []fieldError
	Secret   string      // a key just created or rotated: shown this once
	Shown    *apikey.Key // the key the secret belongs to
	Rotated  bool
	Done     string
}

func apiKeysPath(practiceID int64) string {
	return "/admin/practices/" + strconv.FormatInt(practiceID, 10) + "/api-keys"
}

func (s *server) keysView(r *http.Request, u store.StaffUser, p store.Practice, checked []string) (apiKeysView, error) {
	keys, err := s.apiKeys().List(r.Context(), p.PracticeGroupID)
	v := apiKeysView{base: newBase("API keys", &u), Practice: p, Keys: keys}
	for _, sc := range apikey.AllScopes {
		v.Scopes = append(v.Scopes, scopeOption{Value: sc, Label: scopeText[sc][0], Hint: scopeText[sc][1], Checked: slices.Contains(checked, sc)})
	}
	return v, err
}

func (s *server) apiKeysPage(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	v, err := s.keysView(r, u, p, []string{apikey.ScopeBooking})
	if err != nil {
		s.serverError(w, r, &u, "list API keys", err)
		return
	}
	if r.URL.Query().Get("done") == "revoked" {
		v.Done = "The key is revoked. Requests with it are refused from now on."
	}
	s.render(w, r, http.StatusOK, "apikeys", "", v)
}

func keyActor(u store.StaffUser, p store.Practice) apikey.Actor {
	return apikey.Actor{Name: u.Username, PracticeID: p.ID}
}

// formCreateAPIKey creates a key and shows it once, on this answer (not a redirect: the key
// must not be kept anywhere to show it again).
func (s *server) formCreateAPIKey(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	if !s.parseForm(w, r, u) {
		return
	}
	in := apikey.NewKey{Name: r.PostForm.Get("name"), Partner: r.PostForm.Get("partner"), Scopes: r.PostForm["scopes"]}
	created, err := s.apiKeys().Create(r.Context(), keyActor(u, p), p.PracticeGroupID, in)
	var inv *apikey.InvalidError
	if errors.As(err, &inv) {
		v, lerr := s.keysView(r, u, p, in.Scopes)
		if lerr != nil {
			s.serverError(w, r, &u, "list API keys", lerr)
			return
		}
		v.Name, v.Partner = in.Name, in.Partner
		v.Errors = []fieldError{{Field: inv.Field, Message: inv.Message}}
		s.render(w, r, http.StatusUnprocessableEntity, "apikeys", "", v)
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "create API key", err)
		return
	}
	s.log.Info("API key created", "key_id", created.Key.ID, "user", u.Username, "practice", p.ID)
	s.showSecret(w, r, u, p, created, false)
}

func (s *server) showSecret(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice, c apikey.Created, rotated bool) {
	v, err := s.keysView(r, u, p, []string{apikey.ScopeBooking})
	if err != nil {
		s.serverError(w, r, &u, "list API keys", err)
		return
	}
	v.Secret, v.Shown, v.Rotated = c.Secret, &c.Key, rotated
	s.render(w, r, http.StatusOK, "apikeys", "", v)
}

func (s *server) formRotateAPIKey(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := r.PathValue("kid")
	created, err := s.apiKeys().Rotate(r.Context(), keyActor(u, p), p.PracticeGroupID, id)
	if errors.Is(err, apikey.ErrNotFound) {
		s.errorPage(w, r, &u, http.StatusNotFound, "API key not found", "This practice has no working API key with this id: it may have been revoked or rotated already.")
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "rotate API key", err)
		return
	}
	s.log.Info("API key rotated", "key_id", id, "new_key_id", created.Key.ID, "user", u.Username, "practice", p.ID)
	s.showSecret(w, r, u, p, created, true)
}

func (s *server) formRevokeAPIKey(w http.ResponseWriter, r *http.Request, u store.StaffUser, p store.Practice) {
	id := r.PathValue("kid")
	err := s.apiKeys().Revoke(r.Context(), keyActor(u, p), p.PracticeGroupID, id)
	if errors.Is(err, apikey.ErrNotFound) {
		s.errorPage(w, r, &u, http.StatusNotFound, "API key not found", "This practice has no working API key with this id: it may have been revoked already.")
		return
	}
	if err != nil {
		s.serverError(w, r, &u, "revoke API key", err)
		return
	}
	s.log.Info("API key revoked", "key_id", id, "user", u.Username, "practice", p.ID)
	http.Redirect(w, r, apiKeysPath(p.ID)+"?done=revoked", http.StatusSeeOther)
}

// ScopesOf shows a key's scopes in words.
func (apiKeysView) ScopesOf(k apikey.Key) string {
	scopes := k.Scopes
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if t, ok := scopeText[sc]; ok {
			out = append(out, t[0])
		} else {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ", ")
}
