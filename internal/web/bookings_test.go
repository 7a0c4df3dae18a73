package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/booking"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/jobs"
	"herolink/internal/mapping"
	"herolink/internal/matching"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// withPlaceholder connects the demo practice, maps it, copies its diary and books a patient
// EMIS does not know: the booking becomes a placeholder. It returns the practice and booking.
func (b *testBundle) withPlaceholder(t *testing.T) (int64, booking.Appointment) {
	t.Helper()
	ctx := context.Background()
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	if err := (&mapping.Service{Store: b.store, Conns: b.service}).AdoptDefaults(ctx, "setup", pid); err != nil {
		t.Fatal(err)
	}
	today := emis.Today(time.Now())
	eng := &slotsync.Engine{Store: b.store, Conns: b.service, ActiveTypes: func(ctx context.Context, id int64) ([]int, error) { return b.store.ActiveSlotTypeIDs(ctx, id) }}
	if _, err := eng.Sync(ctx, pid, slotsync.Window{From: today, To: today.AddDays(7), Full: true}); err != nil {
		t.Fatal(err)
	}
	rc, err := jobs.New(b.store, &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.booking.River = rc
	p, _ := b.store.PracticeByID(ctx, pid)
	from := time.Now().AddDate(0, 0, 2)
	page, err := b.booking.Slots(ctx, p.PracticeGroupID, booking.SlotQuery{From: from, To: from.AddDate(0, 0, 5), Limit: 1})
	if err != nil || len(page.Slots) == 0 {
		t.Fatalf("slots: %+v, %v", page, err)
	}
	a, err := b.booking.Reserve(ctx, p.PracticeGroupID, "key", booking.ReserveRequest{SlotID: page.Slots[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.booking.Book(ctx, p.PracticeGroupID, a.ID, booking.PatientInput{Demographics: matching.Demographics{
		FamilyName: "Quill-Unknown", GivenName: "Rosa", DateOfBirth: "1979-11-30", Postcode: "LS6 2AB"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.booking.Writeback(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := b.booking.Appointment(ctx, p.PracticeGroupID, a.ID)
	if got.State != booking.StatePlaceholder {
		t.Fatalf("state = %s, want placeholder", got.State)
	}
	return pid, got
}

func TestBookingsPageListsPlaceholdersAndStaffLinkTheEMISNumberToBookTheRealAppointment(t *testing.T) {
	b := setup(t)
	pid, a := b.withPlaceholder(t)
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings"
	page := c.get(path)
	if page.status != http.StatusOK || !strings.Contains(page.body, a.Reference) || !strings.Contains(page.body, "Rosa Quill-Unknown") {
		t.Fatalf("bookings page: %d\n%s", page.status, page.body)
	}
	if !strings.Contains(page.body, "No EMIS record agrees") {
		t.Fatalf("the page does not say why the patient was not matched:\n%s", page.body)
	}
	// A mistyped EMIS number is refused and changes nothing.
	bad := c.post(path+"/"+a.ID+"/link", url.Values{"emis_number": {"12ab"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "EMIS number") {
		t.Fatalf("bad EMIS number: %d\n%s", bad.status, bad.body)
	}
	// Reception registers the patient in EMIS, then links the EMIS number.
	family, first, dob := "Quill-Unknown", "Rosa", "1979-11-30"
	pat, err := b.demo.RegisterPatient(sandbox.PatientInput{FamilyName: &family, FirstNames: &first, DateOfBirth: &dob})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatInt(pat.ID, 10)
	check := c.post(path+"/"+a.ID+"/link", url.Values{"emis_number": {num}})
	if check.status != http.StatusOK || !strings.Contains(check.body, "Is EMIS number "+num+" this patient?") || strings.Contains(check.body, "Differs") {
		t.Fatalf("record check: %d\n%s", check.status, check.body)
	}
	done := c.post(path+"/"+a.ID+"/link", url.Values{"emis_number": {num}, "step": {"link"}})
	if done.status != http.StatusOK || !strings.Contains(done.body, "It shows as booked once EMIS holds the appointment") {
		t.Fatalf("link: %d\n%s", done.status, done.body)
	}
	if err := b.booking.Writeback(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	p, _ := b.store.PracticeByID(context.Background(), pid)
	got, _ := b.booking.Appointment(context.Background(), p.PracticeGroupID, a.ID)
	if got.State != booking.StateBooked {
		t.Fatalf("after linking: %s, want booked", got.State)
	}
	audit, _ := b.store.ListAudit(context.Background(), pid, 5)
	if len(audit) == 0 || audit[0].Action != "placeholder_link_requested" || audit[0].Actor != "reception" {
		t.Fatalf("audit = %+v", audit)
	}
}

func TestBookingPolicyFormRefusesNonsenseAndSavesTheHoldAndCutOff(t *testing.T) {
	b := setup(t)
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	c := b.signedIn(t, "pm", store.RolePractice, pid)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings/policy"
	for _, f := range []url.Values{{"hold_minutes": {"0"}, "cutoff_hours": {"24"}}, {"hold_minutes": {"15"}, "cutoff_hours": {"soon"}}} {
		if r := c.post(path, f); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("%v: %d", f, r.status)
		}
	}
	pol, _ := b.store.BookingPolicy(context.Background(), pid)
	if pol.Hold != 15*time.Minute || pol.CancelCutoff != 24*time.Hour {
		t.Fatalf("refused forms changed the policy: %+v", pol)
	}
	if r := c.post(path, url.Values{"hold_minutes": {"10"}, "cutoff_hours": {"48"}}); r.status != http.StatusOK || !strings.Contains(r.body, "policy is saved") {
		t.Fatalf("save: %d\n%s", r.status, r.body)
	}
	pol, _ = b.store.BookingPolicy(context.Background(), pid)
	if pol.Hold != 10*time.Minute || pol.CancelCutoff != 48*time.Hour {
		t.Fatalf("policy = %+v", pol)
	}
}

func TestAnotherPracticesStaffCannotSeeItsBookings(t *testing.T) {
	b := setup(t)
	pid := b.connectDirectly(t, sandbox.DemoODS, "Herouser", sandbox.DemoAPIPassword)
	other, err := b.store.EnsurePractice(context.Background(), "B99999", 99999, "Elsewhere Surgery")
	if err != nil {
		t.Fatal(err)
	}
	c := b.signedIn(t, "elsewhere", store.RolePractice, other.ID)
	if r := c.get("/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings"); r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", r.status)
	}
}

func TestSupportStaffDoNotSeeThePatientBehindAPlaceholder(t *testing.T) {
	b := setup(t)
	pid, a := b.withPlaceholder(t)
	c := b.signedIn(t, "helpdesk", store.RoleSupport, 0)
	page := c.get("/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings")
	if page.status != http.StatusOK || !strings.Contains(page.body, a.Reference) {
		t.Fatalf("bookings page: %d\n%s", page.status, page.body)
	}
	for _, secret := range []string{"Rosa", "Quill-Unknown", "1979-11-30"} {
		if strings.Contains(page.body, secret) {
			t.Fatalf("support sees the patient's %q", secret)
		}
	}
}
