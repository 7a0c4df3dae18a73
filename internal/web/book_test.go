package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/booking"
	"herolink/internal/bookinglink"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/jobs"
	"herolink/internal/mapping"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// readyToBook connects the demo practice, maps it, copies a week of its diary and gives the
// booking core a job queue: bookings can be made and written back.
func (b *testBundle) readyToBook(t *testing.T) store.Practice {
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
	p, err := b.store.PracticeByID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// patient is someone registered at the demo practice, so a booking for them is linked.
type patient struct{ given, family, dob string }

func (b *testBundle) registered(t *testing.T) patient {
	t.Helper()
	p := patient{"Philippa", "Quennell-Ashworth", "1987-06-05"}
	if _, err := b.demo.RegisterPatient(sandbox.PatientInput{FamilyName: &p.family, FirstNames: &p.given, DateOfBirth: &p.dob}); err != nil {
		t.Fatal(err)
	}
	return p
}

// newLink makes a link through the service as partner "partner-1" and returns its path.
func (b *testBundle) newLink(t *testing.T, p store.Practice, who *patient, maxUses int) (store.BookingLink, string) {
	t.Helper()
	ctx := context.Background()
	types, err := b.booking.AppointmentTypes(ctx, p.PracticeGroupID)
	if err != nil || len(types) == 0 {
		t.Fatalf("appointment types: %v %v", types, err)
	}
	today := emis.Today(time.Now())
	in := bookinglink.Input{AppointmentTypeID: types[0].ID, FromDate: today.String(), ToDate: today.AddDays(7).String(),
		ExpiresAt: time.Now().Add(48 * time.Hour), MaxUses: maxUses}
	if who != nil {
		in.Patient = &bookinglink.Patient{GivenName: who.given, FamilyName: who.family, DateOfBirth: who.dob}
	}
	c, err := b.links.Create(ctx, p.PracticeGroupID, "partner-1", "test", in)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.URL)
	if err != nil || !strings.HasPrefix(c.URL, b.web.URL+"/book/") {
		t.Fatalf("link URL %q", c.URL)
	}
	return c.Link, u.Path
}

func dobForm(dob string) url.Values {
	parts := strings.Split(dob, "-")
	return url.Values{"date_of_birth-day": {parts[2]}, "date_of_birth-month": {parts[1]}, "date_of_birth-year": {parts[0]}}
}

var checkedSlot = regexp.MustCompile(`name="slot_id" type="radio" value="([^"]+)" checked`)

func mustTitle(t *testing.T, r response, prefix string) {
	t.Helper()
	m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(r.body)
	if m == nil || !strings.HasPrefix(m[1], prefix) {
		t.Fatalf("page title %q does not start with %q:\n%s", m, prefix, r.body)
	}
}

// bookThrough walks a verified visit from the slots page to the confirmation page.
func (b *testBundle) bookThrough(t *testing.T, c *client, path string) response {
	t.Helper()
	slots := c.get(path)
	mustSay(t, slots, "Choose a time", "The next available appointment is")
	m := checkedSlot.FindStringSubmatch(slots.body)
	if m == nil {
		t.Fatalf("the next available slot is not chosen first:\n%s", slots.body)
	}
	review := c.post(path+"/hold", url.Values{"slot_id": {m[1]}})
	mustSay(t, review, "Check your appointment", "We are holding this time for you until")
	mustHave(t, review, `data-held-until="`)
	done := c.post(path+"/confirm", nil)
	mustSay(t, done, "Your appointment is booked", "Your booking reference is")
	return done
}

var reference = regexp.MustCompile(`Your booking reference is <strong>(HL-[^<]+)</strong>`)

func (b *testBundle) appointmentByReference(t *testing.T, page response) (id, owner string) {
	t.Helper()
	m := reference.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no reference on the page:\n%s", page.body)
	}
	if err := b.store.DBQ().QueryRowContext(context.Background(), `SELECT id, api_key_id FROM appointments WHERE reference = ?`, m[1]).Scan(&id, &owner); err != nil {
		t.Fatal(err)
	}
	return id, owner
}

