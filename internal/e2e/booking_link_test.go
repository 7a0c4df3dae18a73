package e2e_test

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"herolink/internal/browsertest"
	"herolink/internal/emis/sandbox"
)

// bookingLink makes a link through the partner API for one patient (or an open link when
// given is "") and returns its id and URL.
func bookingLink(t *testing.T, pr *browsertest.Product, given, family, born string) (id, url string) {
	t.Helper()
	types := partner(t, pr, "GET", "/v1/appointment_types", "")
	data, _ := types["data"].([]any)
	if len(data) == 0 {
		t.Fatalf("the demo practice publishes no appointment type: %v", types)
	}
	typeID := data[0].(map[string]any)["id"].(string)
	patient := ""
	if given != "" {
		patient = fmt.Sprintf(`,"patient":{"given_name":%q,"family_name":%q,"date_of_birth":%q}`, given, family, born)
	}
	today := time.Now()
	link := partner(t, pr, "POST", "/v1/booking_links", fmt.Sprintf(
		`{"appointment_type_id":%q,"from_date":%q,"to_date":%q,"expires_at":%q,"max_uses":1%s}`, typeID,
		today.AddDate(0, 0, 1).Format(time.DateOnly), today.AddDate(0, 0, 13).Format(time.DateOnly),
		today.AddDate(0, 0, 7).UTC().Format(time.RFC3339), patient))
	id, _ = link["id"].(string)
	url, _ = link["url"].(string)
	if id == "" || !strings.Contains(url, "/book/") {
		t.Fatalf("booking link answer: %v", link)
	}
	return id, url
}

// enterDateOfBirth fills the NHS date input and continues.
func enterDateOfBirth(p *browsertest.Page, day, month, year string) {
	p.Fill("Day", day)
	p.Fill("Month", month)
	p.Fill("Year", year)
	p.Click("Continue")
}

// TestAPatientBooksThroughTheirLinkOnAPhone: at 390 px a patient opens the link a partner sent,
// gives their date of birth, takes the next available time, reviews and confirms it, and gets a
// confirmation with a calendar file and a way to cancel. Every page is audited.
func TestAPatientBooksThroughTheirLinkOnAPhone(t *testing.T) {
	pr := browsertest.StartProduct(t)
	id, url := bookingLink(t, pr, "Ada", "Lovelace", "1980-03-05")

	p := browsertest.Open(t, url, browsertest.PhoneWidth)
	p.MustSee("What is your date of birth?")
	p.MustNotSee("Lovelace") // the link does not say whom it is for
	p.Audit("book-date-of-birth")
	enterDateOfBirth(p, "5", "3", "1980")

	p.MustSee("Choose a time", "The next available appointment is")
	p.Audit("book-choose-a-time")
	p.Click("Continue")

	p.MustSee("We are holding this time for you until")
	p.Audit("book-review")
	p.Click("Confirm appointment")

	p.MustSee("Your appointment is booked")
	p.Audit("book-confirmed")
	p.MustSee("Add this appointment to your calendar (.ics file)", "Cancel this appointment")

	if l := partner(t, pr, "GET", "/v1/booking_links/"+id, ""); l["status"] != "used_up" {
		t.Errorf("after the booking the link is %v, want used_up", l["status"])
	}
}

// TestTenWrongDatesOfBirthLockALinkUntilStaffUnlockIt: a phone user who gets the date of birth
// wrong is told how many tries are left; the tenth wrong answer locks the link, the patient is
// told to contact the practice and the partner API says locked. Riverside's staff unlock it on
// the booking links page, and the right date of birth then goes through.
func TestTenWrongDatesOfBirthLockALinkUntilStaffUnlockIt(t *testing.T) {
	pr := browsertest.StartProduct(t)
	id, url := bookingLink(t, pr, "Grace", "Hopper", "1976-12-09")

	p := browsertest.Open(t, url, browsertest.PhoneWidth)
	for i := 1; i <= 10; i++ {
		enterDateOfBirth(p, "1", "1", "1970")
		if i == 1 {
			p.MustSee("You can try 9 more times")
			if !strings.HasPrefix(p.Title(), "Error: ") {
				t.Errorf("a wrong date of birth: title %q, want it to start with Error: ", p.Title())
			}
			p.Audit("book-wrong-date-of-birth")
		}
		if i < 10 {
			continue
		}
		p.MustSee("This booking link has been locked", "Contact Riverside Medical Practice")
		p.Audit("book-locked")
	}
	if l := partner(t, pr, "GET", "/v1/booking_links/"+id, ""); l["status"] != "locked" {
		t.Fatalf("after ten wrong dates of birth the API says %v, want locked", l["status"])
	}

	staff := browsertest.NewPage(t, browsertest.DesktopWidth)
	pr.SignInAsPractice(staff)
	staff.Go(pr.PracticeURL(t, sandbox.DemoODS, "/booking-links"))
	staff.MustSee("Locked")
	staff.Audit("staff-booking-links-locked")
	staff.Click("Unlock")
	staff.MustNotSee("Locked")
	if l := partner(t, pr, "GET", "/v1/booking_links/"+id, ""); l["status"] != "active" {
		t.Fatalf("after staff unlocked it the API says %v, want active", l["status"])
	}

	p.Go(url)
	enterDateOfBirth(p, "9", "12", "1976")
	p.MustSee("Choose a time")
}

