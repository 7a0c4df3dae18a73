package web

import (
	"net/http"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

// The sync setup of a practice: the mapping page (forms that post, redirect and show the page
// again) and JSON endpoints under the practice for the same actions. Both need a staff session;
// practice users reach only their own practice.

// mapping is the sync setup service over the pages' store and EMIS connections.
func (s *server) mapping() *mapping.Service {
	if s.cfg.Mapping != nil {
		return s.cfg.Mapping
	}
	m := &mapping.Service{Store: s.cfg.Store, Log: s.log}
	if s.cfg.Practices != nil {
		m.Conns = s.cfg.Practices
	}
	return m
}

type practiceHandler func(http.ResponseWriter, *http.Request, store.StaffUser, store.Practice)

// practiceForm requires a staff session allowed to see the practice, answering with pages.
func (s *server) practiceForm(h practiceHandler) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, u store.StaffUser) {
		p, ok := s.practiceFor(w, r, u)
		if !ok {
			return
		}
		h(w, r, u, p)
	})
}

// negotiated serves an action both the page's forms and JSON callers post to.
func (s *server) negotiated(jsonH, formH practiceHandler) http.Handler {
	j, f := s.practiceJSON(jsonH), s.practiceForm(formH)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept, Content-Type")
		if wantsJSON(r) {
			j.ServeHTTP(w, r)
			return
		}
		f.ServeHTTP(w, r)
	})
}
