package e2e_test

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"herolink/internal/browsertest"
	"herolink/internal/emis/sandbox"
)

// TestAReceptionistOnAPhoneReconcilesAPlaceholderWithTheKeyboardAlone: at 390 px, with Tab,
// typing and Enter only (no mouse, no script), Riverside's receptionist signs in, reaches the
// bookings page from the practice page, and links the placeholder to the patient's EMIS record.
func TestAReceptionistOnAPhoneReconcilesAPlaceholderWithTheKeyboardAlone(t *testing.T) {
	pr := browsertest.StartProduct(t)
	id, _, _ := placeholderFor(t, pr, "Kim", "Keyes", "1985-11-30")
	org, err := pr.World.OrgByODS(sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	patient, err := org.RegisterPatient(sandbox.PatientInput{FamilyName: str("Keyes"), FirstNames: str("Kim"),
		DateOfBirth: str("1985-11-30"), Sex: str("U")})
	if err != nil {
		t.Fatal(err)
	}
	emisNumber := strconv.FormatInt(patient.ID, 10)

	p := browsertest.Open(t, pr.AdminURL+"/admin/login", browsertest.PhoneWidth)
	p.Audit("login")
	p.TabTo(`textbox "Username"`)
	p.Press(pr.Info.PracticeUsername)
	p.TabTo(`password "Password"`)
	p.Press(pr.Info.PracticePassword)
	p.PressAndLoad(kb.Enter)
	p.MustSee("Sign out")

	p.TabTo(`link "Practice"`)
	p.PressAndLoad(kb.Enter)
	p.Audit("practice-page")
	p.TabTo(`link "Reconcile unregistered-patient placeholders`)
	p.PressAndLoad(kb.Enter)
	p.MustSee("The patient typed: Kim Keyes")

	p.TabTo(`textbox "EMIS number"`)
	p.Press(emisNumber)
	p.TabTo(`button "Check the record"`)
	p.PressAndLoad(kb.Enter)
	p.MustSee("Is EMIS number " + emisNumber + " this patient?")
	p.Audit("check-record-keyboard")
	p.TabTo(`button "Book for EMIS number ` + emisNumber + `"`)
	p.PressAndLoad(kb.Enter)
	p.MustNotSee("Is EMIS number " + emisNumber + " this patient?")

	if a := partner(t, pr, "GET", "/v1/appointments/"+id, ""); a["state"] != "placeholder" && a["state"] != "booked" {
		t.Fatalf("after linking, the appointment is %v", a["state"])
	}
}
