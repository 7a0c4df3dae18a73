package sandbox_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

func TestGuideFollowedThroughAdminAPIThenLogonSucceeds(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()

	// Before the guide: no Hero user, Hero Health not activated, no logon.
	if users := mustDecode[[]sandbox.User](t, b.mustAdmin(t, 200, "GET", demoOrg+"/users?search=hero", nil)); len(users) != 0 {
		t.Fatalf("an untouched practice already has Hero users: %+v", users)
	}
	if _, err := b.caller.Connect(ctx, emis.Credentials{CDB: sandbox.DemoCDB, Username: "Herouser", APIPassword: apiPassword}); !errors.Is(err, emis.ErrLogonUnsuccessful) {
		t.Fatalf("logon before the guide: %v, want unsuccessful", err)
	}

	b.followGuide(t, "Herouser")
	b.mustAdmin(t, 201, "POST", demoOrg+"/slot-types", map[string]any{"name": "Hero unregistered patient", "colour": "#ffeb3b"})

	products := mustDecode[[]sandbox.ProductView](t, b.mustAdmin(t, 200, "GET", demoOrg+"/emas/products", nil))
	var hero *sandbox.ProductView
	for i := range products {
		if products[i].Key == sandbox.HeroProductKey {
			hero = &products[i]
		}
	}
	if hero == nil || hero.Name != "Hero Health" || !hero.Activated || hero.SupplierID != sandbox.DefaultSupplierID {
		t.Fatalf("Hero Health in EMAS Manager = %+v", hero)
	}

	conn := b.connect(t, "Herouser", apiPassword)
	me, err := conn.GetCurrentUser(ctx)
	if err != nil || me.Username != "Herouser" || me.RoleProfile != "Practice Manager SJR004" {
		t.Fatalf("GetCurrentUser = %+v, %v", me, err)
	}
	cfg, err := conn.GetAppointmentConfiguration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, st := range cfg.SlotTypes {
		found = found || st.Description == "Hero unregistered patient"
	}
	if !found || len(cfg.Holders) == 0 || len(cfg.Sites) == 0 {
		t.Fatalf("appointment configuration = %+v", cfg)
	}
	org, err := conn.GetOrganisation(ctx)
	if err != nil || org.ODSCode != sandbox.DemoODS || org.CDB != sandbox.DemoCDB {
		t.Fatalf("GetOrganisation = %+v, %v", org, err)
	}
	today := emis.Today(b.clock.Now())
	sessions, err := conn.GetAppointmentSessions(ctx, today, today.AddDays(13), 0)
	if err != nil || len(sessions) < 20 {
		t.Fatalf("GetAppointmentSessions: %d sessions, %v", len(sessions), err)
	}
	if err := conn.Logout(ctx); err != nil {
		t.Fatal(err)
	}
}

