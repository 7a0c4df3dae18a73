package sandbox

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"herolink/internal/emis"
)

// The HTML pages let a person follow the setup guide by hand, along the guide's own paths:
// EMIS ball -> Configuration -> Organisation Configuration -> Users, System Tools -> EMAS
// Manager, Appointments -> Appts config -> Slot types, and the appointment book. They are
// plain forms: no JavaScript, no external assets, POST protected against cross-origin
// requests. Secrets typed into them (EMIS user passwords, API passwords) are never rendered.

//go:embed templates/*.html
var templateFS embed.FS

// maxFormBytes bounds a page's form body; the largest form (Add new user) is well under 4 KiB.
const maxFormBytes = 64 << 10

var pageFuncs = template.FuncMap{
	// swatch is a slot type's colour as an inline style, only for a valid #rrggbb colour.
	"swatch": func(colour string) template.CSS {
		if !validColour(colour) {
			return ""
		}
		return template.CSS("background-color:" + colour)
	},
	"listName": func(first, last string) string { return last + ", " + first },
	"inc":      func(i int) int { return i + 1 },
}

// pageTemplates holds one template set per page: the shared layout plus the page's content.
var pageTemplates = func() map[string]*template.Template {
	names := []string{"orgs", "home", "users", "user_add", "emas", "edit_users", "login_access",
		"slot_types", "book", "error"}
	out := make(map[string]*template.Template, len(names))
	for _, n := range names {
		out[n] = template.Must(template.New(n).Funcs(pageFuncs).ParseFS(templateFS,
			"templates/layout.html", "templates/"+n+".html"))
	}
	return out
}()

// Choices of the Add new user form. Values outside them typed by an earlier submission are kept.
var (
	userTitles         = []string{"", "Mr", "Mrs", "Miss", "Ms", "Mx", "Dr", "Prof"}
	userJobCategories  = []string{"", "Manager", "Administrator", "Receptionist", "General Medical Practitioner", "Practice Nurse", "Healthcare Assistant", "Pharmacist"}
	userPrescribing    = []string{"None", "All"}
	userRelationships  = []string{"", "Associated", "Employee", "Partner", "Locum"}
	rbacRoleChoices    = sortedRoles()
	defaultSlotColour  = "#ffeb3b"
	heroSlotTypeName   = "Hero unregistered patient"
	pageSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'"
)

func sortedRoles() []string {
	out := []string{""}
	for r := range Roles {
		out = append(out, r)
	}
	sort.Strings(out[1:])
	return out
}

// withValue returns choices, plus v at the end when v is not among them.
func withValue(choices []string, v string) []string {
	if slices.Contains(choices, v) {
		return choices
	}
	return append(slices.Clone(choices), v)
}

// crumb is one step of the breadcrumbs; the last one, or one without Href, is plain text.
type crumb struct {
	Label string
	Href  string
}

// pageBase is what the layout needs: embedded by every page's data.
type pageBase struct {
	Title  string
	Org    *OrgView // nil outside an organisation
	Base   string   // "/emis/{cdb}"
	Crumbs []crumb
	Notice string // a confirmation after a redirect
	Error  string // what went wrong, shown prominently
}

func orgBase(o *Org) string { return fmt.Sprintf("/emis/%d", o.CDB) }

// base starts a page of an organisation; the breadcrumbs begin at the EMIS ball.
func base(o *Org, title string, crumbs ...crumb) pageBase {
	b := pageBase{Title: title}
	if o != nil {
		v := o.view()
		b.Org, b.Base = &v, orgBase(o)
		b.Crumbs = append([]crumb{{Label: "EMIS ball", Href: b.Base + "/"}}, crumbs...)
	}
	return b
}

