package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"herolink/internal/store"
)

var linkURL = regexp.MustCompile(`id="link-url" value="([^"]+)"`)

func TestStaffMakeALinkSeeItsURLOnceAndRevokeIt(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	staff := b.signedIn(t, "reception", store.RolePractice, p.ID)
	path := practicePath(p.ID) + "/booking-links"
	page := staff.get(path)
	mustSay(t, page, "Make a booking link")
	mustHave(t, page, `for="appointment_type_id"`, `for="days"`, `for="max_uses"`, `name="date_of_birth-day"`)

	// Half a patient is refused, field by field, and nothing is made.
	bad := staff.post(path, url.Values{"days": {"0"}, "max_uses": {"x"}, "given_name": {"Ada"}, "date_of_birth-day": {"5"}})
	if bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("%d\n%s", bad.status, bad.body)
	}
	mustTitle(t, bad, "Error: Booking links")
	mustHave(t, bad, `href="#days"`, `href="#max_uses"`, `href="#date_of_birth-month"`)
	if ls, _ := b.store.BookingLinksOfPractice(context.Background(), p.ID, 10); len(ls) != 0 {
		t.Fatalf("a refused form made %d links", len(ls))
	}

	types, _ := b.booking.AppointmentTypes(context.Background(), p.PracticeGroupID)
	made := staff.post(path, url.Values{"appointment_type_id": {types[0].ID}, "days": {"7"}, "max_uses": {"1"},
		"given_name": {"Ada"}, "family_name": {"Lovelace"}, "date_of_birth-day": {"5"}, "date_of_birth-month": {"3"}, "date_of_birth-year": {"1980"}})
	m := linkURL.FindStringSubmatch(made.body)
	if made.status != http.StatusOK || m == nil || !strings.HasPrefix(m[1], b.web.URL+"/book/") {
		t.Fatalf("made: %d\n%s", made.status, made.body)
	}
	mustSay(t, made, "This is the only time herolink shows this link", "Ada Lovelace, born 1980-03-05", "Working")
	token := strings.TrimPrefix(m[1], b.web.URL+"/book/")
	again := staff.get(path)
	if strings.Contains(again.body, token) {
		t.Fatal("the link's URL is shown again")
	}
	// The patient can open it.
	mustTitle(t, b.client(t).get("/book/"+token), "Enter your date of birth")

	ls, _ := b.store.BookingLinksOfPractice(context.Background(), p.ID, 10)
	if len(ls) != 1 || ls[0].OwnerID != "" || ls[0].CreatedBy != "reception" {
		t.Fatalf("links %+v", ls)
	}
	// Support staff see that a link is for one patient, never who.
	support := b.signedIn(t, "support", store.RoleSupport, 0)
	sp := support.get(path)
	mustSay(t, sp, "One patient")
	mustNotSay(t, sp, "Lovelace")

	revoked := staff.post(path+"/"+ls[0].ID+"/revoke", nil)
	mustSay(t, revoked, "The link is revoked", "Revoked")
	mustSay(t, b.client(t).get("/book/"+token), "This booking link is no longer available")
	if audit, _ := b.store.ListAudit(context.Background(), p.ID, 5); len(audit) == 0 || audit[0].Action != "booking_link.revoked" || audit[0].Actor != "reception" {
		t.Fatalf("audit %+v", audit)
	}
	// A link the practice does not have is not found.
	if r := staff.post(practicePath(p.ID)+"/booking-links/bkl_nothing/unlock", nil); r.status != http.StatusNotFound {
		t.Fatalf("unknown link: %d", r.status)
	}
}