// TestStaffMappingAPractitionerToAHolderAlreadyTakenReadTheRefusal: on the mapping page, staff
// open one practitioner's row and choose the session holder another practitioner is mapped to;
// the page refuses in words, says so in its title, links the error to the field, and keeps
// what was typed.
func TestStaffMappingAPractitionerToAHolderAlreadyTakenReadTheRefusal(t *testing.T) {
	pr := browsertest.StartProduct(t)
	p := browsertest.NewPage(t, browsertest.DesktopWidth)
	pr.SignInAsPractice(p)
	p.Go(pr.PracticeURL(t, sandbox.DemoODS, "/mapping"))
	p.Audit("mapping")

	// The demo maps every session holder: the second practitioner's holder is taken.
	rows := mappedRows(t, p, "practitioners")
	if len(rows) < 2 {
		t.Fatalf("the demo practice maps %d practitioners, want at least two: %v", len(rows), rows)
	}
	first, second := rows[0], rows[1]
	p.Click("Edit " + first.Name)
	row := p.Within("#" + first.ID)
	row.Select("EMIS session holder", second.Holder+" (mapped to "+second.Name+")")
	row.Click("Save " + first.Name)

	p.MustSee("is already mapped to it")
	if !strings.HasPrefix(p.Title(), "Error: ") {
		t.Errorf("the refusal's title is %q, want it to start with Error: ", p.Title())
	}
	p.Audit("mapping-refused")
	if !strings.Contains(p.HTML(".nhsuk-error-summary"), "-emis") {
		t.Errorf("the error summary does not link to the session holder field: %s", p.HTML(".nhsuk-error-summary"))
	}
	// Nothing changed: the second practitioner keeps their holder.
	p.Go(pr.PracticeURL(t, sandbox.DemoODS, "/mapping"))
	after := mappedRows(t, p, "practitioners")
	for _, r := range after {
		if r.Name == second.Name && r.Holder != second.Holder {
			t.Errorf("after the refusal %s is mapped to %q, want %q", r.Name, r.Holder, second.Holder)
		}
	}
}

// mappedRow is one read-only row of a mapping table: the record's name and what it maps to.
type mappedRow struct{ ID, Name, Holder string }

var mappedRowRE = regexp.MustCompile(`(?s)<tr class="nhsuk-table__row" id="(%s-\d+)">\s*<td class="nhsuk-table__cell">([^<]*)</td>\s*<td class="nhsuk-table__cell">([^<]*)`)

// mappedRows reads the rows of the mapping page's table of plural ("practitioners").
func mappedRows(t *testing.T, p *browsertest.Page, plural string) []mappedRow {
	t.Helper()
	re := regexp.MustCompile(fmt.Sprintf(mappedRowRE.String(), plural))
	var out []mappedRow
	for _, m := range re.FindAllStringSubmatch(p.HTML("main"), -1) {
		out = append(out, mappedRow{ID: m[1], Name: html.UnescapeString(strings.TrimSpace(m[2])), Holder: html.UnescapeString(strings.TrimSpace(m[3]))})
	}
	return out
}

// TestAPatientBooksThroughTheirLinkWithTheKeyboardAlone: the same booking at 390 px with Tab,
// typing and Enter only, every control reached showing its focus.
func TestAPatientBooksThroughTheirLinkWithTheKeyboardAlone(t *testing.T) {
	pr := browsertest.StartProduct(t)
	_, url := bookingLink(t, pr, "Mary", "Seacole", "1985-11-23")

	p := browsertest.Open(t, url, browsertest.PhoneWidth)
	p.TabTo(`textbox "Day"`)
	p.Press("23")
	p.TabTo(`textbox "Month"`)
	p.Press("11")
	p.TabTo(`textbox "Year"`)
	p.Press("1985")
	p.TabTo(`button "Continue"`)
	p.PressAndLoad(kb.Enter)

	p.MustSee("Choose a time")
	p.TabTo(`button "Continue"`) // the next available time is chosen already
	p.PressAndLoad(kb.Enter)

	p.MustSee("We are holding this time for you until")
	p.TabTo(`button "Confirm appointment"`)
	p.PressAndLoad(kb.Enter)
	p.MustSee("Your appointment is booked")
	p.Audit("book-confirmed-keyboard")
}