func (s *Server) routePages() {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.errorPage(rw, nil, http.StatusForbidden, "Request refused",
			"This form was submitted from another site, so it was refused (cross-origin request). Open the page in the sandbox itself and submit it again.")
	}))
	handle := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, csrf.Handler(h)) }
	org := func(pattern string, h func(http.ResponseWriter, *http.Request, *Org)) {
		handle(pattern, s.withOrg(h))
	}
	const (
		users = "/emis/{cdb}/configuration/organisation/users"
		emas  = "/emis/{cdb}/system-tools/emas-manager"
		slots = "/emis/{cdb}/appointments/appts-config/slot-types"
	)

	handle("GET /{$}", s.orgsPage)
	handle("GET /emis/{cdb}", func(rw http.ResponseWriter, r *http.Request) {
		if _, err := s.orgOf(r); err != nil {
			s.notFound(rw, nil, err)
			return
		}
		http.Redirect(rw, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	org("GET /emis/{cdb}/{$}", s.homePage)
	org("GET /emis/{cdb}/{rest...}", func(rw http.ResponseWriter, r *http.Request, o *Org) {
		s.errorPage(rw, o, http.StatusNotFound, "Not found",
			"There is no page at "+r.URL.Path+". Use the EMIS ball menu to find your way.")
	})

	org("GET "+users, s.usersPage)
	org("GET "+users+"/add", s.addUserPage)
	org("POST "+users+"/add", s.addUserSubmit)

	org("GET "+emas, s.emasPage)
	org("POST "+emas+"/{key}/activate", s.emasActivate(true))
	org("POST "+emas+"/{key}/deactivate", s.emasActivate(false))
	org("GET "+emas+"/{key}/edit-users", s.editUsersPage)
	org("POST "+emas+"/{key}/edit-users", s.editUsersSubmit)
	org("GET "+emas+"/{key}/login-access", s.loginAccessPage)
	org("POST "+emas+"/{key}/login-access", s.loginAccessSubmit)

	org("GET "+slots, s.slotTypesPage)
	org("POST "+slots, s.slotTypesSubmit)

	org("GET /emis/{cdb}/appointments/book", s.bookPage)
}

// withOrg resolves {cdb}; an unknown organisation is a 404 page.
func (s *Server) withOrg(h func(http.ResponseWriter, *http.Request, *Org)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		o, err := s.orgOf(r)
		if err != nil {
			s.notFound(rw, nil, err)
			return
		}
		h(rw, r, o)
	}
}

// render executes a page into memory first, so a template failure never sends half a page.
func (s *Server) render(rw http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("sandbox page: render failed", "page", name, "err", err)
		http.Error(rw, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

type errorData struct {
	pageBase
	Status  int
	Message string
}

func (s *Server) errorPage(rw http.ResponseWriter, o *Org, status int, title, msg string) {
	d := errorData{pageBase: base(o, title), Status: status, Message: msg}
	if o != nil {
		d.Crumbs = append(d.Crumbs, crumb{Label: title})
	}
	s.render(rw, status, "error", d)
}

func (s *Server) notFound(rw http.ResponseWriter, o *Org, err error) {
	s.errorPage(rw, o, http.StatusNotFound, "Not found", upperFirst(err.Error())+".")
}

// failPage shows an error the forms do not handle themselves: not found, or unexpected.
func (s *Server) failPage(rw http.ResponseWriter, o *Org, err error) {
	if errors.Is(err, ErrNotFound) {
		s.notFound(rw, o, err)
		return
	}
	if status, msg, ok := formError(err); ok {
		s.errorPage(rw, o, status, "Not possible", msg)
		return
	}
	s.log.Error("sandbox page: unexpected error", "err", err)
	s.errorPage(rw, o, http.StatusInternalServerError, "Something went wrong", "Internal error: "+err.Error())
}

// formError says whether err is one a form shows next to its fields, and with which status.
func formError(err error) (status int, msg string, ok bool) {
	var ve *ValidationError
	var ce *ConflictError
	var oe *OutcomeError
	switch {
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, upperFirst(ve.Msg), true
	case errors.As(err, &ce):
		return http.StatusConflict, upperFirst(ce.Msg), true
	case errors.As(err, &oe):
		return http.StatusConflict, upperFirst(oe.Msg), true
	}
	return 0, "", false
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// parseForm reads a urlencoded form body of bounded size; on failure it has answered.
func (s *Server) parseForm(rw http.ResponseWriter, r *http.Request, o *Org) bool {
	r.Body = http.MaxBytesReader(rw, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.errorPage(rw, o, http.StatusRequestEntityTooLarge, "Form too large",
				fmt.Sprintf("The form sent more than %d KiB; nothing was changed.", maxFormBytes>>10))
			return false
		}
		s.errorPage(rw, o, http.StatusBadRequest, "Bad form", "The form could not be read; nothing was changed.")
		return false
	}
	return true
}

func seeOther(rw http.ResponseWriter, r *http.Request, path string, q url.Values) {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(rw, r, path, http.StatusSeeOther)
}

// The organisation list and the organisation's home (the EMIS ball menu).

type orgsData struct {
	pageBase
	Orgs []OrgView
}

func (s *Server) orgsPage(rw http.ResponseWriter, r *http.Request) {
	d := orgsData{pageBase: base(nil, "Organisations")}
	for _, o := range s.world.Orgs() {
		d.Orgs = append(d.Orgs, o.view())
	}
	s.render(rw, http.StatusOK, "orgs", d)
}

// guideStep is one line of the home page's progress through the setup guide.
type guideStep struct {
	Done bool
	Text string
	Href string
}

type homeData struct {
	pageBase
	Steps []guideStep
}

func (s *Server) homePage(rw http.ResponseWriter, r *http.Request, o *Org) {
	d := homeData{pageBase: base(o, "EMIS Web")}
	d.Crumbs = d.Crumbs[:1]
	d.Crumbs[0].Href = ""
	var heroUsers []string
	for _, u := range o.SearchUsers("herouser") {
		heroUsers = append(heroUsers, u.Username)
	}
	step1 := guideStep{Done: len(heroUsers) > 0, Href: d.Base + "/configuration/organisation/users?search=Hero",
		Text: "Create the EMIS user Herouser (Configuration → Organisation Configuration → Users)"}
	if len(heroUsers) > 0 {
		step1.Text = "EMIS user created: " + strings.Join(heroUsers, ", ")
	}
	d.Steps = append(d.Steps, step1)
	if p, err := o.Product(HeroProductKey); err == nil {
		emas := d.Base + "/system-tools/emas-manager"
		d.Steps = append(d.Steps, guideStep{Done: p.Activated, Href: emas + "?product=" + HeroProductKey,
			Text: "Activate " + p.Name + " in EMAS Manager (System Tools → EMAS Manager)"})
		var ticked, both bool
		for _, u := range p.Users {
			ticked = ticked || u.Enabled
			both = both || (u.Enabled && u.AutoLogin && u.AllowLogin)
		}
		d.Steps = append(d.Steps,
			guideStep{Done: ticked, Href: emas + "/" + HeroProductKey + "/edit-users",
				Text: "Tick the user in Edit Users and set the API password"},
			guideStep{Done: both, Href: emas + "/" + HeroProductKey + "/login-access",
				Text: "Tick Auto Login and Allow Login in Login Access"})
	}
	hasSlotType := false
	for _, t := range o.ListSlotTypes() {
		hasSlotType = hasSlotType || strings.EqualFold(t.Name, heroSlotTypeName)
	}
	d.Steps = append(d.Steps, guideStep{Done: hasSlotType, Href: d.Base + "/appointments/appts-config/slot-types",
		Text: "Add the \"" + heroSlotTypeName + "\" slot type (Appointments → Appts config → Slot types)"})
	s.render(rw, http.StatusOK, "home", d)
}

// Configuration -> Organisation Configuration -> Users.

func usersCrumbs(o *Org, more ...crumb) []crumb {
	return append([]crumb{{Label: "Configuration"}, {Label: "Organisation Configuration"},
		{Label: "Users", Href: orgBase(o) + "/configuration/organisation/users"}}, more...)
}

type usersData struct {
	pageBase
	Search    string
	Users     []User
	HeroFound []string // usernames like Herouser found by the search: the guide says stop
	Created   string
}

func (s *Server) usersPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	q := r.URL.Query()
	d := usersData{pageBase: base(o, "Users", usersCrumbs(o)...), Search: q.Get("search")}
	d.Users = o.SearchUsers(d.Search)
	if c := q.Get("created"); c != "" {
		if u, err := o.GetUser(c); err == nil {
			d.Created = u.Username
			d.Notice = fmt.Sprintf("User %s, %s (%s) created.", u.LastName, u.FirstName, u.Username)
		}
	}
	if strings.TrimSpace(d.Search) != "" && d.Created == "" {
		for _, u := range d.Users {
			if strings.HasPrefix(strings.ToLower(u.Username), "herouser") {
				d.HeroFound = append(d.HeroFound, u.Username)
			}
		}
	}
	s.render(rw, http.StatusOK, "users", d)
}

// userForm is what the Add new user form shows: never the password.
type userForm struct {
	Title, FirstName, LastName, Gender, Email, Username string
	MustChangePassword                                  bool
	JobCategory, Mnemonic, AuthorisePrescriptions       string
	Relationship, ContractStart, ContractEnd, RBACRole  string
}

type addUserData struct {
	pageBase
	Form                                                   userForm
	Titles, Genders, JobCategories, Prescribing, Relations []string
	Roles                                                  []string
}

func (s *Server) renderAddUser(rw http.ResponseWriter, status int, o *Org, f userForm, errMsg string) {
	d := addUserData{pageBase: base(o, "Add new user", usersCrumbs(o, crumb{Label: "Add new user"})...),
		Form: f, Titles: withValue(userTitles, f.Title), Genders: genders,
		JobCategories: withValue(userJobCategories, f.JobCategory),
		Prescribing:   withValue(userPrescribing, f.AuthorisePrescriptions),
		Relations:     withValue(userRelationships, f.Relationship), Roles: withValue(rbacRoleChoices, f.RBACRole)}
	d.Error = errMsg
	s.render(rw, status, "user_add", d)
}

func (s *Server) addUserPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	s.renderAddUser(rw, http.StatusOK, o, userForm{Gender: "Not specified", MustChangePassword: true,
		AuthorisePrescriptions: "None", ContractStart: s.world.Today().String()}, "")
}

func (s *Server) addUserSubmit(rw http.ResponseWriter, r *http.Request, o *Org) {
	if !s.parseForm(rw, r, o) {
		return
	}
	pf := r.PostForm
	f := userForm{Title: pf.Get("title"), FirstName: pf.Get("first_name"), LastName: pf.Get("last_name"),
		Gender: pf.Get("gender"), Email: pf.Get("email"), Username: pf.Get("username"),
		MustChangePassword: pf.Get("must_change_password") != "",
		JobCategory:        pf.Get("job_category"), Mnemonic: pf.Get("mnemonic"),
		AuthorisePrescriptions: pf.Get("authorise_prescriptions"), Relationship: pf.Get("relationship"),
		ContractStart: pf.Get("contract_start"), ContractEnd: pf.Get("contract_end"), RBACRole: pf.Get("rbac_role")}
	password := pf.Get("password") // exactly as typed: the model says what is wrong with it
	in := f                        // the input points into a copy, so the form shown again keeps what was typed
	u, err := o.CreateUser(UserInput{Title: &in.Title, FirstName: &in.FirstName, LastName: &in.LastName,
		Gender: &in.Gender, Email: &in.Email, Username: &in.Username, Password: &password,
		MustChangePassword: &in.MustChangePassword, JobCategory: &in.JobCategory, Mnemonic: &in.Mnemonic,
		AuthorisePrescriptions: &in.AuthorisePrescriptions, Relationship: &in.Relationship,
		ContractStart: &in.ContractStart, ContractEnd: &in.ContractEnd, RBACRole: &in.RBACRole})
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			s.failPage(rw, o, err)
			return
		}
		s.renderAddUser(rw, status, o, f, msg+" The user was not created; enter the password again.")
		return
	}
	seeOther(rw, r, orgBase(o)+"/configuration/organisation/users",
		url.Values{"search": {u.Username}, "created": {u.Username}})
}

