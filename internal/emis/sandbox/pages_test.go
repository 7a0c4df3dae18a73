package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
)

// pagesBundle is a sandbox server and a cookie-less browser that does not follow redirects,
// so each test sees the 303 of a form and follows it itself.
type pagesBundle struct {
	world  *World
	srv    *httptest.Server
	client *http.Client
	org    string // "/emis/29001"
	seen   []string
}

func setupPages(t *testing.T) *pagesBundle {
	t.Helper()
	w := New(Options{Seed: 1})
	srv := httptest.NewServer(NewServer(w, nil))
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &pagesBundle{world: w, srv: srv, client: client, org: "/emis/29001"}
}

func (b *pagesBundle) demo(t *testing.T) *Org {
	t.Helper()
	o, err := b.world.Org(DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (b *pagesBundle) do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b.seen = append(b.seen, string(body))
	return resp.StatusCode, resp.Header, string(body)
}

// get fetches a page and expects the status.
func (b *pagesBundle) get(t *testing.T, want int, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	status, h, body := b.do(t, req)
	if status != want {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, status, want, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	return body
}

func (b *pagesBundle) post(t *testing.T, path string, form url.Values, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return b.do(t, req)
}

// submit posts a form that must succeed (303) and returns the page it redirects to.
func (b *pagesBundle) submit(t *testing.T, path string, form url.Values) string {
	t.Helper()
	status, h, body := b.post(t, path, form, nil)
	if status != http.StatusSeeOther {
		t.Fatalf("POST %s: status %d, want 303\n%s", path, status, body)
	}
	loc := h.Get("Location")
	if !strings.HasPrefix(loc, "/") {
		t.Fatalf("POST %s: redirect to %q, want a path of this server", path, loc)
	}
	return b.get(t, http.StatusOK, loc)
}

// refused posts a form that must be refused with the status and returns the page.
func (b *pagesBundle) refused(t *testing.T, want int, path string, form url.Values) string {
	t.Helper()
	status, _, body := b.post(t, path, form, nil)
	if status != want {
		t.Fatalf("POST %s: status %d, want %d\n%s", path, status, want, body)
	}
	return body
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page does not contain %q:\n%s", w, mainOf(body))
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("page contains %q:\n%s", w, mainOf(body))
		}
	}
}

// mainOf is the page without the layout's head, for failure messages.
func mainOf(body string) string {
	if _, after, ok := strings.Cut(body, "</header>"); ok {
		return after
	}
	return body
}

