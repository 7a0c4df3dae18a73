package practice_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/store"
)

func openIfExists(p string) (*os.File, error) {
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return f, err
}

func TestConnectionFormConnectsAPracticeThatFollowedTheGuide(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{})
	b.followGuide(t, apiPassword)
	res := b.connect(t, "Herouser", apiPassword)
	if !res.Saved || res.Test == nil || !res.Test.Connected || !res.Test.Checks.AllPass() {
		t.Fatalf("connect = %+v, checks %+v", res, res.Test)
	}
	p, err := b.store.PracticeByODS(context.Background(), sandbox.DemoODS)
	if err != nil || p.Name != sandbox.DemoName || p.CDB != sandbox.DemoCDB || p.HealthStatus != store.HealthConnected {
		t.Fatalf("stored practice = %+v, %v", p, err)
	}
	conn, err := b.store.ActiveConnection(context.Background(), p.ID)
	if err != nil || conn.Username != "Herouser" || conn.ConnectedBy != support.Name {
		t.Fatalf("active connection = %+v, %v", conn, err)
	}
	audit, _ := b.store.ListAudit(context.Background(), p.ID, 10)
	if len(audit) != 1 || audit[0].Action != "connection.created" {
		t.Fatalf("audit = %+v", audit)
	}
}

// Every failure mode of DOMAIN.md, produced in the sandbox, diagnosed in the guide's words.
func TestEveryFailureModeGetsItsOwnDiagnosis(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	cases := []struct {
		name      string
		breakEMIS func(t *testing.T, o *sandbox.Org)
		username  string
		password  string
		step      practice.Step
		says      []string // in the failing line's message, in order
		connected bool     // slot-type problems do not stop the connection
	}{
		{name: "EMIS user password typed instead of the API password", password: emisUserPassword,
			step: practice.StepAPIPassword, says: []string{"You entered the EMIS user password", "Edit Users"}},
		{name: "trailing space in the API password", password: apiPassword + " ",
			step: practice.StepAPIPassword, says: []string{"space at the start or end"}},
		{name: "wrong capitalisation of the API password", password: strings.ToUpper(apiPassword),
			step: practice.StepAPIPassword, says: []string{"capitals do not match", "Caps Lock"}},
		{name: "an API password that is just wrong", password: "Completely9Wrong",
			step: practice.StepAPIPassword, says: []string{"most likely cause: the EMIS user password", "spaces", "capitals", "cannot be viewed again"}},
		{name: "unknown username", username: "Herouser1",
			step: practice.StepUser, says: []string{"no user with the username you entered", "Organisation Configuration → Users"}},
		{name: "username in the wrong case", username: "herouser",
			step: practice.StepUser, says: []string{"case-sensitive"}},
		{name: "Hero Health not activated in EMAS Manager",
			breakEMIS: func(t *testing.T, o *sandbox.Org) { must(t, o.Deactivate(sandbox.HeroProductKey)) },
			step:      practice.StepActivated, says: []string{"not activated", "Activate Application", "green tick",
				"If you can't access EMAS Manager", "your own admin account", "B0062 Local System Administration"}},
		{name: "user not ticked in Edit Users",
			breakEMIS: func(t *testing.T, o *sandbox.Org) { must(t, o.ClearAPIPassword(sandbox.HeroProductKey, "Herouser")) },
			step:      practice.StepEditUsers, says: []string{"not ticked", "Edit Users"}},
		{name: "Allow Login not ticked",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				must(t, o.SetLoginAccess(sandbox.HeroProductKey, "Herouser", true, false))
			},
			step: practice.StepLoginAccess, says: []string{"Allow Login is not ticked", "Login Access"}},
		{name: "Auto Login not ticked",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				must(t, o.SetLoginAccess(sandbox.HeroProductKey, "Herouser", false, true))
			},
			step: practice.StepLoginAccess, says: []string{"Auto Login is not ticked"}},
		{name: "contract end date passed",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				_, err := o.EditUser("Herouser", sandbox.UserInput{ContractStart: str("2025-01-01"), ContractEnd: str("2025-06-30")})
				must(t, err)
			},
			step: practice.StepAccount, says: []string{"contract has ended", "Contract end date"}},
		{name: "must change password left ticked",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				yes := true
				_, err := o.EditUser("Herouser", sandbox.UserInput{MustChangePassword: &yes})
				must(t, err)
			},
			step: practice.StepAccount, says: []string{"change password on next sign in", "Untick"}},
		{name: "RBAC role without appointment access",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				_, err := o.EditUser("Herouser", sandbox.UserInput{RBACRole: str("Information Governance Lead SJR020")})
				must(t, err)
			},
			step: practice.StepRole, says: []string{"Logon worked", "denied access", "Information Governance Lead SJR020", "Practice Manager SJR004"}},
		{name: "unregistered patient slot type missing",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				_, err := o.EditSlotType(6, sandbox.SlotTypeInput{Name: str("Extended access")})
				must(t, err)
			},
			step: practice.StepSlotType, says: []string{"missing", "Appts config", "Slot types", "Add"}, connected: true},
		{name: "unregistered patient slot type misspelt",
			breakEMIS: func(t *testing.T, o *sandbox.Org) {
				_, err := o.EditSlotType(6, sandbox.SlotTypeInput{Name: str("Hero unregistred patient")})
				must(t, err)
			},
			step: practice.StepSlotType, says: []string{`"Hero unregistred patient" looks close`, "Rename it"}, connected: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, bundleOpts{})
			b.followGuide(t, apiPassword)
			if c.breakEMIS != nil {
				c.breakEMIS(t, b.demo)
			}
			user, pw := "Herouser", apiPassword
			if c.username != "" {
				user = c.username
			}
			if c.password != "" {
				pw = c.password
			}
			res := b.connect(t, user, pw)
			if res.Test == nil {
				t.Fatalf("no test ran: %+v", res)
			}
			got := res.Test.Checks.FirstFailure()
			if got.Step != c.step {
				t.Fatalf("first failure is %q (%s), want %q; checklist %+v", got.Step, got.Message, c.step, res.Test.Checks)
			}
			assertSaysInOrder(t, got.Message, c.says)
			if res.Test.Connected != c.connected || res.Saved != c.connected {
				t.Fatalf("connected %v saved %v, want %v", res.Test.Connected, res.Saved, c.connected)
			}
			for _, secret := range []string{apiPassword, emisUserPassword, pw} {
				for _, ch := range res.Test.Checks {
					if strings.Contains(ch.Message, secret) {
						t.Fatalf("a password appears in the checklist: %q", ch.Message)
					}
				}
			}
		})
	}
}