// System Tools -> EMAS Manager.

func emasPath(o *Org) string { return orgBase(o) + "/system-tools/emas-manager" }

func emasCrumbs(o *Org, p *ProductView, more ...crumb) []crumb {
	out := []crumb{{Label: "System Tools"}, {Label: "EMAS Manager", Href: emasPath(o)}}
	if p != nil {
		out = append(out, crumb{Label: p.Name, Href: emasPath(o) + "?product=" + url.QueryEscape(p.Key)})
	}
	return append(out, more...)
}

type emasData struct {
	pageBase
	Products []ProductView
	Selected *ProductView
}

func (s *Server) emasPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	q := r.URL.Query()
	d := emasData{Products: o.ListProducts()}
	if key := q.Get("product"); key != "" {
		for i := range d.Products {
			if d.Products[i].Key == key {
				d.Selected = &d.Products[i]
			}
		}
		if d.Selected == nil {
			s.notFound(rw, o, fmt.Errorf("partner product %q: %w", key, ErrNotFound))
			return
		}
	}
	d.pageBase = base(o, "EMAS Manager", emasCrumbs(o, d.Selected)...)
	if d.Selected != nil {
		switch q.Get("done") {
		case "activated":
			d.Notice = d.Selected.Name + " activated: the green tick shows the application is active."
		case "deactivated":
			d.Notice = d.Selected.Name + " deactivated: logons stop and open sessions end. Edit Users and Login Access settings are kept; click Activate Application to restore them."
		}
	}
	s.render(rw, http.StatusOK, "emas", d)
}