// row returns the table row carrying attr="value" (data-product, data-user, ...).
func row(t *testing.T, body, attr, value string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr ` + attr + `="` + regexp.QuoteMeta(value) + `"[^>]*>.*?</tr>`).FindString(body)
	if m == "" {
		t.Fatalf("no row with %s=%q in:\n%s", attr, value, body)
	}
	return m
}

// userForm is the guide's Add new user form, as a person fills it in.
func (b *pagesBundle) userForm(username, password string) url.Values {
	return url.Values{
		"title": {"Mr"}, "first_name": {"Hero"}, "last_name": {"User"}, "gender": {"Not specified"},
		"email": {"herouser@herohealth.example"}, "username": {username}, "password": {password},
		// "User must change password on next sign in" unticked: the checkbox sends nothing.
		"job_category": {"Manager"}, "mnemonic": {"HH"}, "authorise_prescriptions": {"None"},
		"relationship": {"Associated"}, "contract_start": {b.world.Today().String()}, "contract_end": {""},
		"rbac_role": {"Practice Manager SJR004"},
	}
}

const (
	usersPath = "/configuration/organisation/users"
	emasPage  = "/system-tools/emas-manager"
	heroEmas  = emasPage + "/" + HeroProductKey
	slotsPath = "/appointments/appts-config/slot-types"
)

func TestPagesFollowGuideByHandThenLogonSucceeds(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	const userPassword, apiPassword = "EmisUser!2026", "HeroApi2026pw"

	// The organisation list leads to the demo practice's EMIS ball menu.
	list := b.get(t, http.StatusOK, "/")
	mustContain(t, list, DemoName, `href="/emis/29001/"`, DemoODS)
	home := b.get(t, http.StatusOK, b.org+"/")
	mustContain(t, home, "EMIS ball", "Organisation Configuration", b.org+usersPath, "EMAS Manager",
		b.org+emasPage, "Appts config", b.org+slotsPath)

	// Step 1: search for Hero users, find none, add Herouser.
	users := b.get(t, http.StatusOK, b.org+usersPath+"?search=Hero")
	mustContain(t, users, "No users match")
	add := b.get(t, http.StatusOK, b.org+usersPath+"/add")
	mustContain(t, add, "Add new user", "Job Category", "User Mnemonic", "Authorise Prescriptions", "Relationship",
		"Contract start date", "Contract end date", "User Role Profile", `<option value="Practice Manager SJR004">`,
		`name="contract_start" value="`+b.world.Today().String()+`"`)
	if !regexp.MustCompile(`name="must_change_password" value="on" checked`).MatchString(add) {
		t.Fatalf("must change password is not ticked by default:\n%s", add)
	}
	created := b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", userPassword))
	mustContain(t, created, "User, Hero", "(Herouser) created")
	mustContain(t, row(t, created, "data-user", "Herouser"), "Practice Manager SJR004", "<td>No</td>")

	// Step 2: EMAS Manager, select Hero Health, Activate Application: the green tick.
	emasList := b.get(t, http.StatusOK, b.org+emasPage)
	mustNotContain(t, row(t, emasList, "data-product", HeroProductKey), "✔")
	selected := b.get(t, http.StatusOK, b.org+emasPage+"?product="+HeroProductKey)
	mustContain(t, selected, "Activate Application", "Deactivate Application", "Edit Users", "Login Access")
	activated := b.submit(t, b.org+heroEmas+"/activate", nil)
	mustContain(t, row(t, activated, "data-product", HeroProductKey), "✔", "Activated")
	mustNotContain(t, row(t, activated, "data-product", "docuflow"), "✔")

	// Edit Users: tick User, Hero with the API password.
	edit := b.get(t, http.StatusOK, b.org+heroEmas+"/edit-users")
	mustContain(t, edit, "cannot view this API password later")
	r := row(t, edit, "data-user", "Herouser")
	mustContain(t, r, "User, Hero", `type="password" name="api_password"`, `name="api_password_confirm"`)
	mustNotContain(t, r, "checked")
	ticked := b.submit(t, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"set"},
		"api_password": {apiPassword}, "api_password_confirm": {apiPassword}})
	mustContain(t, row(t, ticked, "data-user", "Herouser"), "checked")

	// Login Access: tick Auto Login and Allow Login, OK.
	access := b.get(t, http.StatusOK, b.org+heroEmas+"/login-access")
	mustContain(t, row(t, access, "data-user", "Herouser"), `name="auto_login"`, `name="allow_login"`)
	saved := b.submit(t, b.org+heroEmas+"/login-access", url.Values{"user": {"Herouser"},
		"auto_login": {"Herouser"}, "allow_login": {"Herouser"}})
	mustContain(t, saved, "Login Access saved")
	if n := strings.Count(row(t, saved, "data-user", "Herouser"), " checked"); n != 2 {
		t.Fatalf("Login Access shows %d ticked boxes for Herouser, want 2", n)
	}

	// Step 3: the Hero unregistered patient slot type.
	slots := b.submit(t, b.org+slotsPath, url.Values{"name": {"Hero unregistered patient"},
		"colour": {"#ffeb3b"}, "bookable": {"on"}})
	mustContain(t, slots, `Slot type &#34;Hero unregistered patient&#34; added`, "background-color:#ffeb3b")

	// The home page's progress shows every step done.
	home = b.get(t, http.StatusOK, b.org+"/")
	if n := strings.Count(home, `title="Done"`); n != 5 {
		t.Fatalf("home page shows %d steps done, want 5:\n%s", n, home)
	}

	// The Hero connection form's credentials now log on through the Partner API.
	caller, err := emis.NewCaller(emis.Config{BaseURL: b.srv.URL, SupplierID: DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := caller.Connect(context.Background(), emis.Credentials{CDB: DemoCDB, Username: "Herouser", APIPassword: apiPassword})
	if err != nil {
		t.Fatalf("logon after following the guide by hand: %v", err)
	}
	if _, err := conn.GetOrganisation(context.Background()); err != nil {
		t.Fatalf("GetOrganisation with the Practice Manager role: %v", err)
	}
	for _, body := range b.seen {
		mustNotContain(t, body, apiPassword, userPassword)
	}
}

func TestPagesEditUsersRejectsWeakAPIPasswordShowingPolicyAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))
	o := b.demo(t)

	body := b.refused(t, http.StatusUnprocessableEntity, b.org+heroEmas+"/edit-users", url.Values{
		"username": {"Herouser"}, "action": {"set"}, "api_password": {"weakpass"}, "api_password_confirm": {"weakpass"}})
	mustContain(t, body, `role="alert"`, "does not meet the EMAS Manager password policy",
		"an upper-case letter", "a digit", "Nothing was changed")
	mustNotContain(t, body, "weakpass")
	mustNotContain(t, row(t, body, "data-user", "Herouser"), "checked")

	body = b.refused(t, http.StatusUnprocessableEntity, b.org+heroEmas+"/edit-users", url.Values{
		"username": {"Herouser"}, "action": {"set"}, "api_password": {"HeroApi2026pw"}, "api_password_confirm": {"HeroApi2026pW"}})
	mustContain(t, body, "do not match")
	mustNotContain(t, body, "HeroApi2026p")

	p, err := o.Product(HeroProductKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range p.Users {
		if u.Enabled {
			t.Fatalf("%s is ticked after refused passwords", u.Username)
		}
	}
}