func assertSaysInOrder(t *testing.T, msg string, says []string) {
	t.Helper()
	rest := msg
	for _, s := range says {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("message %q does not say %q (in this order: %q)", msg, s, says)
		}
		rest = rest[i+len(s):]
	}
}

// A real EMIS may answer only the outcome code. The diagnosis must still be useful.
func TestDiagnosisFromOutcomeCodesAloneNamesEveryPossibleCause(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	cases := []struct {
		name      string
		breakEMIS func(t *testing.T, o *sandbox.Org)
		password  string
		step      practice.Step
		says      []string
	}{
		{name: "outcome 3", password: emisUserPassword, step: practice.StepAPIPassword,
			says: []string{"most likely cause: the EMIS user password", "API password", "spaces", "capitals", "username exactly as in EMIS"}},
		{name: "outcome 4", breakEMIS: func(t *testing.T, o *sandbox.Org) { must(t, o.Deactivate(sandbox.HeroProductKey)) },
			step: practice.StepActivated, says: []string{"no access to Hero Health", "Activate Application",
				"your own admin account", "B0062 Local System Administration", "Edit Users", "Auto Login and Allow Login"}},
		{name: "outcome 2", breakEMIS: func(t *testing.T, o *sandbox.Org) {
			yes := true
			_, err := o.EditUser("Herouser", sandbox.UserInput{MustChangePassword: &yes})
			must(t, err)
		}, step: practice.StepAccount, says: []string{"expired", "Contract start date", "Contract end date", "must change password"}},
		{name: "access denied", breakEMIS: func(t *testing.T, o *sandbox.Org) {
			_, err := o.EditUser("Herouser", sandbox.UserInput{RBACRole: str("")})
			must(t, err)
		}, step: practice.StepRole, says: []string{"denied access", "Practice Manager SJR004"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, bundleOpts{stripHints: true})
			b.followGuide(t, apiPassword)
			if c.breakEMIS != nil {
				c.breakEMIS(t, b.demo)
			}
			pw := apiPassword
			if c.password != "" {
				pw = c.password
			}
			res := b.connect(t, "Herouser", pw)
			got := res.Test.Checks.FirstFailure()
			if got.Step != c.step {
				t.Fatalf("first failure %q: %s", got.Step, got.Message)
			}
			assertSaysInOrder(t, got.Message, c.says)
		})
	}
}

func TestUnknownODSCodeAndUnrecognisedPartnerAreDiagnosed(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{})
	res, err := b.service.Connect(context.Background(), support, practice.ConnectRequest{
		Form: practice.Form{ODS: "z99999", Username: "Herouser", Password: apiPassword}})
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Test.Checks.FirstFailure(); f.Step != practice.StepODS || !strings.Contains(f.Message, "no practice with ODS code Z99999") {
		t.Fatalf("unknown ODS: %+v", f)
	}
	other := setup(t, bundleOpts{supplierID: "0000-not-hero"})
	other.followGuide(t, apiPassword)
	res = other.connect(t, "Herouser", apiPassword)
	if f := res.Test.Checks.FirstFailure(); f.Step != practice.StepProduct || !strings.Contains(f.Message, "Contact herolink support") {
		t.Fatalf("unmatched supplier: %+v", f)
	}
}

func TestUnreachableEMISIsNotBlamedOnThePractice(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{})
	b.followGuide(t, apiPassword)
	must(t, b.world.SetFaults(sandbox.Faults{Global: sandbox.FaultConfig{ErrorRate: 1}}))
	res := b.connect(t, "Herouser", apiPassword)
	f := res.Test.Checks.FirstFailure()
	if !res.Test.Transient || !strings.Contains(f.Message, "not a problem with what you typed") || res.Saved {
		t.Fatalf("EMIS down: %+v transient=%v", f, res.Test.Transient)
	}
}

func TestOtherHeroUsersInEMISAreMentioned(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{})
	b.followGuide(t, apiPassword)
	str := func(s string) *string { return &s }
	_, err := b.demo.CreateUser(sandbox.UserInput{FirstName: str("Hero"), LastName: str("User"), Username: str("Herouser1"), Password: str("Another1!")})
	must(t, err)
	res := b.connect(t, "Herouser", apiPassword)
	if msg := res.Test.Checks.Get(practice.StepUser).Message; !strings.Contains(msg, "2 Hero users") || !strings.Contains(msg, "do not delete") {
		t.Fatalf("user line: %q", msg)
	}
}