func (s *Server) emasActivate(on bool) func(http.ResponseWriter, *http.Request, *Org) {
	return func(rw http.ResponseWriter, r *http.Request, o *Org) {
		key := r.PathValue("key")
		var err error
		done := "activated"
		if on {
			err = o.Activate(key)
		} else {
			err, done = o.Deactivate(key), "deactivated"
		}
		if err != nil {
			s.failPage(rw, o, err)
			return
		}
		seeOther(rw, r, emasPath(o), url.Values{"product": {key}, "done": {done}})
	}
}

type editUsersData struct {
	pageBase
	Product   ProductView
	ErrorUser string // the row the error is about
}

func (s *Server) renderEditUsers(rw http.ResponseWriter, status int, o *Org, key, notice, errMsg, errUser string) {
	p, err := o.Product(key)
	if err != nil {
		s.failPage(rw, o, err)
		return
	}
	d := editUsersData{pageBase: base(o, "Edit Users", emasCrumbs(o, &p, crumb{Label: "Edit Users"})...),
		Product: p, ErrorUser: errUser}
	d.Notice, d.Error = notice, errMsg
	s.render(rw, status, "edit_users", d)
}

func (s *Server) editUsersPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	key, q := r.PathValue("key"), r.URL.Query()
	notice := ""
	if p, err := o.Product(key); err == nil {
		for _, u := range p.Users {
			if u.Username != q.Get("user") {
				continue
			}
			switch q.Get("done") {
			case "set":
				if u.Enabled {
					notice = fmt.Sprintf("%s (%s) is ticked for %s and the API password is set. Enter it on the Hero connection form now: it cannot be viewed again.", u.DisplayName, u.Username, p.Name)
				}
			case "cleared":
				if !u.Enabled {
					notice = fmt.Sprintf("%s (%s) is no longer ticked for %s: the user cannot log on to it.", u.DisplayName, u.Username, p.Name)
				}
			}
		}
	}
	s.renderEditUsers(rw, http.StatusOK, o, key, notice, "", "")
}