func TestPagesNeverRenderTheAPIPasswordOnceSet(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	const apiPassword = "Secret2026Api"
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))
	b.submit(t, b.org+heroEmas+"/activate", nil)
	b.submit(t, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"set"},
		"api_password": {apiPassword}, "api_password_confirm": {apiPassword}})
	b.submit(t, b.org+heroEmas+"/login-access", url.Values{"user": {"Herouser"},
		"auto_login": {"Herouser"}, "allow_login": {"Herouser"}})
	// A refused change re-renders the form: still without the stored or the typed password.
	b.refused(t, http.StatusUnprocessableEntity, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"},
		"action": {"set"}, "api_password": {apiPassword + "x"}, "api_password_confirm": {apiPassword}})
	for _, path := range []string{"/", b.org + "/", b.org + usersPath, b.org + usersPath + "?search=Hero",
		b.org + usersPath + "/add", b.org + emasPage, b.org + emasPage + "?product=" + HeroProductKey,
		b.org + heroEmas + "/edit-users", b.org + heroEmas + "/edit-users?done=set&user=Herouser",
		b.org + heroEmas + "/login-access", b.org + slotsPath, b.org + "/appointments/book"} {
		b.get(t, http.StatusOK, path)
	}
	for _, body := range b.seen {
		mustNotContain(t, body, apiPassword, "EmisUser!2026")
	}
}

func TestPagesUserSearchFindsHeroUsersAndRepeatsTheGuidesWarning(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))
	for _, q := range []string{"Hero", "hero", "HEROUSER", "User, Hero"} {
		body := b.get(t, http.StatusOK, b.org+usersPath+"?search="+url.QueryEscape(q))
		row(t, body, "data-user", "Herouser")
		mustContain(t, body, "A Hero user already exists", "send Hero your ODS code ("+DemoODS+")", "Herouser1")
	}
	body := b.get(t, http.StatusOK, b.org+usersPath+"?search=nobody-like-this")
	mustContain(t, body, "No users match")
	mustNotContain(t, body, `data-user="Herouser"`, "already exists")
	// Without a search every user is listed, the practice's own among them.
	all := b.get(t, http.StatusOK, b.org+usersPath)
	if n := strings.Count(all, "<tr data-user="); n != len(b.demo(t).SearchUsers("")) {
		t.Fatalf("users list shows %d rows, want every user", n)
	}
}

func TestPagesAddUserShowsConflictAndValidationMessagesKeepingTypedValues(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))

	form := b.userForm("herouser", "Another!Pass1")
	body := b.refused(t, http.StatusConflict, b.org+usersPath+"/add", form)
	mustContain(t, body, `role="alert"`, "A user with username &#34;Herouser&#34; already exists",
		`name="username" value="herouser"`, `name="first_name" value="Hero"`, `name="mnemonic" value="HH"`,
		`<option value="Practice Manager SJR004" selected>`, `<option value="Manager" selected>`)
	mustNotContain(t, body, "Another!Pass1")
	if regexp.MustCompile(`name="must_change_password" value="on" checked`).MatchString(body) {
		t.Fatal("the unticked must-change-password box came back ticked")
	}

	form = b.userForm(" Herouser1", "Another!Pass1")
	body = b.refused(t, http.StatusUnprocessableEntity, b.org+usersPath+"/add", form)
	mustContain(t, body, "spaces at the start or end", `value=" Herouser1"`)

	form = b.userForm("Herouser1", "short")
	body = b.refused(t, http.StatusUnprocessableEntity, b.org+usersPath+"/add", form)
	mustContain(t, body, "Password must be at least 8 characters")

	form = b.userForm("Herouser1", "Another!Pass1")
	form.Set("contract_end", "2000-01-01")
	body = b.refused(t, http.StatusUnprocessableEntity, b.org+usersPath+"/add", form)
	mustContain(t, body, "is before contract_start")

	if got := b.demo(t).SearchUsers("herouser"); len(got) != 1 {
		t.Fatalf("refused forms created users: %v", got)
	}
}

