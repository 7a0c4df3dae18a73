package web

import (
	"context"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

// TestPasswordsNeverAppearInAnyResponse drives the whole connection flow (failures, space
// warnings, a live connection, replacement, check now, credentials refused later) and then
// looks for the EMIS passwords in every response body and header, and in the logs.
func TestPasswordsNeverAppearInAnyResponse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const freshAPIPw = "Fresh2026api"
	ctx := context.Background()
	ada := b.signedIn(t, "ada", store.RoleSupport, 0)

	// Failures: the EMIS user password, a wrong capitalisation, a bad ODS code with a password.
	mustSay(t, ada.connect(demoODS, "Herouser", demoUserPw), "You entered the EMIS user password")
	mustSay(t, ada.connect(demoODS, "Herouser", strings.ToUpper(demoAPIPw)), "capitals do not match")
	mustSay(t, ada.connect("A8100", "Herouser", demoAPIPw), "is not a GP practice ODS code")
	mustSay(t, ada.connect(demoODS, "", demoAPIPw), "Enter the EMIS username")

	// Spaces: kept as typed (fails), then removed (connects).
	stop := ada.connect(demoODS, "Herouser", demoAPIPw+" ")
	mustSay(t, ada.followUp(stop, "step", "spaces", "spaces", "keep"), "space at the start or end")
	stop = ada.connect(demoODS, "Herouser", " "+demoAPIPw+" ")
	mustSay(t, ada.followUp(stop, "step", "spaces", "spaces", "remove"), "Connected")
	p, err := b.store.PracticeByODS(ctx, demoODS)
	if err != nil {
		t.Fatal(err)
	}

	// A live connection: stopped, unconfirmed, replaced with a wrong then a right password,
	// via a space warning on the way.
	stop = ada.connect(demoODS, "Herouser", demoUserPw)
	unticked := ada.followUp(stop, "step", "replace")
	mustSay(t, ada.followUp(unticked, "step", "replace", "confirm", "yes"), "The connection in force is unchanged")
	stop = ada.connect(demoODS, "Herouser", demoAPIPw+" ")
	stop = ada.followUp(stop, "step", "spaces", "spaces", "remove")
	mustSay(t, stop, "is already connected")
	mustSay(t, ada.followUp(stop, "step", "replace", "confirm", "yes"), "Connected")

	// Check now, with and without htmx; the pages; then EMIS refuses the stored password.
	ada.post(practicePath(p.ID)+"/check", url.Values{})
	ada.send(http.MethodPost, practicePath(p.ID)+"/check", url.Values{}, http.Header{"Hx-Request": {"true"}})
	ada.get("/admin/")
	if err := b.demo.SetAPIPassword(sandbox.HeroProductKey, "Herouser", freshAPIPw); err != nil {
		t.Fatal(err)
	}
	ada.post(practicePath(p.ID)+"/check", url.Values{})
	mustSay(t, ada.get(practicePath(p.ID)), "waiting for new credentials")
	ada.post(practicePath(p.ID)+"/check", url.Values{})
	stop = ada.connect(demoODS, "Herouser", freshAPIPw)
	mustSay(t, ada.followUp(stop, "step", "replace", "confirm", "yes"), "Connected")

	// A practice user's view, and a refused cross-origin post carrying a password.
	pm := b.signedIn(t, "pm", store.RolePractice, p.ID)
	pm.get("/admin/")
	pm.connect(sandbox.GeneratedODS(1), "Herouser", sandbox.GeneratedAPIPassword(1))
	pm.send(http.MethodPost, "/admin/connect", url.Values{"ods": {demoODS}, "username": {"Herouser"}, "password": {freshAPIPw}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	pm.post("/admin/logout", url.Values{})
	ada.post("/admin/logout", url.Values{})

	responses := b.seen.responses()
	if len(responses) < 30 {
		t.Fatalf("only %d responses recorded: the flow did not run", len(responses))
	}
	secrets := []string{demoAPIPw, demoUserPw, freshAPIPw, strings.ToUpper(demoAPIPw), sandbox.GeneratedAPIPassword(1)}
	for _, secret := range secrets {
		forms := []string{secret, template.HTMLEscapeString(secret), html.EscapeString(secret), url.QueryEscape(secret), template.JSEscapeString(secret)}
		for _, form := range forms {
			for _, r := range responses {
				if strings.Contains(r, form) {
					t.Fatalf("a password (%q) appears in a response:\n%s", form, r)
				}
			}
			if strings.Contains(b.logs.String(), form) {
				t.Fatalf("a password (%q) appears in the logs", form)
			}
		}
	}
	for _, r := range responses {
		if strings.Contains(r, `type="password" value=`) || strings.Contains(r, `name="password" value=`) {
			t.Fatalf("a password field is filled in:\n%s", r)
		}
	}
}