func (s *Server) editUsersSubmit(rw http.ResponseWriter, r *http.Request, o *Org) {
	key := r.PathValue("key")
	if !s.parseForm(rw, r, o) {
		return
	}
	username := r.PostForm.Get("username")
	p, err := o.Product(key)
	if err != nil {
		s.failPage(rw, o, err)
		return
	}
	if _, err := o.GetUser(username); err != nil {
		s.failPage(rw, o, err)
		return
	}
	display := username
	for _, u := range p.Users {
		if u.Username == username {
			display = u.DisplayName
		}
	}
	page := emasPath(o) + "/" + url.PathEscape(key) + "/edit-users"
	switch r.PostForm.Get("action") {
	case "set":
		pw, confirm := r.PostForm.Get("api_password"), r.PostForm.Get("api_password_confirm")
		if pw != confirm {
			s.renderEditUsers(rw, http.StatusUnprocessableEntity, o, key, "",
				"The API password and its confirmation for "+display+" do not match. Nothing was changed; type both again.", username)
			return
		}
		if err := o.SetAPIPassword(key, username, pw); err != nil {
			status, msg, ok := formError(err)
			if !ok {
				s.failPage(rw, o, err)
				return
			}
			s.renderEditUsers(rw, status, o, key, "", msg+". Nothing was changed for "+display+".", username)
			return
		}
		seeOther(rw, r, page, url.Values{"done": {"set"}, "user": {username}})
	case "untick":
		if err := o.ClearAPIPassword(key, username); err != nil {
			if errors.Is(err, ErrNotFound) {
				s.renderEditUsers(rw, http.StatusConflict, o, key, "", display+" is not ticked in Edit Users; nothing to untick.", username)
				return
			}
			s.failPage(rw, o, err)
			return
		}
		seeOther(rw, r, page, url.Values{"done": {"cleared"}, "user": {username}})
	default:
		s.errorPage(rw, o, http.StatusBadRequest, "Bad form", "Edit Users needs action set or untick; nothing was changed.")
	}
}