func TestPagesRefuseCrossOriginPosts(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	path := b.org + heroEmas + "/activate"
	for name, h := range map[string]http.Header{
		"foreign Origin":         {"Origin": {"https://evil.example"}},
		"cross-site fetch":       {"Sec-Fetch-Site": {"cross-site"}},
		"same-site other origin": {"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://other.localhost"}},
	} {
		status, _, body := b.post(t, path, nil, h)
		if status != http.StatusForbidden {
			t.Fatalf("%s: status %d, want 403\n%s", name, status, body)
		}
		mustContain(t, body, "cross-origin")
	}
	if p, _ := b.demo(t).Product(HeroProductKey); p.Activated {
		t.Fatal("a cross-origin POST activated the product")
	}
	// The page's own origin is accepted.
	status, _, _ := b.post(t, path, nil, http.Header{"Origin": {b.srv.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if status != http.StatusSeeOther {
		t.Fatalf("same-origin POST: status %d, want 303", status)
	}
	// The admin JSON API is not behind the page's cross-origin check.
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/sandbox/v1/organisations", nil)
	req.Header.Set("Origin", "https://evil.example")
	if status, _, _ := b.do(t, req); status != http.StatusOK {
		t.Fatalf("admin API: status %d", status)
	}
}

func TestPagesUnknownOrganisationOrProductIsANotFoundPage(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	for _, path := range []string{"/emis/99999/", "/emis/abc/", "/emis/99999" + usersPath,
		"/emis/99999" + emasPage, b.org + emasPage + "?product=no-such-product",
		b.org + emasPage + "/no-such-product/edit-users", b.org + emasPage + "/no-such-product/login-access",
		b.org + "/no/such/page"} {
		body := b.get(t, http.StatusNotFound, path)
		mustContain(t, body, "Not found", "<html")
	}
	status, _, body := b.post(t, b.org+emasPage+"/no-such-product/activate", nil, nil)
	if status != http.StatusNotFound || !strings.Contains(body, "no-such-product") {
		t.Fatalf("activate unknown product: status %d\n%s", status, body)
	}
	b.refused(t, http.StatusNotFound, b.org+heroEmas+"/edit-users", url.Values{"username": {"nobody"},
		"action": {"set"}, "api_password": {"Abcdefg1"}, "api_password_confirm": {"Abcdefg1"}})
	// The organisation's bare path goes to its home.
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+b.org, nil)
	if status, h, _ := b.do(t, req); status != http.StatusMovedPermanently || h.Get("Location") != b.org+"/" {
		t.Fatalf("GET %s: status %d, Location %q", b.org, status, h.Get("Location"))
	}
}

func TestPagesLoginAccessExplainsUsersNotTickedInEditUsers(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))
	body := b.get(t, http.StatusOK, b.org+heroEmas+"/login-access")
	mustContain(t, body, "No user is ticked in", "is not activated")
	r := row(t, body, "data-user", "Herouser")
	mustContain(t, r, "Not ticked in", "Edit Users")
	mustNotContain(t, r, `name="auto_login"`)

	body = b.refused(t, http.StatusConflict, b.org+heroEmas+"/login-access", url.Values{"user": {"Herouser"},
		"auto_login": {"Herouser"}, "allow_login": {"Herouser"}})
	mustContain(t, body, "User, Hero (Herouser) is not ticked in Edit Users for Hero Health")

	// Ticked with only Allow Login: the page says both boxes are needed.
	b.submit(t, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"set"},
		"api_password": {"HeroApi2026pw"}, "api_password_confirm": {"HeroApi2026pw"}})
	body = b.submit(t, b.org+heroEmas+"/login-access", url.Values{"user": {"Herouser"}, "allow_login": {"Herouser"}})
	mustContain(t, row(t, body, "data-user", "Herouser"), "Tick both Auto Login and Allow Login")
	p, _ := b.demo(t).Product(HeroProductKey)
	for _, u := range p.Users {
		if u.Username == "Herouser" && (u.AutoLogin || !u.AllowLogin) {
			t.Fatalf("Login Access stored %+v, want Allow Login only", u)
		}
	}
}