func TestAPatientBooksThroughTheirLinkAndTheAppointmentIsWrittenIntoEMIS(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	if err := b.store.SetBookingPolicy(context.Background(), p.ID, store.BookingPolicy{Hold: 10 * time.Minute}, store.AuditEntry{Actor: "test", Action: "booking_policy.changed", PracticeID: p.ID}); err != nil {
		t.Fatal(err)
	}
	who := b.registered(t)
	link, path := b.newLink(t, p, &who, 1)
	c := b.client(t)

	ask := c.get(path)
	if ask.status != http.StatusOK {
		t.Fatalf("%d\n%s", ask.status, ask.body)
	}
	mustTitle(t, ask, "Enter your date of birth")
	mustHave(t, ask, `name="date_of_birth-day"`, `name="date_of_birth-month"`, `name="date_of_birth-year"`, `action="`+path+`"`)
	mustNotSay(t, ask, who.family, who.given) // the link does not say whom it is for

	mustSay(t, c.post(path, dobForm(who.dob)), "Choose a time")
	done := b.bookThrough(t, c, path)
	// The booking goes through the booking core as the partner that made the link.
	id, owner := b.appointmentByReference(t, done)
	if owner != "partner-1" {
		t.Fatalf("the appointment belongs to %q, not the link's partner", owner)
	}
	var events int
	if err := b.store.DBQ().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM appointment_events WHERE appointment_id = ?`, id).Scan(&events); err != nil || events < 2 {
		t.Fatalf("the booking's events (for the partner's webhooks): %d %v", events, err)
	}
	if err := b.booking.Writeback(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	a, err := b.booking.Appointment(context.Background(), p.PracticeGroupID, id)
	if err != nil || a.State != booking.StateBooked || a.EMISReference == "" {
		t.Fatalf("after write-back: %+v %v", a, err)
	}
	mustSay(t, done, strconv.Itoa(a.StartAt.In(emis.London).Day()))

	ics := c.send(http.MethodGet, path+"/appointment.ics", nil, nil)
	if ics.status != http.StatusOK || !strings.HasPrefix(ics.header.Get("Content-Type"), "text/calendar") ||
		!strings.Contains(ics.body, "DTSTART:"+a.StartAt.UTC().Format("20060102T150405Z")) || !strings.Contains(ics.body, "UID:"+a.Reference+"@herolink") {
		t.Fatalf("ics: %d %v\n%s", ics.status, ics.header, ics.body)
	}

	// The link is used up: someone else opening it is told so; the patient still sees their booking.
	other := b.client(t).get(path)
	if other.status != http.StatusGone {
		t.Fatalf("used-up link: %d", other.status)
	}
	mustSay(t, other, "This booking link has already been used", "Contact Riverside")
	if l, _ := b.store.BookingLink(context.Background(), link.ID); bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusUsedUp || l.Uses != 1 {
		t.Fatalf("link after booking: %+v", l)
	}
	mustSay(t, c.get(path), "Your appointment is booked")

	// Cancelling (no cut-off at this practice) goes through the booking core.
	cancelled := c.post(path+"/cancel", nil)
	mustSay(t, cancelled, "Your appointment is cancelled")
	if a, _ := b.booking.Appointment(context.Background(), p.PracticeGroupID, id); a.State != booking.StateCancelled || a.CancelledBy != "partner" {
		t.Fatalf("after cancel: %s by %s", a.State, a.CancelledBy)
	}
}

func TestCancellingInsideThePracticesCutOffIsRefusedAndTheBookingStands(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	if err := b.store.SetBookingPolicy(context.Background(), p.ID, store.BookingPolicy{Hold: 10 * time.Minute, CancelCutoff: 30 * 24 * time.Hour},
		store.AuditEntry{Actor: "test", Action: "booking_policy.changed", PracticeID: p.ID}); err != nil {
		t.Fatal(err)
	}
	who := b.registered(t)
	_, path := b.newLink(t, p, &who, 1)
	c := b.client(t)
	c.post(path, dobForm(who.dob))
	done := b.bookThrough(t, c, path)
	id, _ := b.appointmentByReference(t, done)
	refused := c.post(path+"/cancel", nil)
	if refused.status != http.StatusConflict {
		t.Fatalf("cancel inside the cut-off: %d\n%s", refused.status, refused.body)
	}
	mustSay(t, refused, "does not allow appointments to be cancelled online within 720 hours", "Contact your GP practice to cancel it")
	if a, _ := b.booking.Appointment(context.Background(), p.PracticeGroupID, id); !a.State.Live() {
		t.Fatalf("the booking was cancelled: %s", a.State)
	}
}

func TestTenWrongDatesOfBirthLockTheLinkUntilStaffUnlockIt(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	who := b.registered(t)
	link, path := b.newLink(t, p, &who, 1)
	c := b.client(t)
	wrong := dobForm("1990-01-01")
	for i := 1; i <= 9; i++ {
		r := c.post(path, wrong)
		if r.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong answer %d: %d\n%s", i, r.status, r.body)
		}
		mustTitle(t, r, "Error: ")
		mustSay(t, r, "does not match", "You can try "+strconv.Itoa(10-i)+" more")
		mustHave(t, r, `href="#date_of_birth-day"`)
	}
	// A date that is no date is not an answer: it is not counted.
	mustSay(t, c.post(path, url.Values{"date_of_birth-day": {"31"}, "date_of_birth-month": {"6"}, "date_of_birth-year": {"1990"}}), "must be a real date")
	// The tenth locks it, from any browser.
	locked := b.client(t).post(path, wrong)
	if locked.status != http.StatusLocked {
		t.Fatalf("tenth wrong answer: %d\n%s", locked.status, locked.body)
	}
	mustSay(t, locked, "This booking link has been locked", "Contact Riverside")
	mustSay(t, c.post(path, dobForm(who.dob)), "This booking link has been locked") // the right answer no longer opens it
	l, _ := b.store.BookingLink(context.Background(), link.ID)
	if bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusLocked || l.FailedAttempts != 10 {
		t.Fatalf("after 10 wrong answers: %+v", l)
	}

	staff := b.signedIn(t, "reception", store.RolePractice, p.ID)
	page := staff.get(practicePath(p.ID) + "/booking-links")
	mustSay(t, page, "Locked")
	unlocked := staff.post(practicePath(p.ID)+"/booking-links/"+link.ID+"/unlock", nil)
	mustSay(t, unlocked, "The link is unlocked")
	if l, _ := b.store.BookingLink(context.Background(), link.ID); bookinglink.StatusOf(l, time.Now()) != bookinglink.StatusActive {
		t.Fatalf("after unlocking: %+v", l)
	}
	mustSay(t, c.post(path, dobForm(who.dob)), "Choose a time")
}

func TestExpiredRevokedAndUnknownLinksSaySoAndWhatToDo(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	who := b.registered(t)
	expired, expiredPath := b.newLink(t, p, &who, 1)
	if _, err := b.store.DBQ().ExecContext(context.Background(), `UPDATE booking_links SET expires_at = ? WHERE id = ?`,
		time.Now().Add(-time.Minute).UnixMilli(), expired.ID); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	r := c.get(expiredPath)
	if r.status != http.StatusGone {
		t.Fatalf("expired: %d", r.status)
	}
	mustSay(t, r, "This booking link has expired", "Contact Riverside")
	mustSay(t, c.post(expiredPath, dobForm(who.dob)), "This booking link has expired")

	revoked, revokedPath := b.newLink(t, p, &who, 1)
	if err := b.links.Revoke(context.Background(), p.PracticeGroupID, "partner-1", revoked.ID); err != nil {
		t.Fatal(err)
	}
	mustSay(t, c.get(revokedPath), "This booking link is no longer available")

	unknown := c.get("/book/bk_" + strings.Repeat("x", 43))
	if unknown.status != http.StatusNotFound {
		t.Fatalf("unknown token: %d", unknown.status)
	}
	mustSay(t, unknown, "This booking link does not work", "contact your GP practice")
}

func TestAnOpenLinkAsksForThePatientsDetailsWithClearFieldErrors(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	_, path := b.newLink(t, p, nil, 5)
	c := b.client(t)
	ask := c.get(path)
	mustTitle(t, ask, "Enter your details")
	mustHave(t, ask, `for="given_name"`, `for="family_name"`, `for="nhs_number"`, `name="date_of_birth-day"`)

	bad := c.post(path, url.Values{"given_name": {""}, "family_name": {" "}, "date_of_birth-day": {"30"}, "date_of_birth-month": {"2"},
		"date_of_birth-year": {"1980"}, "nhs_number": {"1234567890"}})
	if bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("%d\n%s", bad.status, bad.body)
	}
	mustTitle(t, bad, "Error: Enter your details")
	mustHave(t, bad, `href="#given_name"`, `href="#family_name"`, `href="#date_of_birth-day"`, `href="#nhs_number"`, `nhsuk-error-summary`)
	mustSay(t, bad, "Enter your first name.", "Enter your last name.", "Date of birth must be a real date", "Enter your 10 digit NHS number")

	who := b.registered(t)
	form := dobForm(who.dob)
	form.Set("given_name", who.given)
	form.Set("family_name", who.family)
	mustSay(t, c.post(path, form), "Choose a time")
	done := b.bookThrough(t, c, path)
	id, _ := b.appointmentByReference(t, done)
	if err := b.booking.Writeback(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if a, _ := b.booking.Appointment(context.Background(), p.PracticeGroupID, id); a.State != booking.StateBooked {
		t.Fatalf("an open link's booking for a registered patient: %s, want booked", a.State)
	}
}

// A visit belongs to one link: its cookie sent to another link's pages proves nothing there.
func TestAVisitToOneLinkCannotActOnAnother(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	who := b.registered(t)
	_, pathA := b.newLink(t, p, &who, 1)
	_, pathB := b.newLink(t, p, &who, 1)
	c := b.client(t)
	mustSay(t, c.post(pathA, dobForm(who.dob)), "Choose a time")
	u, _ := url.Parse(b.web.URL + pathA)
	var visit string
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == visitCookie {
			visit = ck.Value
		}
	}
	if visit == "" {
		t.Fatal("no visit cookie")
	}
	other := b.client(t)
	ub, _ := url.Parse(b.web.URL + pathB)
	other.hc.Jar.SetCookies(ub, []*http.Cookie{{Name: visitCookie, Value: visit, Path: pathB}})
	mustTitle(t, other.get(pathB), "Enter your date of birth")
	held := other.post(pathB+"/hold", url.Values{"slot_id": {"anything"}})
	mustTitle(t, held, "Enter your date of birth")
}

// When the practice gives the time away in EMIS while the link's booking is written, the
// patient is told they do not have the appointment and what to do.
func TestAPatientWhoseTimeWasTakenInEMISMeanwhileIsToldTheyHaveNoAppointment(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	who := b.registered(t)
	_, path := b.newLink(t, p, &who, 1)
	c := b.client(t)
	c.post(path, dobForm(who.dob))
	done := b.bookThrough(t, c, path)
	id, _ := b.appointmentByReference(t, done)
	ctx := context.Background()
	row, err := b.store.Appointment(ctx, b.store.DBQ(), id)
	if err != nil {
		t.Fatal(err)
	}
	other := patient{"Tobias", "Other-Person", "1960-01-01"}
	reg, err := b.demo.RegisterPatient(sandbox.PatientInput{FamilyName: &other.family, FirstNames: &other.given, DateOfBirth: &other.dob})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: row.SlotID, PatientID: reg.ID}); err != nil {
		t.Fatal(err)
	}
	if err := b.booking.Writeback(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a, _ := b.booking.Appointment(ctx, p.PracticeGroupID, id); a.State != booking.StateFailed {
		t.Fatalf("state %s, want failed", a.State)
	}
	page := c.get(path)
	mustTitle(t, page, "Your appointment could not be booked")
	mustSay(t, page, "You do not have this appointment", "Contact your GP practice to book an appointment")
	mustNotSay(t, page, "Your appointment is booked", "Cancel this appointment")
}

var laterDay = regexp.MustCompile(`<a href="(/book/[^"]+\?change=1&amp;from=(\d{4}-\d{2}-\d{2}))">See times on ([^<]+)</a>`)