type loginAccessData struct {
	pageBase
	Product ProductView
	Ticked  int
}

func (s *Server) renderLoginAccess(rw http.ResponseWriter, status int, o *Org, key, notice, errMsg string) {
	p, err := o.Product(key)
	if err != nil {
		s.failPage(rw, o, err)
		return
	}
	d := loginAccessData{pageBase: base(o, "Login Access", emasCrumbs(o, &p, crumb{Label: "Login Access"})...), Product: p}
	for _, u := range p.Users {
		if u.Enabled {
			d.Ticked++
		}
	}
	d.Notice, d.Error = notice, errMsg
	s.render(rw, status, "login_access", d)
}

func (s *Server) loginAccessPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	notice := ""
	if r.URL.Query().Get("done") == "saved" {
		notice = "Login Access saved."
	}
	s.renderLoginAccess(rw, http.StatusOK, o, r.PathValue("key"), notice, "")
}

func (s *Server) loginAccessSubmit(rw http.ResponseWriter, r *http.Request, o *Org) {
	key := r.PathValue("key")
	if !s.parseForm(rw, r, o) {
		return
	}
	p, err := o.Product(key)
	if err != nil {
		s.failPage(rw, o, err)
		return
	}
	rows := map[string]ProductUserView{}
	for _, u := range p.Users {
		rows[u.Username] = u
	}
	auto, allow := r.PostForm["auto_login"], r.PostForm["allow_login"]
	users := r.PostForm["user"]
	// Check every row first, so a refused form changes nothing.
	for _, name := range users {
		u, found := rows[name]
		if !found {
			s.renderLoginAccess(rw, http.StatusUnprocessableEntity, o, key, "",
				fmt.Sprintf("There is no user %q in this organisation. Nothing was changed.", name))
			return
		}
		if !u.Enabled {
			s.renderLoginAccess(rw, http.StatusConflict, o, key, "",
				fmt.Sprintf("%s (%s) is not ticked in Edit Users for %s: tick the user there and set an API password first. Nothing was changed.", u.DisplayName, u.Username, p.Name))
			return
		}
	}
	for _, name := range users {
		if err := o.SetLoginAccess(key, name, slices.Contains(auto, name), slices.Contains(allow, name)); err != nil {
			status, msg, ok := formError(err)
			if !ok {
				s.failPage(rw, o, err)
				return
			}
			s.renderLoginAccess(rw, status, o, key, "", msg)
			return
		}
	}
	seeOther(rw, r, emasPath(o)+"/"+url.PathEscape(key)+"/login-access", url.Values{"done": {"saved"}})
}

// Appointments -> Appts config -> Slot types.

type slotTypeForm struct {
	Name, Colour string
	Bookable     bool
}

type slotTypesData struct {
	pageBase
	SlotTypes []SlotType
	Form      slotTypeForm
	Added     int
}

