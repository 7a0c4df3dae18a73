package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/booking"
	"herolink/internal/emis/sandbox"
	"herolink/internal/store"
)

func (b *testBundle) placeholderEvents(t *testing.T, id string) string {
	t.Helper()
	rows, err := b.store.DBQ().QueryContext(context.Background(), `SELECT event, detail FROM appointment_events WHERE appointment_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e, d string
		if err := rows.Scan(&e, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, e+"/"+d)
	}
	return strings.Join(out, " ")
}

// receptionBooks takes herolink's placeholder off its slot in EMIS and books a patient there,
// as staff do by hand.
func (b *testBundle) receptionBooks(t *testing.T, pid int64, a booking.Appointment, emisNo int64) {
	t.Helper()
	ctx := context.Background()
	row, err := b.store.Appointment(ctx, b.store.DBQ(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := b.service.Conn(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.SetSlotType(ctx, row.SlotID, row.EMISSlotTypeID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: row.SlotID, PatientID: emisNo}); err != nil {
		t.Fatal(err)
	}
}

func TestTheInboxJSONGivesStaffEachPlaceholdersDetailsAndTheFiguresAndSupportNoPatient(t *testing.T) {
	b := setup(t)
	pid, a := b.withPlaceholder(t)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/placeholders"
	r := b.signedIn(t, "reception", store.RolePractice, pid).problemCall("GET", path, "", nil)
	items, _ := r.body["data"].([]any)
	if r.status != 200 || len(items) != 1 {
		t.Fatalf("inbox: %d\n%s", r.status, r.raw)
	}
	it := items[0].(map[string]any)
	by, _ := it["booked_by"].(map[string]any)
	pat, _ := it["patient"].(map[string]any)
	cands, hasCands := it["candidates"].([]any)
	if it["reference"] != a.Reference || by == nil || by["at"] == "" || it["length_minutes"] == float64(0) || it["waiting_since"] == "" ||
		it["why_not_linked"] != "no_candidates" || it["why_not_linked_detail"] == nil || pat["postcode"] != "LS6 2AB" || !hasCands || len(cands) != 0 ||
		it["overdue"] != false || it["location"] == "" || it["appointment_type"] == "" || len(it["practitioners"].([]any)) == 0 {
		t.Fatalf("placeholder = %v", it)
	}
	figs, _ := r.body["figures"].(map[string]any)
	if figs["open"] != float64(1) || figs["oldest_waiting_since"] == nil || figs["resolved_last_30_days"] != float64(0) || r.body["overdue_after_minutes"] != float64(10) {
		t.Fatalf("figures = %v, threshold %v", figs, r.body["overdue_after_minutes"])
	}
	support := b.signedIn(t, "helpdesk", store.RoleSupport, 0).problemCall("GET", path, "", nil)
	if support.status != 200 || strings.Contains(support.raw, `"candidates":`) || strings.Contains(support.raw, "why_not_linked_detail") || strings.Contains(support.raw, "LS6") || !strings.Contains(support.raw, `"open":1`) {
		t.Fatalf("support inbox: %d\n%s", support.status, support.raw)
	}
}

func TestCancellingAPlaceholderTellsThePartnerAndRemovesItFromEMIS(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pid, a := b.withPlaceholder(t)
	base := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/placeholders/"
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	b.signedIn(t, "helpdesk", store.RoleSupport, 0).problemCall("POST", base+a.ID+"/cancel", `{"reason": "x"}`, nil).wantProblem(t, 403, "forbidden")
	c.problemCall("POST", base+a.ID+"/cancel", `{"reason": 1}`, nil).wantProblem(t, 400, "invalid_json")
	c.problemCall("POST", base+"apt_nope/cancel", `{"reason": "x"}`, nil).wantProblem(t, 404, "not_found")
	if row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID); row.State != "placeholder" {
		t.Fatalf("a refused cancel changed the booking: %s", row.State)
	}
	r := c.problemCall("POST", base+a.ID+"/cancel", `{"reason": "the patient phoned to cancel"}`, nil)
	if r.status != 200 || r.body["status"] != "cancelled" {
		t.Fatalf("cancel: %d\n%s", r.status, r.raw)
	}
	if ev := b.placeholderEvents(t, a.ID); !strings.Contains(ev, "appointment.cancelled/staff") {
		t.Fatalf("the partner is not told: %s", ev)
	}
	if err := b.booking.Writeback(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID)
	sl, err := b.demo.GetSlot(row.SlotID)
	if err != nil || strings.Contains(sl.Notes, a.Reference) || sl.Type.TypeID != row.EMISSlotTypeID {
		t.Fatalf("the placeholder is still in EMIS: %+v, %v", sl, err)
	}
	c.problemCall("POST", base+a.ID+"/cancel", `{"reason": "again"}`, nil).wantProblem(t, 409, "invalid_state")
}

func TestBookedByHandInEMISJSONFollowsOnlyAnAppointmentEMISHoldsInTheSlot(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pid, a := b.withPlaceholder(t)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/placeholders/" + a.ID + "/booked-in-emis"
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	c.problemCall("POST", path, `{}`, nil).wantProblem(t, 422, "not_booked_in_emis")
	// Reception booked Demo Dorothy (EMIS number 9001) into the slot: not the patient who booked.
	b.receptionBooks(t, pid, a, 9001)
	r := c.problemCall("POST", path, `{}`, nil).wantProblem(t, 409, "demographics_mismatch")
	if rec, _ := r.body["record"].(map[string]any); rec["family_name"] != "Demo" {
		t.Fatalf("the mismatch does not show the record:\n%s", r.raw)
	}
	if row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID); row.State != "placeholder" {
		t.Fatalf("a refusal changed the booking: %s", row.State)
	}
	r = c.problemCall("POST", path, `{"confirm_mismatch": true, "reason": "the practice gave her this time; the patient agreed by phone"}`, nil)
	if r.status != 200 || r.body["status"] != "booked" || r.body["emis_number"] != float64(9001) {
		t.Fatalf("confirmed: %d\n%s", r.status, r.raw)
	}
	row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID)
	if row.State != "booked" || row.MatchRule != booking.RuleBookedInEMIS || row.EMISPatientID != 0 {
		t.Fatalf("after booked in EMIS: %+v", row)
	}
	if ev := b.placeholderEvents(t, a.ID); !strings.Contains(ev, "appointment.reconciled/booked_in_emis") {
		t.Fatalf("no reconciliation recorded: %s", ev)
	}
}

func TestStaffSetThePlaceholderThresholdAndTheBookingsPageShowsTheFiguresAndTheOverdueNotice(t *testing.T) {
	b := setup(t)
	pid, a := b.withPlaceholder(t)
	id := strconv.FormatInt(pid, 10)
	c := b.signedIn(t, "manager", store.RolePractice, pid)
	c.problemCall("PUT", "/admin/practices/"+id+"/placeholders/threshold", `{"minutes": 0}`, nil).wantProblem(t, 422, "validation_failed")
	if r := c.problemCall("PUT", "/admin/practices/"+id+"/placeholders/threshold", `{"minutes": 25}`, nil); r.status != 200 {
		t.Fatalf("threshold: %d\n%s", r.status, r.raw)
	}
	if bad := c.post("/admin/practices/"+id+"/bookings/threshold", map[string][]string{"overdue_minutes": {"soon"}}); bad.status != http.StatusUnprocessableEntity {
		t.Fatalf("a threshold of %q: %d", "soon", bad.status)
	}
	page := c.get("/admin/practices/" + id + "/bookings")
	for _, want := range []string{"Oldest waiting", "Median time to resolve", "25 minutes", a.Reference, "Booked by hand in EMIS", "Quill-Unknown"} {
		if !strings.Contains(page.body, want) {
			t.Fatalf("the bookings page lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, "overdue-notice") {
		t.Fatal("an overdue notice before the threshold passed")
	}
	b.booking.PlaceholderAlertAfter = time.Nanosecond // every placeholder is past it now
	page = c.get("/admin/practices/" + id + "/bookings")
	if !strings.Contains(page.body, "overdue-notice") || !strings.Contains(page.body, "1 placeholder has waited longer than") {
		t.Fatalf("no overdue notice:\n%s", page.body)
	}
	// The practice's own page says so too, once the placeholder has waited past 25 minutes.
	if practice := c.get("/admin/practices/" + id); !strings.Contains(practice.body, "placeholders-waiting") || strings.Contains(practice.body, "placeholders-overdue") {
		t.Fatalf("the practice page before the threshold:\n%s", practice.body)
	}
	if _, err := b.store.DBQ().ExecContext(context.Background(), `UPDATE appointment_events SET at = ? WHERE appointment_id = ?`,
		time.Now().Add(-26*time.Minute).UnixMilli(), a.ID); err != nil {
		t.Fatal(err)
	}
	if practice := c.get("/admin/practices/" + id); !strings.Contains(practice.body, "placeholders-overdue") {
		t.Fatalf("the practice page does not say a placeholder is overdue:\n%s", practice.body)
	}
}

func TestTheBookedByHandButtonShowsWhoEMISHoldsWhenTheyDifferAndFollowsItOnceConfirmed(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	pid, a := b.withPlaceholder(t)
	c := b.signedIn(t, "reception", store.RolePractice, pid)
	path := "/admin/practices/" + strconv.FormatInt(pid, 10) + "/bookings/" + a.ID + "/booked-in-emis"
	if r := c.post(path, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "EMIS does not show an appointment") {
		t.Fatalf("nothing booked in EMIS: %d\n%s", r.status, r.body)
	}
	b.receptionBooks(t, pid, a, 9001) // Demo Dorothy, not the patient who booked
	r := c.post(path, nil)
	for _, want := range []string{"does not agree with what the patient typed", "EMIS number 9001", "Demo", "Quill-Unknown", "The patient in the slot is this patient"} {
		if r.status != http.StatusConflict || !strings.Contains(r.body, want) {
			t.Fatalf("the mismatch page lacks %q: %d\n%s", want, r.status, r.body)
		}
	}
	done := c.post(path, map[string][]string{"confirm_mismatch": {"yes"}, "reason": {"reception gave her the time; agreed with the patient"}})
	if done.status != http.StatusOK || !strings.Contains(done.body, "herolink now follows it") {
		t.Fatalf("confirmed: %d\n%s", done.status, done.body)
	}
	if row, _ := b.store.Appointment(ctx, b.store.DBQ(), a.ID); row.State != "booked" || row.MatchRule != booking.RuleBookedInEMIS {
		t.Fatalf("after confirming: %s %s", row.State, row.MatchRule)
	}
}