// The patient sees the next free time first and can page through later days, and book one.
func TestAPatientPagesThroughLaterDaysAndBooksOne(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	who := b.registered(t)
	_, path := b.newLink(t, p, &who, 1)
	c := b.client(t)
	first := c.post(path, dobForm(who.dob))
	m := laterDay.FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("no later day offered:\n%s", first.body)
	}
	firstSlot := checkedSlot.FindStringSubmatch(first.body)
	mustSay(t, c.post(path+"/hold", url.Values{"slot_id": {firstSlot[1]}}), "Check your appointment")
	later := c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	mustSay(t, later, "Times available on "+m[3], "Back to the next available appointment")
	if checkedSlot.MatchString(later.body) {
		t.Fatal("a later day's time is chosen for the patient")
	}
	slot := regexp.MustCompile(`name="slot_id" type="radio" value="([^"]+)"`).FindStringSubmatch(later.body)
	if slot == nil {
		t.Fatalf("no times on the later day:\n%s", later.body)
	}
	review := c.post(path+"/hold", url.Values{"slot_id": {slot[1]}})
	mustSay(t, review, "Check your appointment", m[3])
	// The first time is let go at once: someone else can hold it.
	if _, err := b.booking.Reserve(context.Background(), p.PracticeGroupID, "someone-else", booking.ReserveRequest{SlotID: firstSlot[1]}); err != nil {
		t.Fatalf("the time the patient first chose is still held: %v", err)
	}
	// A slot the link does not offer (a made-up id) is refused, and the hold stands.
	mustSay(t, c.post(path+"/hold", url.Values{"slot_id": {"slt_999_999"}}), "that time has just been taken")
	mustSay(t, c.get(path), "Check your appointment", m[3])
}

