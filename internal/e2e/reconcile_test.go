package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/browsertest"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

// partner calls herolink's partner API as the demo partner and decodes the JSON answer.
func partner(t *testing.T, pr *browsertest.Product, method, path, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, pr.AdminURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", pr.Info.APIKey)
	req.Header.Set("x-practice-group-id", pr.Info.PracticeGroupID)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if resp.StatusCode >= 300 || json.Unmarshal(data, &m) != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return m
}

// placeholderFor books the first free slot from tomorrow through the partner API for a patient
// EMIS does not know, and waits until herolink has written it into EMIS as a placeholder.
func placeholderFor(t *testing.T, pr *browsertest.Product, given, family, born string) (id, reference, date string) {
	t.Helper()
	from := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	to := time.Now().AddDate(0, 0, 8).Format(time.DateOnly)
	slots := partner(t, pr, "GET", "/v1/slots?start_date="+from+"&end_date="+to+"&limit=1", "")
	data, _ := slots["data"].([]any)
	if len(data) == 0 {
		t.Fatalf("no free slot between %s and %s: %v", from, to, slots)
	}
	slotID := data[0].(map[string]any)["id"].(string)
	hold := partner(t, pr, "POST", "/v1/appointments", `{"slot_id":"`+slotID+`","description":"Sore throat"}`)
	id = hold["id"].(string)
	partner(t, pr, "POST", "/v1/appointments/"+id+"/book",
		fmt.Sprintf(`{"patient":{"given_name":%q,"family_name":%q,"date_of_birth":%q}}`, given, family, born))
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := partner(t, pr, "GET", "/v1/appointments/"+id, "")
		if a["state"] == "placeholder" {
			ref, _ := a["reference"].(string)
			start, _ := a["start"].(string)
			at, err := time.Parse(time.RFC3339, start)
			if err != nil {
				t.Fatalf("start %q: %v", start, err)
			}
			return id, ref, emis.Today(at).String() // the appointment book's days are London days
		}
		if time.Now().After(deadline) {
			t.Fatalf("the booking never became a placeholder: %v", a)
		}
		time.Sleep(100 * time.Millisecond) // polling the product's API, not waiting for time to pass
	}
}

// TestStaffReconcileAPlaceholderByTheEMISNumberOfThePatientReceptionRegistered: a partner books
// for a patient EMIS cannot match, so herolink reserves the time as a "Hero unregistered
// patient" placeholder. Reception registers the patient in EMIS; Riverside's staff open the
// bookings page, enter the EMIS number, compare the record with what the patient typed, and
// book it: the appointment becomes booked in EMIS.
func TestStaffReconcileAPlaceholderByTheEMISNumberOfThePatientReceptionRegistered(t *testing.T) {
	pr := browsertest.StartProduct(t)
	id, ref, date := placeholderFor(t, pr, "Nadia", "Newcomer", "1991-04-12")

	// Reception sees the yellow placeholder in EMIS's appointment book.
	book := browsertest.Open(t, pr.SandboxURL+"/emis/"+strconv.Itoa(sandbox.DemoCDB)+"/appointments/book?date="+date, browsertest.DesktopWidth)
	book.MustSee("Appointment book")
	if !strings.Contains(book.HTML(`[data-status]`), ref) {
		t.Fatalf("the appointment book of %s does not show placeholder %s", date, ref)
	}
	book.Audit("sandbox-appointment-book")

	org, err := pr.World.OrgByODS(sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	patient, err := org.RegisterPatient(sandbox.PatientInput{FamilyName: str("Newcomer"), FirstNames: str("Nadia"),
		DateOfBirth: str("1991-04-12"), Sex: str("F"), Postcode: str("LS1 4AP")})
	if err != nil {
		t.Fatal(err)
	}
	emisNumber := strconv.FormatInt(patient.ID, 10)

	p := browsertest.NewPage(t, browsertest.DesktopWidth)
	pr.SignInAsPractice(p)
	p.Go(pr.PracticeURL(t, sandbox.DemoODS, "/bookings"))
	p.MustSee("Placeholders to reconcile", "The patient typed: Nadia Newcomer")
	p.Audit("bookings-placeholder")
	p.Fill("EMIS number", emisNumber)
	p.Click("Check the record")
	p.MustSee("Is EMIS number "+emisNumber+" this patient?", "EMIS record "+emisNumber)
	p.MustNotSee("Differs")
	p.Audit("bookings-check-record")
	p.Click("Book for EMIS number " + emisNumber)
	p.Audit("bookings-after-link")

	deadline := time.Now().Add(30 * time.Second)
	for {
		a := partner(t, pr, "GET", "/v1/appointments/"+id, "")
		if a["state"] == "booked" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the placeholder was not booked into EMIS: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	appts, err := org.ListSessions(pr.World.Today(), pr.World.Today().AddDays(9), true)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range appts {
		for _, sl := range s.Slots {
			for _, who := range sl.Patients {
				found = found || (who.DBID == patient.ID && sl.Status == "Booked")
			}
		}
	}
	if !found {
		t.Fatalf("EMIS holds no appointment for patient %s", emisNumber)
	}
	p.Go(pr.PracticeURL(t, sandbox.DemoODS, "/bookings"))
	p.MustNotSee("The patient typed: Nadia Newcomer")
}
