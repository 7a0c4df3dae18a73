package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

const (
	demoODS    = sandbox.DemoODS
	demoAPIPw  = sandbox.DemoAPIPassword
	demoUserPw = sandbox.DemoUserPassword
)

func TestConnectionFormConnectsTheDemoPracticeAndShowsEveryCheckPassing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	form := c.get("/admin/connect")
	mustSay(t, form, "ODS code", "EMIS username", "API password",
		"This is the API password from EMAS Manager → Edit Users (Step 2), not the EMIS user password")
	mustHave(t, form, `name="password" type="password"`)

	r := c.connect(demoODS, "Herouser", demoAPIPw)
	if r.status != http.StatusOK {
		t.Fatalf("connect: %d", r.status)
	}
	mustSay(t, r, "Connected", "Connection checklist")
	if n := strings.Count(r.body, "nhsuk-tag--green"); n != 10 {
		t.Fatalf("%d checks passed, want all 10:\n%s", n, r.body)
	}
	mustNotSay(t, r, "nhsuk-tag--red", "nhsuk-tag--grey", "Not connected")

	p, err := b.store.PracticeByODS(context.Background(), demoODS)
	if err != nil {
		t.Fatal(err)
	}
	page := c.get(practicePath(p.ID))
	mustSay(t, page, sandbox.DemoName, "Connected", "nhsuk-tag--green", "Herouser", "Connected by", "ada",
		"Check connection now", "Health history", "Recent activity")
	if !strings.Contains(page.body, `href="/admin/connect?ods=A81001"`) {
		t.Fatal("the practice page does not link to the connection form")
	}
}

func TestAPIPasswordWithATrailingSpaceIsReportedThenTestedWithoutTheSpaces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.connect(demoODS, "Herouser", demoAPIPw+" ")
	mustSay(t, r, "The API password has a space at the end.", "Test without the spaces", "Test exactly as typed")
	mustNotSay(t, r, "EMIS username has a space", demoAPIPw)
	if strings.Contains(r.body, `type="password"`) {
		t.Fatal("the space warning page has a password field: the password must stay server-side")
	}
	if ps, _ := b.store.ListPractices(context.Background()); len(ps) != 0 {
		t.Fatal("a form stopped at a space warning stored a practice")
	}

	r = c.followUp(r, "step", "spaces", "spaces", "remove")
	mustSay(t, r, "Connected")
	mustNotSay(t, r, "Not connected", demoAPIPw)
	for _, body := range b.seen.responses() {
		if strings.Contains(body, demoAPIPw) {
			t.Fatalf("the API password appeared in a response:\n%s", body)
		}
	}
}

func TestSpacesKeptAsTypedAreTestedAndDiagnosed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.connect(demoODS, " Herouser", demoAPIPw)
	mustSay(t, r, "The EMIS username has a space at the start.")
	r = c.followUp(r, "step", "spaces", "spaces", "keep")
	mustSay(t, r, "Not connected", "Step 1: the EMIS user exists (Herouser)", "The username has a space at the start or end")
}

func TestAFollowUpWithAnExpiredOrForeignTokenAsksToTypeAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ada := b.signedIn(t, "ada", store.RoleSupport, 0)
	bob := b.signedIn(t, "bob", store.RoleSupport, 0)
	stopped := ada.connect(demoODS, "Herouser", demoAPIPw+" ")
	// Bob cannot use Ada's pending form, even with its token.
	r := bob.followUp(stopped, "step", "spaces", "spaces", "remove")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("foreign token: %d", r.status)
	}
	mustSay(t, r, "keeps what you typed for 10 minutes only")
	if ps, _ := b.store.ListPractices(context.Background()); len(ps) != 0 {
		t.Fatal("a foreign token connected a practice")
	}
	// Ada still can, once.
	mustSay(t, ada.followUp(stopped, "step", "spaces", "spaces", "remove"), "Connected")
	r = ada.followUp(stopped, "step", "spaces", "spaces", "remove")
	mustSay(t, r, "keeps what you typed for 10 minutes only")
}

