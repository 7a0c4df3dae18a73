package practice_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/mapping"
	"herolink/internal/practice"
	"herolink/internal/store"
)

// admin calls the sandbox's administration API ("EMIS Web" as practice staff use it).
func (b *testBundle) admin(t *testing.T, method, path string, body any) {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		must(t, json.NewEncoder(&rd).Encode(body))
	}
	req, err := http.NewRequest(method, fmt.Sprintf("%s/sandbox/v1/organisations/%d%s", b.srv.URL, sandbox.DemoCDB, path), &rd)
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
}

// mapped connects the demo practice and maps it the way staff would, so herolink knows which
// slot type is for unregistered patients.
func (b *testBundle) mapped(t *testing.T) (practiceID int64, unreg int, maps *mapping.Service) {
	t.Helper()
	ctx := context.Background()
	res := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	if !res.Saved {
		t.Fatalf("connect: %+v", res)
	}
	maps = &mapping.Service{Store: b.store, Conns: b.service}
	must(t, maps.AdoptDefaults(ctx, "setup", res.PracticeID))
	unreg, err := b.store.UnregisteredSlotTypeID(ctx, res.PracticeID)
	if err != nil || unreg == 0 {
		t.Fatalf("no unregistered slot type after mapping: %d, %v", unreg, err)
	}
	return res.PracticeID, unreg, maps
}

func reasonCodes(rs []mapping.Reason) string {
	var codes []string
	for _, r := range rs {
		codes = append(codes, r.Code)
	}
	return strings.Join(codes, ",")
}

func TestHealthAndReadinessNoticeTheUnregisteredSlotTypeMadeUnbookableInEMISAndItsReturn(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	id, unreg, maps := b.mapped(t)
	if u, err := b.service.CheckHealth(ctx, id); err != nil || u.Status != store.HealthConnected {
		t.Fatalf("before any change: %+v, %v", u, err)
	}

	b.admin(t, http.MethodPatch, fmt.Sprintf("/slot-types/%d", unreg), map[string]any{"bookable": false})
	u, err := b.service.CheckHealth(ctx, id)
	if err != nil || u.Status != store.HealthFailing {
		t.Fatalf("unbookable: %+v, %v", u, err)
	}
	for _, want := range []string{"not bookable", "Appts config", "Slot types", "tick Bookable", "Hero unregistered patient"} {
		if !strings.Contains(u.Reason, want) {
			t.Fatalf("health reason lacks %q: %s", want, u.Reason)
		}
	}
	r, err := maps.Readiness(ctx, id)
	if err != nil || r.Ready || !strings.Contains(reasonCodes(r.Reasons()), mapping.CodeUnregisteredNotBookable) {
		t.Fatalf("readiness while unbookable: ready=%v reasons=%s, %v", r.Ready, reasonCodes(r.Reasons()), err)
	}

	b.admin(t, http.MethodPatch, fmt.Sprintf("/slot-types/%d", unreg), map[string]any{"bookable": true})
	if u, _ := b.service.CheckHealth(ctx, id); u.Status != store.HealthConnected {
		t.Fatalf("bookable again: %+v", u)
	}
	r, _ = maps.Readiness(ctx, id)
	if codes := reasonCodes(r.Reasons()); strings.Contains(codes, "unregistered") || strings.Contains(codes, "connection") {
		t.Fatalf("readiness after the fix still says %s", codes)
	}
}

func TestHealthAndReadinessSayWhenTheUnregisteredSlotTypeIsDeletedInEMIS(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	id, unreg, maps := b.mapped(t)
	b.admin(t, http.MethodDelete, fmt.Sprintf("/slot-types/%d", unreg), nil)
	u, err := b.service.CheckHealth(ctx, id)
	if err != nil || u.Status != store.HealthFailing {
		t.Fatalf("deleted: %+v, %v", u, err)
	}
	for _, want := range []string{"deleted in EMIS", "click Add", `name the new slot type "Hero unregistered patient"`, "Bookable ticked", "Unregistered Patient Booking"} {
		if !strings.Contains(u.Reason, want) {
			t.Fatalf("health reason lacks %q: %s", want, u.Reason)
		}
	}
	r, _ := maps.Readiness(ctx, id)
	if r.Ready || !strings.Contains(reasonCodes(r.Reasons()), mapping.CodeUnregisteredDeleted) {
		t.Fatalf("readiness: ready=%v reasons=%s", r.Ready, reasonCodes(r.Reasons()))
	}
	entries, _ := b.store.ListAudit(ctx, id, 100)
	found := false
	for _, e := range entries {
		found = found || e.Action == "mapping.changed_in_emis" && strings.Contains(e.Detail, "deleted")
	}
	if !found {
		t.Fatalf("no audit entry says the slot type was deleted: %+v", entries)
	}

	// The practice follows the guide's Step 3 again: herolink takes the new slot type.
	b.admin(t, http.MethodPost, "/slot-types", map[string]any{"name": "Hero unregistered patient", "bookable": true})
	u, err = b.service.CheckHealth(ctx, id)
	if err != nil || u.Status != store.HealthConnected || !strings.Contains(u.Reason, "herolink now uses the new one") {
		t.Fatalf("after adding it again: %+v, %v", u, err)
	}
	now, _ := b.store.UnregisteredSlotTypeID(ctx, id)
	if now == 0 || now == unreg {
		t.Fatalf("unregistered slot type = %d, want the new one (not %d)", now, unreg)
	}
	if r, _ := maps.Readiness(ctx, id); strings.Contains(reasonCodes(r.Reasons()), "unregistered") {
		t.Fatalf("readiness still says %s", reasonCodes(r.Reasons()))
	}
}

