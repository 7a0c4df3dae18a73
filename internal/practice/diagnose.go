package practice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"herolink/internal/emis"
)

// Fixes in the guide's words, reused across diagnoses.
const (
	fixActivate    = "In EMIS Web go to EMIS ball → System Tools → EMAS Manager, select Hero Health in the list of partner products and click Activate Application on the toolbar. You should see a green tick next to Hero Health."
	fixEditUsers   = "In EMAS Manager, with Hero Health selected, click Edit Users, tick the user (it appears as \"User, Hero\") and enter a new API password when prompted. Then enter that API password on this form."
	fixLoginAccess = "In EMAS Manager, with Hero Health selected, click Login Access, find \"User, Hero\", tick both Auto Login and Allow Login, and click OK."
	fixRole        = "In EMIS Web go to EMIS ball → Configuration → Organisation Configuration → Users, open the user, and under User Role Profile set the RBAC role to Practice Manager SJR004."
	fixRepeat      = "If it still fails, repeat Step 2: in EMAS Manager select Hero Health, Deactivate and then Reactivate the application, set a fresh API password in Edit Users, and tick both boxes in Login Access."
	fixSlotType    = "Open the appointment book, click Appts config in the menu at the top, choose Slot types on the side of the window, click Add and name the new slot type \"Hero unregistered patient\"."
)

// TestResult is the outcome of a connection test.
type TestResult struct {
	Checks       Checklist `json:"checks"`
	Connected    bool      `json:"connected"` // logon works and herolink may read appointments and patients
	CDB          int       `json:"-"`
	PracticeName string    `json:"-"`
	// Transient is true when the failure is EMIS being unreachable or erroring, not something
	// the practice typed or configured.
	Transient bool `json:"-"`
	// Rejected is true when EMIS refused the username or password (Logon outcome 3): such
	// credentials are never tried again automatically.
	Rejected bool `json:"-"`
}

// Tester runs the connection test against EMIS.
type Tester struct {
	Directory Directory
	Caller    *emis.Caller
	Now       func() time.Time
}

// Test runs the whole connection test with credentials already validated by Form.Validate.
// It only reads from EMIS and never stores anything.
func (t *Tester) Test(ctx context.Context, f Form) TestResult {
	res := TestResult{Checks: newChecklist()}
	c := res.Checks
	entry, err := t.Directory.Lookup(ctx, f.ODS)
	switch {
	case errors.Is(err, ErrUnknownODS):
		c.set(StepODS, Fail, fmt.Sprintf("EMIS has no practice with ODS code %s. Check the code: it is printed on your practice's NHS correspondence and starts with a letter followed by five digits.", f.ODS))
		return res
	case err != nil:
		c.set(StepODS, Fail, "herolink could not look up the ODS code just now ("+describeTransport(err)+"). This is not a problem with what you typed: try again in a few minutes.")
		res.Transient = true
		return res
	}
	res.CDB, res.PracticeName = entry.CDB, entry.Name
	c.set(StepODS, Pass, fmt.Sprintf("%s is %s (EMIS organisation %d).", entry.ODS, entry.Name, entry.CDB))

	login, err := t.Caller.InitializeWithID(ctx, entry.CDB)
	if err != nil {
		res.Transient = diagnoseInitialize(c, err)
		return res
	}
	c.set(StepProduct, Pass, "")

	sessionID, err := t.Caller.Logon(ctx, login.LoginID, f.Username, f.Password)
	if err != nil {
		res.Transient, res.Rejected = diagnoseLogon(c, err, f)
		return res
	}
	c.passUpTo(StepRole)
	res.Transient = t.probe(ctx, c, sessionID, f)
	res.Connected = c.Get(StepRole).Status == Pass
	_, _ = t.Caller.Call(ctx, emis.MethodLogout, map[string][]string{"sessionId": {sessionID}}, nil)
	return res
}

func diagnoseInitialize(c Checklist, err error) (transient bool) {
	switch {
	case errors.Is(err, emis.ErrOrgNotFound):
		c.set(StepProduct, Fail, "EMIS does not know this practice's organisation on the server herolink connects to. Contact herolink support with your ODS code: this is not something you can fix in EMIS Web.")
	case errors.Is(err, emis.ErrUnmatchedSupplier):
		c.set(StepProduct, Fail, "EMIS does not recognise Hero Health's partner id for this practice. Contact herolink support with your ODS code: this is not something you can fix in EMIS Web.")
	default:
		c.set(StepProduct, Fail, "herolink could not reach EMIS ("+describeTransport(err)+"). This is not a problem with what you typed: try again in a few minutes.")
		return true
	}
	return false
}

// hint returns EMIS's error text in lower case: the sandbox (and sometimes EMIS) says which
// cause applies, but the diagnosis must stand on the outcome code alone when it does not.
func hint(err error) string {
	var oe *emis.OutcomeError
	if errors.As(err, &oe) {
		return strings.ToLower(oe.Text)
	}
	return ""
}