func TestBadInputInEveryFieldGetsItsOwnMessageAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	cases := []struct {
		name, ods, username, password string
		field                         string
		says                          string
	}{
		{"no ODS code", "", "Herouser", demoAPIPw, "ods", "Enter your practice's ODS code"},
		{"ODS code of digits", "12345", "Herouser", demoAPIPw, "ods", "is not a GP practice ODS code"},
		{"ODS code too long", "A810011", "Herouser", demoAPIPw, "ods", "is not a GP practice ODS code"},
		{"no username", demoODS, "", demoAPIPw, "username", "Enter the EMIS username you created in Step 1"},
		{"username with a space inside", demoODS, "Hero user", demoAPIPw, "username", "EMIS usernames have no spaces inside them"},
		{"username too long", demoODS, strings.Repeat("h", 65), demoAPIPw, "username", "longer than 64 characters"},
		{"no password", demoODS, "Herouser", "", "password", "Enter the API password you set in EMAS Manager → Edit Users"},
		{"password with a tab", demoODS, "Herouser", "Riverside\t2026api", "password", "contains a tab, line break or other invisible character"},
		{"password too long", demoODS, "Herouser", strings.Repeat("P", 129), "password", "longer than 128 characters"},
	}
	for _, tc := range cases {
		r := c.connect(tc.ods, tc.username, tc.password)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d", tc.name, r.status)
		}
		mustSay(t, r, "There is a problem", tc.says)
		mustHave(t, r, `href="#`+tc.field+`"`, `id="`+tc.field+`-error"`, "nhsuk-input--error")
		if tc.field != "ods" {
			mustHave(t, r, `value="`+tc.ods+`"`)
		}
		if tc.field != "username" {
			mustHave(t, r, `value="`+tc.username+`"`)
		}
		if tc.password != "" {
			mustNotSay(t, r, tc.password)
		}
	}
	ctx := context.Background()
	ps, _ := b.store.ListPractices(ctx)
	audit, _ := b.store.ListAudit(ctx, 0, 10)
	if len(ps) != 0 || len(audit) != 0 {
		t.Fatalf("bad input stored something: practices %+v, audit %+v", ps, audit)
	}
}

func TestLiveConnectionStopsTheFormAndIsReplacedOnlyByProvenCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ada := b.signedIn(t, "ada", store.RoleSupport, 0)
	mustSay(t, ada.connect(demoODS, "Herouser", demoAPIPw), "Connected")
	p, _ := b.store.PracticeByODS(ctx, demoODS)

	// A second Hero user, as the guide suggests for a second attempt (Herouser1).
	str := func(s string) *string { return &s }
	no := false
	if _, err := b.demo.CreateUser(sandbox.UserInput{Title: str("Mr"), FirstName: str("Hero"), LastName: str("User"),
		Username: str("Herouser1"), Password: str("Another!2026"), MustChangePassword: &no, JobCategory: str("Manager"),
		RBACRole: str("Practice Manager SJR004")}); err != nil {
		t.Fatal(err)
	}
	const newAPIPw = "Second2026api"
	if err := b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser1", newAPIPw); err != nil {
		t.Fatal(err)
	}
	if err := b.demo.SetLoginAccess(sandbox.HeroProductKey, "Herouser1", true, true); err != nil {
		t.Fatal(err)
	}

	bob := b.signedIn(t, "bob", store.RoleSupport, 0)
	stop := bob.connect(demoODS, "Herouser1", "Wrong2026api")
	mustSay(t, stop, "is already connected", "Herouser", "Connected by", "ada", when(mustConn(t, b, p.ID).ConnectedAt),
		"Replace the existing connection", "The old credentials stay in force until the new ones pass")
	if strings.Contains(stop.body, `type="password"`) {
		t.Fatal("the replace confirmation has a password field")
	}

	// Without the box ticked, nothing happens and the question is asked again.
	unticked := bob.followUp(stop, "step", "replace")
	if unticked.status != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed replace: %d", unticked.status)
	}
	mustSay(t, unticked, "Tick the box to confirm")

	// A wrong password: the test fails and the old connection stays in force.
	failed := bob.followUp(unticked, "step", "replace", "confirm", "yes")
	mustSay(t, failed, "Not connected", "The connection in force is unchanged", "EMIS user Herouser, connected by ada")
	if conn := mustConn(t, b, p.ID); conn.Username != "Herouser" || conn.ConnectedBy != "ada" {
		t.Fatalf("a failed replacement changed the connection: %+v", conn)
	}

	// The right one replaces it.
	stop = bob.connect(demoODS, "Herouser1", newAPIPw)
	done := bob.followUp(stop, "step", "replace", "confirm", "yes")
	mustSay(t, done, "Connected", "The new credentials are now in force")
	if conn := mustConn(t, b, p.ID); conn.Username != "Herouser1" || conn.ConnectedBy != "bob" {
		t.Fatalf("the replacement did not take: %+v", conn)
	}
	page := bob.get(practicePath(p.ID))
	mustSay(t, page, "Herouser1", "Credentials replaced", "Connection test failed")
}