// Each failure mode of DOMAIN.md, produced through the admin API, observed through the client.
func TestEveryConnectionFailureModeAnswersItsOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		break_   func(t *testing.T, b *testBundle)
		username string
		password string
		want     error
		text     string
	}{
		{name: "EMIS user password typed instead of the API password", password: "EmisUserPw1!",
			want: emis.ErrLogonUnsuccessful, text: "EMIS user password"},
		{name: "API password with a trailing space", password: apiPassword + " ",
			want: emis.ErrLogonUnsuccessful, text: "spaces at the start or end"},
		{name: "API password with a leading space", password: " " + apiPassword,
			want: emis.ErrLogonUnsuccessful, text: "spaces at the start or end"},
		{name: "API password in the wrong capitalisation", password: strings.ToLower(apiPassword),
			want: emis.ErrLogonUnsuccessful, text: "capitalisation"},
		{name: "API password simply wrong", password: "SomethingElse9",
			want: emis.ErrLogonUnsuccessful, text: "does not match the API password"},
		{name: "username in the wrong capitalisation", username: "herouser",
			want: emis.ErrLogonUnsuccessful, text: "case-sensitive"},
		{name: "username with a trailing space", username: "Herouser ",
			want: emis.ErrLogonUnsuccessful, text: "spaces at the start or end"},
		{name: "unknown username", username: "Herouser9",
			want: emis.ErrLogonUnsuccessful, text: "no user with that username"},
		{name: "product not activated in EMAS Manager",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 200, "POST", demoOrg+"/emas/products/hero-health/deactivate", nil)
			}, want: emis.ErrNoProductAccess, text: "not activated"},
		{name: "user not ticked in Edit Users",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 204, "DELETE", demoOrg+"/emas/products/hero-health/users/Herouser", nil)
			}, want: emis.ErrNoProductAccess, text: "Edit Users"},
		{name: "Allow Login not ticked",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/login-access/Herouser", map[string]any{"auto_login": true, "allow_login": false})
			}, want: emis.ErrNoProductAccess, text: "Allow Login is not ticked"},
		{name: "Auto Login not ticked",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/login-access/Herouser", map[string]any{"auto_login": false, "allow_login": true})
			}, want: emis.ErrNoProductAccess, text: "Auto Login is not ticked"},
		{name: "contract end date passed",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 200, "PATCH", demoOrg+"/users/Herouser", map[string]any{"contract_start": "2026-01-01", "contract_end": "2026-11-01"})
			}, want: emis.ErrLogonExpired, text: "contract ended on 2026-11-01"},
		{name: "contract starts in the future",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 200, "PATCH", demoOrg+"/users/Herouser", map[string]any{"contract_start": "2026-12-01"})
			}, want: emis.ErrLogonExpired, text: "contract starts on 2026-12-01"},
		{name: "must change password on next sign in left ticked",
			break_: func(t *testing.T, b *testBundle) {
				b.mustAdmin(t, 200, "PATCH", demoOrg+"/users/Herouser", map[string]any{"must_change_password": true})
			}, want: emis.ErrLogonExpired, text: "must change password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sandbox.Options{Seed: 1})
			b.followGuide(t, "Herouser")
			if c.break_ != nil {
				c.break_(t, b)
			}
			user, pw := "Herouser", apiPassword
			if c.username != "" {
				user = c.username
			}
			if c.password != "" {
				pw = c.password
			}
			_, err := b.caller.Connect(context.Background(), emis.Credentials{CDB: sandbox.DemoCDB, Username: user, APIPassword: pw})
			if !errors.Is(err, c.want) {
				t.Fatalf("Connect: %v, want %v", err, c.want)
			}
			var oe *emis.OutcomeError
			if !errors.As(err, &oe) || !strings.Contains(oe.Text, c.text) {
				t.Fatalf("error text %q does not say %q", err, c.text)
			}
			if strings.Contains(err.Error(), apiPassword) || strings.Contains(err.Error(), "EmisUserPw1!") {
				t.Fatalf("a password leaked into the error: %v", err)
			}
		})
	}
}

func TestWrongOrganisationOrSupplierFailsAtInitialize(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	if _, err := b.caller.InitializeWithID(ctx, 424242); !errors.Is(err, emis.ErrOrgNotFound) {
		t.Fatalf("unknown CDB: %v", err)
	}
	other, _ := emis.NewCaller(emis.Config{BaseURL: b.srv.URL, SupplierID: "not-a-supplier"})
	if _, err := other.InitializeWithID(ctx, sandbox.DemoCDB); !errors.Is(err, emis.ErrUnmatchedSupplier) {
		t.Fatalf("unmatched supplier: %v", err)
	}
	login, err := b.caller.InitializeWithID(ctx, sandbox.DemoCDB)
	if err != nil || login.ProductName != "Hero Health" || login.LoginID == "" {
		t.Fatalf("InitializeWithID = %+v, %v", login, err)
	}
}

func TestRoleWithoutAppointmentActivitiesCanLogOnButIsDeniedData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, role := range []string{"Information Governance Lead SJR020", ""} {
		t.Run("role "+role, func(t *testing.T) {
			t.Parallel()
			b := setup(t, sandbox.Options{Seed: 1})
			b.followGuide(t, "Herouser")
			b.mustAdmin(t, 200, "PATCH", demoOrg+"/users/Herouser", map[string]any{"rbac_role": role})
			conn := b.connect(t, "Herouser", apiPassword)
			today := emis.Today(b.clock.Now())
			_, err := conn.GetAppointmentSessions(ctx, today, today.AddDays(6), 0)
			if !errors.Is(err, emis.ErrAccessDenied) || !strings.Contains(err.Error(), "B0560") {
				t.Fatalf("sessions: %v, want access denied naming B0560", err)
			}
			if _, err := conn.GetMatchedPatient(ctx, "Smith"); !errors.Is(err, emis.ErrAccessDenied) {
				t.Fatalf("patient search: %v, want access denied", err)
			}
			if _, err := conn.BookAppointment(ctx, emis.Booking{SlotID: 1, PatientID: 500}); !errors.Is(err, emis.ErrAccessDenied) {
				t.Fatalf("booking: %v, want access denied", err)
			}
			if _, err := conn.GetCurrentUser(ctx); err != nil {
				t.Fatalf("GetCurrentUser needs no activity: %v", err)
			}
			_, err = conn.GetOrganisation(ctx)
			if role == "" && !errors.Is(err, emis.ErrAccessDenied) {
				t.Fatalf("no role: GetOrganisation %v, want access denied", err)
			}
			if role != "" && err != nil {
				t.Fatalf("local admin role: GetOrganisation %v", err)
			}
		})
	}
}

