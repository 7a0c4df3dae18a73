package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"herolink/internal/emis"
)

// Roles maps an RBAC role profile to its national activity codes. A user whose role is not
// here has no activities: logon works, data calls answer access denied.
var Roles = map[string][]string{
	"Practice Manager SJR004":            {ActivityLocalAdmin, ActivityDetailedRecord, ActivityPatientAdmin},
	"GP Partner SJR001":                  {ActivityDetailedRecord, ActivityPatientAdmin},
	"Receptionist SJR006":                {ActivityPatientAdmin},
	"Information Governance Lead SJR020": {ActivityLocalAdmin},
}

// National RBAC activity codes the sandbox checks.
const (
	ActivityPatientAdmin   = "B0560" // Perform Patient Administration
	ActivityDetailedRecord = "B0380" // Perform Detailed Health Record
	ActivityLocalAdmin     = "B0062" // Local System Administration
)

var activityNames = map[string]string{
	ActivityPatientAdmin:   "Perform Patient Administration",
	ActivityDetailedRecord: "Perform Detailed Health Record",
	ActivityLocalAdmin:     "Local System Administration",
}

// methodActivities is what each data method needs (any one of).
var methodActivities = map[string][]string{
	emis.MethodGetOrganisation:             {ActivityPatientAdmin, ActivityLocalAdmin},
	emis.MethodGetAppointmentConfiguration: {ActivityPatientAdmin},
	emis.MethodGetAppointmentSessions:      {ActivityPatientAdmin},
	emis.MethodGetSlotsForSession:          {ActivityPatientAdmin},
	emis.MethodBookAppointment:             {ActivityPatientAdmin},
	emis.MethodCancelAppointment:           {ActivityPatientAdmin},
	emis.MethodSetAppointmentStatus:        {ActivityPatientAdmin},
	emis.MethodSetSlotType:                 {ActivityPatientAdmin},
	emis.MethodGetMatchedPatient:           {ActivityPatientAdmin},
	emis.MethodGetPatientAppointments:      {ActivityPatientAdmin},
	emis.MethodGetPatientDemographics:      {ActivityPatientAdmin},
}

type login struct {
	org     *Org
	product string
	created time.Time
}

type apiSession struct {
	org        *Org
	product    string
	username   string
	productGen int64
	userGen    int64
	lastUsed   time.Time
}

// loginTable holds InitializeWithID login ids and Logon session ids.
type loginTable struct {
	mu       sync.Mutex
	logins   map[string]*login
	sessions map[string]*apiSession
	sweeps   int
}

