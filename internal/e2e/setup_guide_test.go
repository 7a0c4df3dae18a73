package e2e_test

import (
	"testing"

	"herolink/internal/browsertest"
	"herolink/internal/emis/sandbox"
)

// The guide's values (/work/shared/seed/emis-setup-guide.txt) for Oakfield Surgery, the demo
// practice nobody has set up.
const (
	emisUserPassword = "Oakfield2026user" // chosen when Herouser is created (Step 1)
	apiPassword      = "Oakfield2026api"  // set in EMAS Manager → Edit Users (Step 2)
)

// TestAPracticeManagerFollowsTheSetupGuideByClicksThenConnectsOnTheConnectionForm walks the
// setup guide in the sandbox's "EMIS Web" pages, by clicks, for Oakfield Surgery; then connects
// it on herolink's connection form, first with the EMIS user password (the mistake the guide
// warns about: the diagnosis must say so), then with the API password. Every page is audited.
func TestAPracticeManagerFollowsTheSetupGuideByClicksThenConnectsOnTheConnectionForm(t *testing.T) {
	pr := browsertest.StartProduct(t)
	p := browsertest.Open(t, pr.SandboxURL+"/", browsertest.DesktopWidth)

	p.MustSee("Organisations", sandbox.SecondDemoName)
	p.Audit("sandbox-organisations")
	p.Click(sandbox.SecondDemoName)
	p.MustSee("Hero Health setup guide: progress")
	p.Audit("sandbox-home")

	// Step 1: EMIS ball → Configuration → Organisation Configuration → Users; search for Hero.
	p.Within("header").Toggle("EMIS ball")
	p.Within(".ball-menu").Click("Users")
	p.Fill("Search", "Hero")
	p.Click("Search")
	p.MustSee(`No users match “Hero”`)
	p.Audit("sandbox-users-search")
	p.Toggle("Add ▾")
	p.Click("Add new user")
	p.Audit("sandbox-add-user")
	p.Select("Title", "Mr")
	p.Fill("First name", "Hero")
	p.Fill("Last name", "User")
	p.Select("Gender", "Not specified")
	p.Fill("Email", "hero.user@example.nhs.uk")
	p.Fill("Username", "Herouser")
	p.Fill("Password", emisUserPassword)
	p.Uncheck("User must change password on next sign in")
	p.Select("Job Category", "Manager")
	p.Fill("User Mnemonic", "HH")
	p.Select("Authorise Prescriptions", "None")
	p.Select("Relationship", "Associated")
	p.Fill("Contract end date", "")
	p.Select("RBAC role", "Practice Manager SJR004")
	p.Click("OK")
	p.MustSee("Herouser", "User, Hero", "Practice Manager SJR004")
	p.Audit("sandbox-users")

	// Step 2: EMIS ball → System Tools → EMAS Manager; select Hero Health; Activate Application.
	p.Within("header").Toggle("EMIS ball")
	p.Within(".ball-menu").Click("EMAS Manager")
	p.Click("Hero Health")
	p.Click("Activate Application")
	p.MustSee("Activated. Next: Edit Users")
	p.Audit("sandbox-emas-manager")

	// Edit Users: tick Herouser and set the API password.
	p.Within(".toolbar").Click("Edit Users")
	p.MustSee("The password entered here is the API password.")
	row := p.Within(`tr[data-user="Herouser"]`)
	row.Fill("API password for", apiPassword)
	row.Fill("Confirm API password for", apiPassword)
	row.Click("Tick and set password")
	p.Audit("sandbox-edit-users")

	// Login Access: Auto Login and Allow Login for User, Hero.
	p.Click("Back to EMAS Manager")
	p.Within(".toolbar").Click("Login Access")
	row = p.Within(`tr[data-user="Herouser"]`)
	row.Check("Auto Login for")
	row.Check("Allow Login for")
	p.Click("OK")
	p.Audit("sandbox-emas-after-login-access")

	// The "Hero unregistered patient" slot type: Appointments → Appts config → Slot types → Add.
	p.Within("header").Toggle("EMIS ball")
	p.Within(".ball-menu").Click("Slot types")
	p.Fill("Name", "Hero unregistered patient")
	p.Click("Add")
	p.MustSee("Hero unregistered patient")
	p.Audit("sandbox-slot-types")
	p.Within(".crumbs").Click("EMIS ball")
	p.MustNotSee("Not done")
	p.Audit("sandbox-home-done")

	// herolink's connection form, first with the EMIS user password: the diagnosis says so.
	h := browsertest.NewPage(t, browsertest.DesktopWidth)
	pr.SignInAsSupport(h)
	h.Click("Connection form")
	h.Audit("connect-form")
	h.Fill("ODS code", sandbox.SecondDemoODS)
	h.Fill("EMIS username", "Herouser")
	h.Fill("API password", emisUserPassword)
	h.Click("Test and connect")
	h.MustSee("Not connected",
		"You entered the EMIS user password (chosen when the user was created in Step 1). This form needs the API password, the one entered in EMAS Manager → Edit Users in Step 2.")
	h.Audit("connect-diagnosis")

	// Then with the API password: connected.
	h.Fill("ODS code", sandbox.SecondDemoODS)
	h.Fill("EMIS username", "Herouser")
	h.Fill("API password", apiPassword)
	h.Click("Test and connect")
	h.MustSee("Connected", "EMIS accepted the details")
	h.Audit("connect-connected")
	h.Click("Go to the practice's page")
	h.MustSee(sandbox.SecondDemoName)
	h.Audit("practice-connected")
}