func (s *Server) renderSlotTypes(rw http.ResponseWriter, status int, o *Org, f slotTypeForm, added int, errMsg string) {
	d := slotTypesData{pageBase: base(o, "Slot types", crumb{Label: "Appointments"},
		crumb{Label: "Appts config", Href: orgBase(o) + "/appointments/appts-config/slot-types"}, crumb{Label: "Slot types"}),
		SlotTypes: o.ListSlotTypes(), Form: f}
	for _, t := range d.SlotTypes {
		if added != 0 && t.ID == added {
			d.Added = added
			d.Notice = fmt.Sprintf("Slot type %q added.", t.Name)
		}
	}
	d.Error = errMsg
	s.render(rw, status, "slot_types", d)
}

func (s *Server) slotTypesPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	var added int
	_, _ = fmt.Sscan(r.URL.Query().Get("added"), &added)
	s.renderSlotTypes(rw, http.StatusOK, o, slotTypeForm{Colour: defaultSlotColour, Bookable: true}, added, "")
}

func (s *Server) slotTypesSubmit(rw http.ResponseWriter, r *http.Request, o *Org) {
	if !s.parseForm(rw, r, o) {
		return
	}
	f := slotTypeForm{Name: r.PostForm.Get("name"), Colour: r.PostForm.Get("colour"),
		Bookable: r.PostForm.Get("bookable") != ""}
	in := f
	t, err := o.AddSlotType(SlotTypeInput{Name: &in.Name, Colour: &in.Colour, Bookable: &in.Bookable})
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			s.failPage(rw, o, err)
			return
		}
		if !validColour(f.Colour) {
			f.Colour = defaultSlotColour // the colour picker cannot show an invalid value
		}
		s.renderSlotTypes(rw, status, o, f, 0, msg+". The slot type was not added.")
		return
	}
	seeOther(rw, r, orgBase(o)+"/appointments/appts-config/slot-types", url.Values{"added": {fmt.Sprint(t.ID)}})
}

// Appointments -> the appointment book, one day.

type bookSlot struct {
	Time, Type, Colour, Status, Patient, Reason, Notes string
	Length                                             int
}

type bookSession struct {
	Name, Holders, Site, Start, End string
	Slots                           []bookSlot
}

type bookData struct {
	pageBase
	Date, Weekday, Prev, Next, Today string
	Sessions                         []bookSession
	SlotTypes                        []SlotType
}

func (s *Server) bookPage(rw http.ResponseWriter, r *http.Request, o *Org) {
	today := s.world.Today()
	day, status, errMsg := today, http.StatusOK, ""
	if v := r.URL.Query().Get("date"); v != "" {
		parsed, err := emis.ParseDate(v)
		if err != nil {
			status, errMsg = http.StatusUnprocessableEntity, upperFirst(err.Error())+"; showing today instead."
		} else {
			day = parsed
		}
	}
	d := bookData{pageBase: base(o, "Appointment book", crumb{Label: "Appointments"}, crumb{Label: "Appointment book"}),
		Date: day.String(), Weekday: day.Weekday().String(), Prev: day.AddDays(-1).String(),
		Next: day.AddDays(1).String(), Today: today.String(), SlotTypes: o.ListSlotTypes()}
	d.Error = errMsg
	colours := map[int]string{}
	for _, t := range d.SlotTypes {
		colours[t.ID] = t.Colour
	}
	sessions, err := o.ListSessions(day, day, true)
	if err != nil {
		s.failPage(rw, o, err)
		return
	}
	for _, sv := range sessions {
		bs := bookSession{Name: sv.Name, Site: sv.Site.Name, Start: sv.StartTime, End: sv.EndTime}
		var holders []string
		for _, h := range sv.Holders {
			holders = append(holders, strings.TrimSpace(h.Title+" "+h.FirstNames+" "+h.LastName))
		}
		bs.Holders = strings.Join(holders, ", ")
		for _, sl := range sv.Slots {
			b := bookSlot{Time: sl.StartTime, Length: sl.SlotLength, Type: sl.Type.Description,
				Colour: colours[sl.Type.TypeID], Status: sl.Status, Reason: sl.Reason, Notes: sl.Notes}
			if len(sl.Patients) > 0 {
				p := sl.Patients[0]
				b.Patient = strings.ToUpper(p.FamilyName) + ", " + p.FirstNames
			}
			bs.Slots = append(bs.Slots, b)
		}
		d.Sessions = append(d.Sessions, bs)
	}
	s.render(rw, status, "book", d)
}
