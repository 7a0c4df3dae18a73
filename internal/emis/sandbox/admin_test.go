package sandbox_test

import (
	"strconv"
	"strings"
	"testing"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
)

func TestUserFormRefusesBadInputWithASpecificMessageAndStoresNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	before := len(mustDecode[[]sandbox.User](t, b.mustAdmin(t, 200, "GET", demoOrg+"/users", nil)))
	with := func(k string, v any) map[string]any {
		f := herouserForm("Herouser")
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	cases := []struct {
		name string
		body map[string]any
		says string
	}{
		{"no username", with("username", nil), "username is required"},
		{"username with a trailing space", with("username", "Herouser "), "spaces at the start or end"},
		{"no password", with("password", nil), "password is required"},
		{"short password", with("password", "short"), "at least 8"},
		{"unknown gender", with("gender", "Robot"), "gender"},
		{"bad email", with("email", "not-an-email"), "email"},
		{"impossible contract start", with("contract_start", "2026-13-01"), "contract_start"},
		{"contract ends before it starts", with("contract_end", "2020-01-01"), "before contract_start"},
		{"misspelt field", with("usename", "x"), "unknown field"},
	}
	for _, c := range cases {
		status, body := b.admin(t, "POST", demoOrg+"/users", c.body)
		if status != 422 || !strings.Contains(string(body), c.says) {
			t.Errorf("%s: %d %s, want 422 saying %q", c.name, status, body, c.says)
		}
	}
	if after := len(mustDecode[[]sandbox.User](t, b.mustAdmin(t, 200, "GET", demoOrg+"/users", nil))); after != before {
		t.Fatalf("refused forms created users: %d -> %d", before, after)
	}
	status, _ := b.admin(t, "GET", "/sandbox/v1/organisations/424242/users", nil)
	if status != 404 {
		t.Fatalf("unknown organisation: %d, want 404", status)
	}
}

func TestOrganisationsAndTheODSDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t, sandbox.Options{Seed: 1})
	b.mustAdmin(t, 201, "POST", "/sandbox/v1/organisations", map[string]any{"ods": " b82005 ", "cdb": 4242, "name": "Hillcrest Surgery"})
	got := mustDecode[sandbox.OrgView](t, b.mustAdmin(t, 200, "GET", "/sandbox/v1/directory/B82005", nil))
	if got.CDB != 4242 || got.ODS != "B82005" {
		t.Fatalf("directory = %+v", got)
	}
	for _, c := range []struct {
		body   map[string]any
		status int
		says   string
	}{
		{map[string]any{"ods": "B82005", "cdb": 5, "name": "x"}, 409, "ODS code B82005 already exists"},
		{map[string]any{"ods": "Q1", "cdb": 6, "name": "x"}, 422, "not an ODS code"},
		{map[string]any{"ods": "Q12345", "cdb": 4242, "name": "x"}, 409, "CDB 4242 already exists"},
		{map[string]any{"ods": "Q12345", "cdb": 7}, 422, "name is required"},
	} {
		status, body := b.admin(t, "POST", "/sandbox/v1/organisations", c.body)
		if status != c.status || !strings.Contains(string(body), c.says) {
			t.Errorf("%v: %d %s, want %d saying %q", c.body, status, body, c.status, c.says)
		}
	}
	if status, _ := b.admin(t, "GET", "/sandbox/v1/directory/Z99999", nil); status != 404 {
		t.Fatalf("unknown ODS code: %d, want 404", status)
	}
}