func diagnoseLogon(c Checklist, err error, f Form) (transient, rejected bool) {
	h := hint(err)
	switch {
	case errors.Is(err, emis.ErrLogonUnsuccessful):
		rejected = true
		diagnoseUnsuccessful(c, h, f)
	case errors.Is(err, emis.ErrNoProductAccess):
		diagnoseNoAccess(c, h)
	case errors.Is(err, emis.ErrLogonExpired):
		diagnoseExpired(c, h)
	default:
		c.set(StepUser, Fail, "EMIS could not complete the logon ("+describeTransport(err)+"). This is not a problem with what you typed: try again in a few minutes.")
		transient = true
	}
	return transient, rejected
}

// diagnoseUnsuccessful explains Logon outcome 3: EMIS did not accept the username and password.
func diagnoseUnsuccessful(c Checklist, h string, f Form) {
	likely := "The most likely cause: the EMIS user password (the one chosen when the user was created in Step 1) was entered instead of the API password (the one entered in EMAS Manager → Edit Users in Step 2). The API password is what this form needs."
	others := "Also check: no spaces at the start or end, the capitals exactly as set (passwords are case-sensitive), and the username exactly as in EMIS (for example Herouser, or Herouser1 on a second attempt)."
	lost := "The API password cannot be viewed again in EMIS. If it is lost or you are not sure, set a fresh one: " + fixEditUsers
	switch {
	case strings.Contains(h, "unknown user") || strings.Contains(h, "no user"):
		// The username is not echoed: a password pasted into the wrong field would be shown.
		msg := "EMIS has no user with the username you entered."
		if strings.Contains(h, "case-sensitive") || strings.Contains(h, "capitalisation") {
			msg = "EMIS has no user called exactly what you entered: usernames are case-sensitive and the capitals do not match the user in EMIS."
		} else if strings.Contains(h, "spaces") {
			msg = "The username has a space at the start or end, which EMIS does not ignore."
		}
		c.set(StepUser, Fail, msg+" Check the username in EMIS ball → Configuration → Organisation Configuration → Users (search for Hero), and enter it exactly as shown.")
	case strings.Contains(h, "emis user password"):
		c.passUpTo(StepAPIPassword)
		c.set(StepAPIPassword, Fail, "You entered the EMIS user password (chosen when the user was created in Step 1). This form needs the API password, the one entered in EMAS Manager → Edit Users in Step 2. "+lost)
	case strings.Contains(h, "spaces"):
		c.passUpTo(StepAPIPassword)
		c.set(StepAPIPassword, Fail, "The API password has a space at the start or end that is not part of the password set in EMAS Manager. Type it again without the spaces. "+lost)
	case strings.Contains(h, "capitalisation") || strings.Contains(h, "case"):
		c.passUpTo(StepAPIPassword)
		c.set(StepAPIPassword, Fail, "The API password's capitals do not match: passwords are case-sensitive (check Caps Lock). "+lost)
	case h != "" && strings.Contains(h, "does not match"):
		c.passUpTo(StepAPIPassword)
		c.set(StepAPIPassword, Fail, "EMIS did not accept the API password. "+likely+" "+others+" "+lost)
	default:
		// Outcome 3 alone cannot tell a wrong username from a wrong password.
		c.set(StepAPIPassword, Fail, "EMIS did not accept the username and API password. "+likely+" "+others+" "+lost)
	}
}

// diagnoseNoAccess explains Logon outcome 4: the login has no access to Hero Health.
func diagnoseNoAccess(c Checklist, h string) {
	switch {
	case strings.Contains(h, "not activated"):
		c.passUpTo(StepActivated)
		c.set(StepActivated, Fail, "Hero Health is not activated for this practice. "+fixActivate+" "+fixAdminRBAC)
	case strings.Contains(h, "edit users"):
		c.passUpTo(StepEditUsers)
		c.set(StepEditUsers, Fail, "The user is not ticked for Hero Health in Edit Users. "+fixEditUsers)
	case strings.Contains(h, "allow login") || strings.Contains(h, "auto login") || strings.Contains(h, "login access"):
		c.passUpTo(StepLoginAccess)
		which := "Auto Login and Allow Login are"
		switch {
		case strings.Contains(h, "allow login and auto login"):
		case strings.Contains(h, "allow login"):
			which = "Allow Login is"
		case strings.Contains(h, "auto login"):
			which = "Auto Login is"
		}
		c.set(StepLoginAccess, Fail, which+" not ticked for the user. "+fixLoginAccess)
	default:
		c.passUpTo(StepActivated)
		c.set(StepActivated, Fail, "EMIS says this user has no access to Hero Health. One of these is missing in EMAS Manager: "+
			"(1) Hero Health activated: "+fixActivate+" "+fixAdminRBAC+" (2) the user ticked in Edit Users: "+fixEditUsers+
			" (3) Auto Login and Allow Login ticked: "+fixLoginAccess+" "+fixRepeat)
	}
}