func TestDeactivateStopsLogonsAndReactivateRestoresThem(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	b.followGuide(t, "Herouser")
	conn := b.connect(t, "Herouser", apiPassword)

	b.mustAdmin(t, 200, "POST", demoOrg+"/emas/products/hero-health/deactivate", nil)
	// The open session ends; the client logs on again once and is told why that fails.
	_, err := conn.GetCurrentUser(ctx)
	if !errors.Is(err, emis.ErrNoProductAccess) {
		t.Fatalf("after deactivation: %v, want no product access", err)
	}
	b.mustAdmin(t, 200, "POST", demoOrg+"/emas/products/hero-health/activate", nil)
	// The refused connection makes no more calls; a new one logs on.
	if _, err := conn.GetCurrentUser(ctx); !errors.Is(err, emis.ErrNoProductAccess) {
		t.Fatalf("a refused connection called EMIS again: %v", err)
	}
	fresh := b.connect(t, "Herouser", apiPassword)
	if _, err := fresh.GetCurrentUser(ctx); err != nil {
		t.Fatalf("after reactivation a new connection logs on: %v", err)
	}
}

func TestARefusedPasswordIsSentOnceHoweverManyCallsNeedALogon(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	b.followGuide(t, "Herouser")
	conn := b.connect(t, "Herouser", apiPassword)
	// The practice sets a new API password in EMAS Manager: open sessions end.
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/users/Herouser", map[string]any{"api_password": "BrandNewApi2027"})
	before, _ := b.world.Stats(sandbox.DemoCDB)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := conn.GetCurrentUser(ctx); !errors.Is(err, emis.ErrLogonUnsuccessful) {
				t.Errorf("call after the password change: %v", err)
			}
		}()
	}
	wg.Wait()
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if n := after.Calls[emis.MethodLogon] - before.Calls[emis.MethodLogon]; n != 1 {
		t.Fatalf("the old password was sent %d times, want once", n)
	}
}

func TestLostAPIPasswordIsRepairedWithAFreshOneInEditUsers(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	b.followGuide(t, "Herouser")
	conn := b.connect(t, "Herouser", apiPassword)

	// The password cannot be read back from anywhere.
	for _, path := range []string{"/emas/products", "/emas/products/hero-health", "/users/Herouser", "/users?search=hero"} {
		if body := b.mustAdmin(t, 200, "GET", demoOrg+path, nil); strings.Contains(string(body), apiPassword) || strings.Contains(string(body), "EmisUserPw1!") {
			t.Fatalf("GET %s shows a password: %s", path, body)
		}
	}
	const fresh = "FreshApi2027y"
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/users/Herouser", map[string]any{"api_password": fresh})
	// The open session ends with the password change, and re-logon with the old password fails.
	if _, err := conn.GetCurrentUser(ctx); !errors.Is(err, emis.ErrLogonUnsuccessful) {
		t.Fatalf("old password after reset: %v, want unsuccessful", err)
	}
	b.connect(t, "Herouser", fresh)
}

func TestExistingHerouserIsFoundAndASecondUserWorksBesideIt(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	b.followGuide(t, "Herouser")

	found := mustDecode[[]sandbox.User](t, b.mustAdmin(t, 200, "GET", demoOrg+"/users?search=hero", nil))
	if len(found) != 1 || found[0].Username != "Herouser" {
		t.Fatalf("search for hero = %+v", found)
	}
	status, body := b.admin(t, "POST", demoOrg+"/users", herouserForm("herouser"))
	if status != 409 || !strings.Contains(string(body), "already exists") {
		t.Fatalf("a second Herouser (any case): %d %s", status, body)
	}
	form := herouserForm("Herouser1")
	b.mustAdmin(t, 201, "POST", demoOrg+"/users", form)
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/users/Herouser1", map[string]any{"api_password": "SecondApi2026z"})
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/login-access/Herouser1", map[string]any{"auto_login": true, "allow_login": true})
	b.connect(t, "Herouser1", "SecondApi2026z")
	b.connect(t, "Herouser", apiPassword)
}