// The countdown script is served from herolink itself: the pages allow no inline script (the
// review page says the expiry time in plain text for browsers without JavaScript: bookThrough).
func TestTheHoldCountdownScriptIsServedFromHerolinkItself(t *testing.T) {
	b := setup(t)
	r := b.client(t).send(http.MethodGet, assetPrefix+countdownJS, nil, nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "data-held-until") {
		t.Fatalf("%s: %d", countdownJS, r.status)
	}
}

// Two patients on an open link for one booking both hold a time; the first to confirm books,
// the second is told the link has been used and their hold is not confirmed.
func TestAnOpenLinkForOneBookingConfirmsOnlyTheFirstOfTwoPatients(t *testing.T) {
	b := setup(t)
	p := b.readyToBook(t)
	link, path := b.newLink(t, p, nil, 1)
	details := func(given string) url.Values {
		f := dobForm("1970-01-01")
		f.Set("given_name", given)
		f.Set("family_name", "Unknown-Patient")
		return f
	}
	first, second := b.client(t), b.client(t)
	slots := first.post(path, details("Ann"))
	second.post(path, details("Bob"))
	ids := regexp.MustCompile(`name="slot_id" type="radio" value="([^"]+)"`).FindAllStringSubmatch(slots.body, 2)
	if len(ids) < 2 {
		t.Fatalf("fewer than two times offered:\n%s", slots.body)
	}
	mustSay(t, first.post(path+"/hold", url.Values{"slot_id": {ids[0][1]}}), "Check your appointment")
	mustSay(t, second.post(path+"/hold", url.Values{"slot_id": {ids[1][1]}}), "Check your appointment")
	mustSay(t, first.post(path+"/confirm", nil), "Your appointment is booked")
	late := second.post(path+"/confirm", nil)
	if late.status != http.StatusGone {
		t.Fatalf("second confirmation: %d\n%s", late.status, late.body)
	}
	mustSay(t, late, "This booking link has already been used")
	var confirmed int
	if err := b.store.DBQ().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM appointments WHERE state <> 'reserved' AND state <> 'expired' AND state <> 'cancelled'`).Scan(&confirmed); err != nil || confirmed != 1 {
		t.Fatalf("%d bookings confirmed through a link for one (%v)", confirmed, err)
	}
	if l, _ := b.store.BookingLink(context.Background(), link.ID); l.Uses != 1 {
		t.Fatalf("uses %d", l.Uses)
	}
}