// A rename keeps the slot type's EMIS id: herolink follows the id (placeholders keep
// reserving time) and warns that the diary now shows another name.
func TestARenamedUnregisteredSlotTypeIsFollowedByItsIdWithAWarning(t *testing.T) {
	t.Parallel()
	b := setup(t, bundleOpts{preconfigured: true})
	ctx := context.Background()
	id, unreg, maps := b.mapped(t)
	b.admin(t, http.MethodPatch, fmt.Sprintf("/slot-types/%d", unreg), map[string]any{"name": "Online walk-in"})
	u, err := b.service.CheckHealth(ctx, id)
	if err != nil || u.Status != store.HealthConnected || !strings.Contains(u.Reason, `now called "Online walk-in"`) {
		t.Fatalf("renamed: %+v, %v", u, err)
	}
	if got, _ := b.store.UnregisteredSlotTypeID(ctx, id); got != unreg {
		t.Fatalf("after the rename the unregistered slot type is %d, want %d (the same EMIS id)", got, unreg)
	}
	r, _ := maps.Readiness(ctx, id)
	if strings.Contains(reasonCodes(r.Reasons()), "unregistered") || reasonCodes(r.Warnings) != mapping.CodeUnregisteredRenamed {
		t.Fatalf("readiness: reasons=%s warnings=%s", reasonCodes(r.Reasons()), reasonCodes(r.Warnings))
	}
	entries, _ := b.store.ListAudit(ctx, id, 100)
	found := false
	for _, e := range entries {
		found = found || strings.Contains(e.Detail, `renamed from "Hero unregistered patient" to "Online walk-in"`)
	}
	if !found {
		t.Fatal("no audit entry records the rename")
	}
}

func TestAContractEndDateIsWarnedWithTheDateAndDaysLeftThenFailsHealthWhenPassed(t *testing.T) {
	t.Parallel()
	var later atomic.Int64 // days the sandbox's clock runs ahead
	b := setup(t, bundleOpts{preconfigured: true, now: func() time.Time { return time.Now().AddDate(0, 0, int(later.Load())) }})
	ctx := context.Background()
	today := b.world.Today()
	end := today.AddDays(10)
	b.admin(t, http.MethodPatch, "/users/Herouser", map[string]any{"contract_end": end.String()})

	// The connection test warns, and still connects.
	res := b.connect(t, "Herouser", sandbox.DemoAPIPassword)
	acct := res.Test.Checks.Get(practice.StepAccount)
	if !res.Saved || acct.Status != practice.Pass || !strings.Contains(acct.Message, end.String()) || !strings.Contains(acct.Message, "10 days left") ||
		!strings.Contains(acct.Message, "Contract end date") {
		t.Fatalf("connection test: saved=%v account=%+v", res.Saved, acct)
	}
	// The practice page shows the connection's health reason: it warns from the start.
	if p, err := b.store.PracticeByID(ctx, res.PracticeID); err != nil || !strings.Contains(p.HealthReason, end.String()) || !strings.Contains(p.HealthReason, "10 days left") {
		t.Fatalf("health reason after connecting: %q, %v", p.HealthReason, err)
	}
	// Health stays connected, and warns.
	u, err := b.service.CheckHealth(ctx, res.PracticeID)
	if err != nil || u.Status != store.HealthConnected || !strings.Contains(u.Reason, end.String()) || !strings.Contains(u.Reason, "10 days left") {
		t.Fatalf("health before the date: %+v, %v", u, err)
	}
	// Once the end date has passed EMIS refuses the logon: health fails with the diagnosis.
	later.Store(11)
	u, _ = b.service.CheckHealth(ctx, res.PracticeID)
	if u.Status != store.HealthFailing || !strings.Contains(u.Reason, "contract has ended on "+end.String()) || !strings.Contains(u.Reason, "clear the Contract end date") {
		t.Fatalf("health after the date: %+v", u)
	}
}

func TestContractWarningCountsTheDaysLeft(t *testing.T) {
	t.Parallel()
	today := emis.Date{Year: 2026, Month: 12, Day: 1}
	for _, c := range []struct {
		end, want string
	}{
		{"", ""},
		{"2026-12-01", "today is its last day"},
		{"2026-12-02", "(1 day left)"},
		{"2027-01-01", "(31 days left)"},
		{"not a date", "cannot read"},
	} {
		got := practice.ContractWarning(&emis.CurrentUser{Username: "Herouser", ContractEnd: c.end}, today)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("end %q: %q, want it to say %q", c.end, got, c.want)
		}
	}
}