func (t *loginTable) init() {
	t.logins = map[string]*login{}
	t.sessions = map[string]*apiSession{}
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// answer is what a Partner API method produces.
type answer struct {
	outcome emis.Outcome
	text    string
	result  any
}

func fail(o emis.Outcome, format string, args ...any) answer {
	return answer{outcome: o, text: fmt.Sprintf(format, args...)}
}

func ok(result any) answer { return answer{outcome: emis.OutcomeSuccess, result: result} }

// initializeWithID identifies the organisation and the partner product.
func (w *World) initializeWithID(cdbText, supplierID string) answer {
	var cdb int
	if _, err := fmt.Sscan(cdbText, &cdb); err != nil {
		return fail(emis.OutcomeOrgNotFound, "cdb %q is not a CDB number", cdbText)
	}
	org, err := w.Org(cdb)
	if err != nil {
		return fail(emis.OutcomeOrgNotFound, "no organisation with CDB %d on this server", cdb)
	}
	org.mu.Lock()
	p := org.productBySupplierLocked(strings.TrimSpace(supplierID))
	org.mu.Unlock()
	if p == nil {
		return fail(emis.OutcomeUnmatchedSupplier, "supplier id %q does not match any partner product", supplierID)
	}
	id := newToken()
	w.logins.mu.Lock()
	w.logins.logins[id] = &login{org: org, product: p.Key, created: w.now()}
	w.logins.mu.Unlock()
	return ok(emis.LoginResult{LoginID: id, ProductName: p.Name, Version: "2.1.0-sandbox"})
}

// logon checks the user, the API password and EMAS Manager's settings, in the order a partner
// sees their effects, and says in the error text which cause applies.
func (w *World) logon(loginID, username, password string) answer {
	w.logins.mu.Lock()
	l := w.logins.logins[loginID]
	w.logins.mu.Unlock()
	if l == nil {
		return fail(emis.OutcomeTechnicalError, "login id not recognised: call InitializeWithID first")
	}
	o := l.org
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.productLocked(l.product)
	u := o.userLocked(username)
	if u == nil {
		if other := o.userFoldLocked(strings.TrimSpace(username)); other != nil {
			if strings.TrimSpace(username) != username {
				return fail(emis.OutcomeLogonUnsuccessful, "unknown user: the username has spaces at the start or end")
			}
			return fail(emis.OutcomeLogonUnsuccessful, "unknown user: usernames are case-sensitive and the capitalisation does not match an existing user")
		}
		return fail(emis.OutcomeLogonUnsuccessful, "unknown user: no user with that username in this organisation")
	}
	if !p.Activated {
		return fail(emis.OutcomeLogonNoAccess, "login id does not have access to this product: %s is not activated in EMAS Manager", p.Name)
	}
	pu := p.Users[u.Username]
	if pu == nil {
		return fail(emis.OutcomeLogonNoAccess, "login id does not have access to this product: the user is not ticked in EMAS Manager Edit Users for %s", p.Name)
	}
	if password != pu.APIPassword {
		switch {
		case password == u.Password:
			return fail(emis.OutcomeLogonUnsuccessful, "unsuccessful: the password given is the user's EMIS user password, not the API password set in EMAS Manager Edit Users")
		case strings.TrimSpace(password) == pu.APIPassword:
			return fail(emis.OutcomeLogonUnsuccessful, "unsuccessful: the password has spaces at the start or end")
		case strings.EqualFold(password, pu.APIPassword):
			return fail(emis.OutcomeLogonUnsuccessful, "unsuccessful: the password's capitalisation does not match")
		default:
			return fail(emis.OutcomeLogonUnsuccessful, "unsuccessful: the password does not match the API password set in EMAS Manager Edit Users")
		}
	}
	if !pu.AllowLogin && !pu.AutoLogin {
		return fail(emis.OutcomeLogonNoAccess, "login id does not have access to this product: Allow Login and Auto Login are not ticked in EMAS Manager Login Access")
	}
	if !pu.AllowLogin {
		return fail(emis.OutcomeLogonNoAccess, "login id does not have access to this product: Allow Login is not ticked in EMAS Manager Login Access")
	}
	if !pu.AutoLogin {
		return fail(emis.OutcomeLogonNoAccess, "login id does not have access to this product: Auto Login is not ticked in EMAS Manager Login Access")
	}
	today := w.Today().String()
	if u.ContractStart > today {
		return fail(emis.OutcomeLogonExpired, "expired: the user's contract starts on %s", u.ContractStart)
	}
	if u.ContractEnd != "" && u.ContractEnd < today {
		return fail(emis.OutcomeLogonExpired, "expired: the user's contract ended on %s", u.ContractEnd)
	}
	if u.MustChangePassword {
		return fail(emis.OutcomeLogonExpired, "expired: the user must change password on next sign in")
	}
	id := newToken()
	w.logins.mu.Lock()
	delete(w.logins.logins, loginID)
	w.logins.sessions[id] = &apiSession{org: o, product: p.Key, username: u.Username,
		productGen: p.Generation, userGen: pu.Generation, lastUsed: w.now()}
	w.sweepLocked()
	w.logins.mu.Unlock()
	return ok(emis.SessionResult{SessionID: id})
}

// sweepLocked drops idle sessions and stale login ids now and then, so the tables stay bounded.
func (w *World) sweepLocked() {
	t := &w.logins
	t.sweeps++
	if t.sweeps%256 != 0 {
		return
	}
	now := w.now()
	for id, s := range t.sessions {
		if now.Sub(s.lastUsed) > w.opts.SessionIdleTimeout {
			delete(t.sessions, id)
		}
	}
	for id, l := range t.logins {
		if now.Sub(l.created) > w.opts.SessionIdleTimeout {
			delete(t.logins, id)
		}
	}
}

// session finds a live session, refreshing its idle timer. It answers -2 for an unknown,
// idle, or revoked session.
func (w *World) session(id string) (*apiSession, answer) {
	w.logins.mu.Lock()
	s := w.logins.sessions[id]
	now := w.now()
	if s != nil && now.Sub(s.lastUsed) > w.opts.SessionIdleTimeout {
		delete(w.logins.sessions, id)
		w.logins.mu.Unlock()
		return nil, fail(emis.OutcomeNotLoggedOn, "not logged on: the session was idle for more than %s", w.opts.SessionIdleTimeout)
	}
	if s != nil {
		s.lastUsed = now
	}
	w.logins.mu.Unlock()
	if s == nil {
		return nil, fail(emis.OutcomeNotLoggedOn, "not logged on: unknown session id")
	}
	return s, answer{}
}

// authorise checks, under the organisation's lock, that the session is still allowed and that
// the user's role grants the method.
func (s *apiSession) authoriseLocked(method string) (*User, answer) {
	o := s.org
	p := o.productLocked(s.product)
	u := o.userLocked(s.username)
	pu := p.Users[s.username]
	if u == nil || !p.Activated || p.Generation != s.productGen || pu == nil || pu.Generation != s.userGen || !pu.AllowLogin {
		return nil, fail(emis.OutcomeNotLoggedOn, "not logged on: the session was ended by a change in EMAS Manager")
	}
	need := methodActivities[method]
	if len(need) == 0 {
		return u, answer{}
	}
	for _, have := range Roles[u.RBACRole] {
		for _, n := range need {
			if have == n {
				return u, answer{}
			}
		}
	}
	role := u.RBACRole
	if role == "" {
		role = "(none)"
	}
	return nil, fail(emis.OutcomeAccessDenied, "access denied: role profile %s does not include activity %s %s", role, need[0], activityNames[need[0]])
}

// logout ends a session.
func (w *World) logout(id string) answer {
	w.logins.mu.Lock()
	defer w.logins.mu.Unlock()
	if _, ok := w.logins.sessions[id]; !ok {
		return fail(emis.OutcomeNotLoggedOn, "not logged on: unknown session id")
	}
	delete(w.logins.sessions, id)
	return ok(nil)
}

// orgOfToken finds the organisation a login id or session id belongs to, for fault targeting.
func (w *World) orgOfToken(loginID, sessionID string) *Org {
	w.logins.mu.Lock()
	defer w.logins.mu.Unlock()
	if s, ok := w.logins.sessions[sessionID]; ok {
		return s.org
	}
	if l, ok := w.logins.logins[loginID]; ok {
		return l.org
	}
	return nil
}