func TestEMASManagerRefusesAnAPIPasswordThatBreaksItsPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	b.mustAdmin(t, 201, "POST", demoOrg+"/users", herouserForm("Herouser"))
	cases := map[string]string{
		"short1A":       "at least 8 characters",
		"alllowercase1": "an upper-case letter",
		"ALLUPPERCASE1": "a lower-case letter",
		"NoDigitsHere":  "a digit",
	}
	for pw, says := range cases {
		status, body := b.admin(t, "PUT", demoOrg+"/emas/products/hero-health/users/Herouser", map[string]any{"api_password": pw})
		if status != 422 || !strings.Contains(string(body), says) {
			t.Errorf("API password %q: %d %s, want 422 saying %q", pw, status, body, says)
		}
		if strings.Contains(string(body), pw) {
			t.Errorf("the refused password is echoed back: %s", body)
		}
	}
	view := mustDecode[sandbox.ProductView](t, b.mustAdmin(t, 200, "GET", demoOrg+"/emas/products/hero-health", nil))
	for _, u := range view.Users {
		if u.Username == "Herouser" && u.Enabled {
			t.Fatal("a refused password still ticked the user in Edit Users")
		}
	}
}

func TestSessionIdleTimeoutAnswersNotLoggedOnAndClientLogsOnAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	b.followGuide(t, "Herouser")
	conn := b.connect(t, "Herouser", apiPassword)

	// A raw call with the old session id after 21 idle minutes answers -2.
	login, _ := b.caller.InitializeWithID(ctx, sandbox.DemoCDB)
	sid, err := b.caller.Logon(ctx, login.LoginID, "Herouser", apiPassword)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(21 * 60e9)
	_, err = b.caller.Call(ctx, emis.MethodGetCurrentUser, map[string][]string{"sessionId": {sid}}, nil)
	if !errors.Is(err, emis.ErrNotLoggedOn) {
		t.Fatalf("idle session: %v, want not logged on", err)
	}
	before, _ := b.world.Stats(sandbox.DemoCDB)
	if _, err := conn.GetCurrentUser(ctx); err != nil {
		t.Fatalf("the client should log on again transparently: %v", err)
	}
	after, _ := b.world.Stats(sandbox.DemoCDB)
	if got := after.Calls[emis.MethodLogon] - before.Calls[emis.MethodLogon]; got != 1 {
		t.Fatalf("re-logon made %d Logon calls, want 1", got)
	}
}

func TestUntickThenTickAgainInEditUsersEndsOldSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	ctx := context.Background()
	b.followGuide(t, "Herouser")
	login, _ := b.caller.InitializeWithID(ctx, sandbox.DemoCDB)
	old, err := b.caller.Logon(ctx, login.LoginID, "Herouser", apiPassword)
	if err != nil {
		t.Fatal(err)
	}
	b.mustAdmin(t, 204, "DELETE", demoOrg+"/emas/products/hero-health/users/Herouser", nil)
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/users/Herouser", map[string]any{"api_password": "AnotherApi2026"})
	b.mustAdmin(t, 204, "PUT", demoOrg+"/emas/products/hero-health/login-access/Herouser", map[string]any{"auto_login": true, "allow_login": true})
	_, err = b.caller.Call(ctx, emis.MethodGetCurrentUser, map[string][]string{"sessionId": {old}}, nil)
	if !errors.Is(err, emis.ErrNotLoggedOn) {
		t.Fatalf("a session opened with the unticked password still works: %v", err)
	}
}

func TestFailedSlotTypeEditChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	status, _ := b.admin(t, "PATCH", demoOrg+"/slot-types/1", map[string]any{"name": "Renamed", "colour": "green"})
	if status != 422 {
		t.Fatalf("bad colour: %d, want 422", status)
	}
	for _, st := range mustDecode[[]sandbox.SlotType](t, b.mustAdmin(t, 200, "GET", demoOrg+"/slot-types", nil)) {
		if st.Name == "Renamed" {
			t.Fatal("the refused edit renamed the slot type")
		}
	}
}