func TestReceptionChangesShowInThePartnerAPI(t *testing.T) {
	t.Parallel()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	free := findSlot(t, b, conn, freeFuture(b))
	id := strconv.FormatInt(free.DBID, 10)

	b.mustAdmin(t, 200, "POST", demoOrg+"/slots/"+id+"/book", map[string]any{"patient_id": 9002, "reason": "walk-in"})
	if c := countsOf(t, conn, free, 1); c.Booked == 0 {
		t.Fatalf("reception booking not counted: %+v", c)
	}
	status, body := b.admin(t, "POST", demoOrg+"/slots/"+id+"/book", map[string]any{"patient_id": 9001})
	if status != 409 || !strings.Contains(string(body), "already booked") {
		t.Fatalf("double booking by reception: %d %s", status, body)
	}
	b.mustAdmin(t, 200, "POST", demoOrg+"/slots/"+id+"/cancel", nil)
	sl := mustDecodeWire[emis.Slot](t, b.mustAdmin(t, 200, "PATCH", demoOrg+"/slots/"+id, map[string]any{"status": "blocked"}))
	if sl.Status != emis.SlotBlocked {
		t.Fatalf("blocked slot = %+v", sl)
	}

	// Sessions: add, move, remove.
	d := emis.Today(b.clock.Now()).AddDays(7)
	added := mustDecodeWire[sandbox.SessionView](t, b.mustAdmin(t, 201, "POST", demoOrg+"/sessions", map[string]any{
		"date": d.String(), "start_time": "18:00", "end_time": "19:00", "slot_length": 15, "site_id": 101, "holder_id": 201, "slot_type_id": 1}))
	moved := mustDecodeWire[sandbox.SessionView](t, b.mustAdmin(t, 200, "PATCH", demoOrg+"/sessions/"+strconv.FormatInt(added.DBID, 10), map[string]any{"start_time": "18:30"}))
	if moved.StartTime != "18:30" || moved.EndTime != "19:30" || moved.Slots[0].StartTime != "18:30" {
		t.Fatalf("moved session = %+v", moved.Session)
	}
	slots, err := conn.GetSlotsForSession(t.Context(), added.DBID)
	if err != nil || len(slots) != 4 || slots[3].StartTime != "19:15" {
		t.Fatalf("partner sees %+v, %v", slots, err)
	}
	b.mustAdmin(t, 204, "DELETE", demoOrg+"/sessions/"+strconv.FormatInt(added.DBID, 10), nil)
	if _, err := conn.GetSlotsForSession(t.Context(), added.DBID); err == nil {
		t.Fatal("a removed session still answers")
	}
	for _, bad := range []map[string]any{
		{"date": d.String(), "start_time": "18:00", "end_time": "18:50", "slot_length": 15, "site_id": 101, "holder_id": 201, "slot_type_id": 1},
		{"date": d.String(), "start_time": "18:00", "end_time": "19:00", "slot_length": 15, "site_id": 999, "holder_id": 201, "slot_type_id": 1},
		{"date": "tomorrow", "start_time": "18:00", "end_time": "19:00", "slot_length": 15, "site_id": 101, "holder_id": 201, "slot_type_id": 1},
	} {
		if status, body := b.admin(t, "POST", demoOrg+"/sessions", bad); status != 422 {
			t.Errorf("bad session %v: %d %s", bad, status, body)
		}
	}
}

func TestStatsCountCallsPerMethodAndReset(t *testing.T) {
	t.Parallel()
	b, conn := connected(t, sandbox.Options{Seed: 1})
	if _, err := conn.GetCurrentUser(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := mustDecode[sandbox.Stats](t, b.mustAdmin(t, 200, "GET", "/sandbox/v1/stats", nil))
	if st.Calls[emis.MethodInitializeWithID] != 1 || st.Calls[emis.MethodLogon] != 1 || st.Calls[emis.MethodGetCurrentUser] != 1 || st.Total != 3 {
		t.Fatalf("stats = %+v", st)
	}
	b.mustAdmin(t, 204, "DELETE", "/sandbox/v1/stats", nil)
	if st := mustDecode[sandbox.Stats](t, b.mustAdmin(t, 200, "GET", "/sandbox/v1/stats?cdb=29001", nil)); st.Total != 0 {
		t.Fatalf("after reset: %+v", st)
	}
}
