package web

import (
	"crypto/rand"
	"sync"
	"time"

	"herolink/internal/practice"
)

// A connection form can stop halfway: spaces to ask about, a live connection to confirm
// replacing. The follow-up must not carry the API password through the browser (it would then
// appear in a response), so the submission waits here, in memory, under a random token bound to
// the staff session that made it. The follow-up sends only the token and the person's choice.
// A restart forgets pending forms: the person types the password again, which is safe.
const (
	pendingTTL        = 10 * time.Minute
	pendingMax        = 1000 // in all
	pendingPerSession = 5
)

// pendingForm is a submitted form waiting for the person's choice.
type pendingForm struct {
	req     practice.ConnectRequest
	session string // staff.TokenHash of the session that submitted it
	created time.Time
}

// pendingForms holds pending forms. There is no janitor goroutine: every insert first drops
// expired entries, and the map is bounded in all and per session, the oldest going first.
type pendingForms struct {
	mu         sync.Mutex
	m          map[string]pendingForm
	ttl        time.Duration
	max        int
	perSession int
}

func newPendingForms(ttl time.Duration, max, perSession int) *pendingForms {
	return &pendingForms{m: map[string]pendingForm{}, ttl: ttl, max: max, perSession: perSession}
}

// put keeps a request for a session and returns its token.
func (p *pendingForms) put(session string, req practice.ConnectRequest) string {
	now := time.Now()
	token := rand.Text()
	p.mu.Lock()
	defer p.mu.Unlock()
	mine := 0
	for k, e := range p.m {
		switch {
		case now.Sub(e.created) >= p.ttl:
			delete(p.m, k)
		case e.session == session:
			mine++
		}
	}
	for ; mine >= p.perSession; mine-- {
		p.dropOldestLocked(func(e pendingForm) bool { return e.session == session })
	}
	for len(p.m) >= p.max {
		p.dropOldestLocked(func(pendingForm) bool { return true })
	}
	p.m[token] = pendingForm{req: req, session: session, created: now}
	return token
}

func (p *pendingForms) dropOldestLocked(match func(pendingForm) bool) {
	var oldest string
	var at time.Time
	for k, e := range p.m {
		if match(e) && (oldest == "" || e.created.Before(at)) {
			oldest, at = k, e.created
		}
	}
	delete(p.m, oldest)
}

// take returns and forgets the request kept under token, if it belongs to session and has not
// expired. A token is good for one follow-up only.
func (p *pendingForms) take(session, token string) (practice.ConnectRequest, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[token]
	if !ok || e.session != session {
		return practice.ConnectRequest{}, false
	}
	delete(p.m, token)
	if time.Since(e.created) >= p.ttl {
		return practice.ConnectRequest{}, false
	}
	return e.req, true
}

// dropSession forgets every pending form of a session (on sign-out).
func (p *pendingForms) dropSession(session string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.m {
		if e.session == session {
			delete(p.m, k)
		}
	}
}

func (p *pendingForms) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