// diagnoseExpired explains Logon outcome 2: the user account cannot log on now.
func diagnoseExpired(c Checklist, h string) {
	c.passUpTo(StepAccount)
	c.set(StepAccount, Fail, expiredDiagnosis(h))
}

// probe makes the read-only calls herolink needs and checks the slot type. It reports
// whether a failure was transient.
func (t *Tester) probe(ctx context.Context, c Checklist, sessionID string, f Form) (transient bool) {
	call := func(method string, params map[string][]string, result any) error {
		p := map[string][]string{"sessionId": {sessionID}}
		for k, v := range params {
			p[k] = v
		}
		_, err := t.Caller.Call(ctx, method, p, result)
		return err
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	today := emis.Today(now())
	var org emis.Organisation
	var cfg emis.AppointmentConfiguration
	var me emis.CurrentUser
	probes := []struct {
		what string
		err  error
	}{
		{"read the organisation", call(emis.MethodGetOrganisation, nil, &org)},
		{"read the appointment configuration", call(emis.MethodGetAppointmentConfiguration, nil, &cfg)},
		{"read appointment sessions", call(emis.MethodGetAppointmentSessions, map[string][]string{
			"startDate": {today.String()}, "endDate": {today.AddDays(6).String()}}, nil)},
		{"search patients", call(emis.MethodGetMatchedPatient, map[string][]string{"filter": {"herolinkprobe"}}, nil)},
	}
	_ = call(emis.MethodGetCurrentUser, nil, &me)
	var denied []string
	for _, p := range probes {
		switch {
		case p.err == nil, errors.Is(p.err, emis.ErrNothingToReturn):
		case errors.Is(p.err, emis.ErrAccessDenied):
			denied = append(denied, p.what)
		default:
			c.set(StepRole, NotReached, "")
			c.set(StepUser, Pass, "")
			c.set(StepRole, Fail, "Logon worked, but EMIS failed while herolink checked what it may read ("+describeTransport(p.err)+"). Try again in a few minutes.")
			return true
		}
	}
	c.set(StepUser, Pass, otherHeroUsers(org, f.Username))
	if len(denied) > 0 {
		role := ""
		if me.RoleProfile != "" {
			role = fmt.Sprintf(" (its role profile is %s)", me.RoleProfile)
		} else if me.Username != "" {
			role = " (it has no role profile)"
		}
		c.set(StepRole, Fail, fmt.Sprintf("Logon worked, but EMIS denied access when herolink tried to %s: the user's role%s does not allow it. %s",
			strings.Join(denied, ", "), role, fixRole))
		return false
	}
	c.set(StepRole, Pass, "")
	c.set(StepAccount, Pass, ContractWarning(&me, today))
	diagnoseSlotType(c, cfg.SlotTypes)
	return false
}

// otherHeroUsers notes other Hero users in EMIS: the guide says not to delete the original
// Herouser until Hero confirms which credentials should remain.
func otherHeroUsers(org emis.Organisation, username string) string {
	var names []string
	for _, u := range org.Users {
		full := strings.ToLower(u.FirstNames + " " + u.LastName)
		if strings.Contains(full, "hero") {
			names = append(names, strings.TrimSpace(u.LastName+", "+u.FirstNames))
		}
	}
	if len(names) <= 1 {
		return ""
	}
	return fmt.Sprintf("EMIS has %d Hero users (%s). herolink uses %s; do not delete the others until herolink support confirms which credentials should remain.",
		len(names), strings.Join(names, "; "), username)
}

func diagnoseSlotType(c Checklist, types []emis.SlotType) {
	found, near := emis.FindUnregisteredSlotType(types)
	switch {
	case found != nil && found.Description != emis.UnregisteredSlotTypeName:
		c.set(StepSlotType, Pass, fmt.Sprintf("Found as %q.", found.Description))
	case found != nil:
		c.set(StepSlotType, Pass, "")
	case len(near) > 0:
		c.set(StepSlotType, Fail, fmt.Sprintf("No slot type is called \"Hero unregistered patient\", but %s looks close. Rename it to exactly \"Hero unregistered patient\" in Appts config → Slot types, or add a new one: %s",
			quoteList(near), fixSlotType))
	default:
		c.set(StepSlotType, Fail, "The slot type is missing. It reserves the time in EMIS when a patient cannot be matched, shown as a yellow placeholder. "+fixSlotType)
	}
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, " or ")
}

// describeTransport says in a few words what went wrong with a call, without any parameters.
func describeTransport(err error) string {
	var te *emis.TransportError
	var oe *emis.OutcomeError
	switch {
	case errors.As(err, &te) && te.Timeout():
		return "EMIS did not answer in time"
	case errors.As(err, &te) && te.StatusCode != 0:
		return fmt.Sprintf("EMIS answered HTTP %d", te.StatusCode)
	case errors.As(err, &te):
		return "EMIS could not be reached"
	case errors.As(err, &oe):
		return fmt.Sprintf("EMIS answered outcome %d", oe.Outcome)
	case errors.Is(err, context.DeadlineExceeded):
		return "the check ran out of time"
	}
	return "an unexpected error"
}