func mustConn(t *testing.T, b *testBundle, practiceID int64) store.Connection {
	t.Helper()
	conn, err := b.store.ActiveConnection(context.Background(), practiceID)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func TestPracticeUserCannotOpenOrConnectAnotherPractice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	demoID := b.connectDirectly(t, demoODS, "Herouser", demoAPIPw)
	otherID := b.connectDirectly(t, sandbox.GeneratedODS(1), "Herouser", sandbox.GeneratedAPIPassword(1))
	c := b.signedIn(t, "pm", store.RolePractice, demoID)

	if r := c.get("/admin/"); r.url != practicePath(demoID) || r.status != http.StatusOK {
		t.Fatalf("a practice user's start page: %d %s", r.status, r.url)
	}
	for _, r := range []response{
		c.get(practicePath(otherID)),
		c.send(http.MethodPost, practicePath(otherID)+"/check", nil, nil),
	} {
		if r.status != http.StatusForbidden {
			t.Fatalf("another practice: %d", r.status)
		}
		mustSay(t, r, "You cannot see this practice")
	}
	form := c.get("/admin/connect")
	mustHave(t, form, `value="A81001"`)
	r := c.connect(sandbox.GeneratedODS(1), "Herouser", sandbox.GeneratedAPIPassword(1))
	if r.status != http.StatusForbidden {
		t.Fatalf("connect another practice: %d", r.status)
	}
	mustSay(t, r, "You can only connect your own practice")
	// Nor a practice herolink has never seen.
	if r := c.connect("B82002", "Herouser", "Whatever2026"); r.status != http.StatusForbidden {
		t.Fatalf("connect an unknown practice: %d", r.status)
	}
	audit, _ := b.store.ListAudit(context.Background(), otherID, 10)
	for _, e := range audit {
		if e.Actor == "pm" {
			t.Fatalf("the practice user changed another practice: %+v", e)
		}
	}

	// A practice user whose account is not linked to a practice would act as support: the
	// database refuses to create one.
	if _, err := b.store.CreateStaffUser(context.Background(), store.StaffUser{Username: "unlinked", DisplayName: "x",
		PasswordHash: "x", Role: store.RolePractice}); err == nil {
		t.Fatal("a practice user without a practice was created")
	}
}

func TestEMISUserPasswordTypedInsteadOfTheAPIPasswordShowsTheDiagnosis(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.connect(demoODS, "Herouser", demoUserPw)
	mustSay(t, r, "Not connected", "Step 2: the API password is accepted",
		"You entered the EMIS user password", "EMAS Manager → Edit Users", "nhsuk-tag--red", "Not reached", "Try again")
	mustNotSay(t, r, demoUserPw)
	if strings.Count(r.body, `value=""`) != 0 || !strings.Contains(r.body, `value="Herouser"`) {
		t.Fatal("the form to try again does not keep the username")
	}
	p, _ := b.store.ListPractices(context.Background())
	if len(p) != 0 {
		t.Fatalf("failed credentials stored a practice: %+v", p)
	}
}

func TestSlotTypeMissingConnectsButSaysWhatStillNeedsDoing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	name := "Extended access"
	for _, st := range b.demo.ListSlotTypes() {
		if st.Name == emis.UnregisteredSlotTypeName {
			if _, err := b.demo.EditSlotType(st.ID, sandbox.SlotTypeInput{Name: &name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.connect(demoODS, "Herouser", demoAPIPw)
	mustSay(t, r, "Connected", "One thing still needs doing", "the \"Hero unregistered patient\" slot type exists", "Appts config")
}

func TestAPasswordPastedIntoTheUsernameFieldIsNotShownBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.signedIn(t, "ada", store.RoleSupport, 0)
	r := c.connect(demoODS, demoAPIPw, demoAPIPw)
	mustSay(t, r, "Not connected")
	mustNotSay(t, r, demoAPIPw)
}