func TestPagesUntickInEditUsersAndDeactivateStopLogon(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	const pw = "HeroApi2026pw"
	b.submit(t, b.org+usersPath+"/add", b.userForm("Herouser", "EmisUser!2026"))
	b.submit(t, b.org+heroEmas+"/activate", nil)
	b.submit(t, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"set"},
		"api_password": {pw}, "api_password_confirm": {pw}})
	b.submit(t, b.org+heroEmas+"/login-access", url.Values{"user": {"Herouser"},
		"auto_login": {"Herouser"}, "allow_login": {"Herouser"}})
	caller, _ := emis.NewCaller(emis.Config{BaseURL: b.srv.URL, SupplierID: DefaultSupplierID})
	creds := emis.Credentials{CDB: DemoCDB, Username: "Herouser", APIPassword: pw}
	if _, err := caller.Connect(context.Background(), creds); err != nil {
		t.Fatal(err)
	}

	body := b.submit(t, b.org+heroEmas+"/deactivate", nil)
	mustNotContain(t, row(t, body, "data-product", HeroProductKey), "✔")
	mustContain(t, body, "Hero Health deactivated")
	if _, err := caller.Connect(context.Background(), creds); err == nil {
		t.Fatal("logon succeeded with Hero Health deactivated")
	}
	b.submit(t, b.org+heroEmas+"/activate", nil)

	body = b.submit(t, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"untick"}})
	mustContain(t, body, "is no longer ticked")
	mustNotContain(t, row(t, body, "data-user", "Herouser"), "checked")
	if _, err := caller.Connect(context.Background(), creds); err == nil {
		t.Fatal("logon succeeded with the user unticked in Edit Users")
	}
	b.refused(t, http.StatusConflict, b.org+heroEmas+"/edit-users", url.Values{"username": {"Herouser"}, "action": {"untick"}})
}

func TestPagesSlotTypeFormShowsErrorsAndKeepsValues(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	form := b.get(t, http.StatusOK, b.org+slotsPath)
	mustContain(t, form, `name="colour" value="#ffeb3b"`, `name="bookable" value="on" checked`, "Routine GP appointment")

	body := b.refused(t, http.StatusConflict, b.org+slotsPath, url.Values{"name": {"routine gp appointment"},
		"colour": {"#123456"}})
	mustContain(t, body, `role="alert"`, "already exists", `value="routine gp appointment"`, `value="#123456"`)
	if regexp.MustCompile(`name="bookable" value="on" checked`).MatchString(body) {
		t.Fatal("the unticked bookable box came back ticked")
	}
	body = b.refused(t, http.StatusUnprocessableEntity, b.org+slotsPath, url.Values{"name": {"X"}, "colour": {"yellow"}})
	mustContain(t, body, "is not a #rrggbb colour")
	body = b.refused(t, http.StatusUnprocessableEntity, b.org+slotsPath, url.Values{"name": {"  "}, "colour": {"#ffeb3b"}})
	mustContain(t, body, "Name is required")

	body = b.submit(t, b.org+slotsPath, url.Values{"name": {"Not bookable block"}, "colour": {"#000000"}})
	mustContain(t, row(t, body, "data-slot-type", "6"), "Not bookable block", "<td>No</td>")
}

func TestPagesRefuseOversizedForms(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	big := url.Values{"name": {strings.Repeat("x", maxFormBytes+1)}, "colour": {"#ffeb3b"}}
	body := b.refused(t, http.StatusRequestEntityTooLarge, b.org+slotsPath, big)
	mustContain(t, body, "Form too large")
	if n := len(b.demo(t).ListSlotTypes()); n != 5 {
		t.Fatalf("%d slot types after an oversized form, want 5", n)
	}
}

func TestPagesAppointmentBookShowsADaysSessions(t *testing.T) {
	t.Parallel()
	b := setupPages(t)
	day := b.world.Today().AddDays(1)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDays(1)
	}
	sessions, err := b.demo(t).ListSessions(day, day, true)
	if err != nil || len(sessions) == 0 {
		t.Fatalf("no sessions on %s to show: %v", day, err)
	}
	body := b.get(t, http.StatusOK, b.org+"/appointments/book?date="+day.String())
	mustContain(t, body, day.String(), sessions[0].Name, sessions[0].Slots[0].StartTime, "background-color:#",
		"Appts config")
	if n := strings.Count(body, `class="slot"`); n != countSlots(sessions) {
		t.Fatalf("book shows %d slots, want %d", n, countSlots(sessions))
	}
	body = b.get(t, http.StatusUnprocessableEntity, b.org+"/appointments/book?date=2026-02-30")
	mustContain(t, body, "not a valid yyyy-mm-dd date", "showing today instead")
}

func countSlots(ss []SessionView) int {
	n := 0
	for _, s := range ss {
		n += len(s.Slots)
	}
	return n
}
