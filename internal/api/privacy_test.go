package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"herolink/internal/api/apitest"
	"herolink/internal/app"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
)

// registerBundle is the whole of herolink (the app's own handler and booking core) over the
// sandbox's demo practice, whose register starts with the hard cases: twins born 2009-03-14
// (EMIS 500 and 501), triplets born 2019-06-21 (511 to 513).
type registerBundle struct {
	app   *app.App
	org   *sandbox.Org
	info  app.DemoInfo
	twins []sandbox.Patient
}

func setupRegister(t *testing.T) *registerBundle {
	t.Helper()
	ctx := t.Context() // EMIS calls are bounded by the client's own timeout
	world := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true})
	emisSrv := httptest.NewServer(sandbox.NewServer(world, nil))
	t.Cleanup(emisSrv.Close)
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir(), EMISURL: emisSrv.URL, SupplierID: sandbox.DefaultSupplierID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Store.Close() })
	info, err := a.SeedDemo(ctx, "http://admin", emisSrv.URL)
	if err != nil {
		t.Fatal(err)
	}
	org, err := world.Org(sandbox.DemoCDB)
	if err != nil {
		t.Fatal(err)
	}
	b := &registerBundle{app: a, org: org, info: info}
	for _, id := range []int64{500, 501} {
		p, err := org.GetPatient(id)
		if err != nil || p.DateOfBirth != "2009-03-14" || p.FamilyName != "Okafor" {
			t.Fatalf("the demo register's twins moved: %+v %v", p, err)
		}
		b.twins = append(b.twins, p)
	}
	return b
}

func (b *registerBundle) call(t *testing.T, method, path, body string) apitest.Exchange {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("x-api-key", b.info.APIKey)
	r.Header.Set("x-practice-group-id", b.info.PracticeGroupID)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	b.app.Handler.ServeHTTP(rec, r)
	x := apitest.Exchange{Method: method, Path: path, RequestBody: body, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	apitest.Check(t, x)
	return x
}

// check registers a patient with body and asks whether herolink can link them.
func (b *registerBundle) check(t *testing.T, body string) (patientID string, answer map[string]any, raw []byte) {
	t.Helper()
	x := b.call(t, "POST", "/v1/patients/register", body)
	if x.Status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", body, x.Status, x.Body)
	}
	var p map[string]any
	_ = json.Unmarshal(x.Body, &p)
	patientID = p["id"].(string)
	x = b.call(t, "GET", "/v1/patients/"+patientID+"/ehr/candidates", "")
	if x.Status != http.StatusOK {
		t.Fatalf("link check: %d %s", x.Status, x.Body)
	}
	if err := json.Unmarshal(x.Body, &answer); err != nil {
		t.Fatal(err)
	}
	return patientID, answer, x.Body
}

// leaves visits every value of a decoded JSON document with its path.
func leaves(v any, path string, visit func(path string, v any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			leaves(e, path+"."+k, visit)
		}
	case []any:
		for i, e := range v {
			leaves(e, path+"["+strconv.Itoa(i)+"]", visit)
		}
	default:
		visit(path, v)
	}
}

var digitRun = regexp.MustCompile(`[0-9]{3,}`)

// mustRevealNothing walks an answer: every value is one the partner sent (the patient id, the
// practice id) or one of the fixed words and sentences of the answer, never a run of digits
// (an EMIS or NHS number) from anywhere else, never the details of anyone in the register.
func mustRevealNothing(t *testing.T, answer map[string]any, sent []string, register ...sandbox.Patient) {
	t.Helper()
	leaves(answer, "$", func(path string, v any) {
		s := fmt.Sprint(v)
		for _, run := range digitRun.FindAllString(s, -1) {
			ok := false
			for _, x := range sent {
				ok = ok || strings.Contains(x, run)
			}
			if !ok {
				t.Errorf("%s = %q carries a number the partner did not send: %s", path, s, run)
			}
		}
		for _, p := range register {
			for _, secret := range []string{p.NHSNumber, p.FirstNames, p.FamilyName, p.Postcode, strconv.FormatInt(p.ID, 10)} {
				if secret != "" && strings.Contains(s, secret) {
					t.Errorf("%s = %q names a registered person (%q)", path, s, secret)
				}
			}
		}
	})
	for k := range answer {
		switch k {
		case "patient_id", "practice_id", "outcome", "reason", "detail":
		default:
			t.Errorf("the answer has a member %q", k)
		}
	}
}

func withoutPatient(m map[string]any) string {
	c := map[string]any{}
	for k, v := range m {
		if k != "patient_id" {
			c[k] = v
		}
	}
	out, _ := json.Marshal(c)
	return string(out)
}

// The register of the demo practice, probed the ways a partner could probe it. Each subtest
// failed before link checks stopped returning the search's candidates.
func TestALinkCheckTellsAPartnerNothingAboutTheRegisterBeyondWhatItSent(t *testing.T) {
	t.Parallel()
	b := setupRegister(t)
	twinA := b.twins[0]
	practice := func(m map[string]any) string { return m["practice_id"].(string) }
	notLinked := func(t *testing.T, m map[string]any, raw []byte) {
		t.Helper()
		if m["outcome"] != "not_linked" || m["reason"] != "no_unique_match" {
			t.Fatalf("%s", raw)
		}
	}
	checked := map[string]bool{} // patient ids looked up, for the audit

	t.Run("registering the twins' date of birth with made-up names does not reveal the twins", func(t *testing.T) {
		id, m, raw := b.check(t, `{"family_name":"Nobody","given_name":"Nobody","date_of_birth":"2009-03-14"}`)
		checked[id] = true
		notLinked(t, m, raw)
		mustRevealNothing(t, m, []string{id, practice(m)}, b.twins...)
	})

	t.Run("an NHS number with the wrong date of birth answers exactly as an NHS number nobody holds", func(t *testing.T) {
		wrong, m, raw := b.check(t, `{"nhs_number":"`+twinA.NHSNumber+`","date_of_birth":"1990-01-01"}`)
		checked[wrong] = true
		notLinked(t, m, raw)
		mustRevealNothing(t, m, []string{wrong, practice(m), twinA.NHSNumber, "1990-01-01"}, b.twins[1])
		unheld, m2, _ := b.check(t, `{"nhs_number":"9999999999","date_of_birth":"1990-01-01"}`)
		checked[unheld] = true
		if withoutPatient(m) != withoutPatient(m2) {
			t.Fatalf("the holder's NHS number answers\n%s\nnobody's answers\n%s", withoutPatient(m), withoutPatient(m2))
		}
	})

	t.Run("walking the dates of birth learns nothing", func(t *testing.T) {
		var answers []string
		// The twins' birthday, the triplets' and a day nobody on the register was born.
		for _, dob := range []string{"2009-03-14", "2019-06-21", "1900-02-03"} {
			id, m, raw := b.check(t, `{"family_name":"Nobody","given_name":"Nobody","date_of_birth":"`+dob+`"}`)
			checked[id] = true
			notLinked(t, m, raw)
			mustRevealNothing(t, m, []string{id, practice(m)}, b.twins...)
			answers = append(answers, withoutPatient(m))
		}
		if answers[0] != answers[1] || answers[1] != answers[2] {
			t.Fatalf("the answers differ by date of birth: %q", answers)
		}
	})

	t.Run("the twin herself is linked, and told no EMIS number", func(t *testing.T) {
		id, m, raw := b.check(t, fmt.Sprintf(`{"nhs_number":%q,"family_name":%q,"given_name":%q,"date_of_birth":%q}`,
			twinA.NHSNumber, twinA.FamilyName, twinA.FirstNames, twinA.DateOfBirth))
		checked[id] = true
		if m["outcome"] != "linked" || m["reason"] != nil {
			t.Fatalf("%s", raw)
		}
		mustRevealNothing(t, m, []string{id, practice(m), twinA.NHSNumber, twinA.FamilyName, twinA.FirstNames, twinA.DateOfBirth}, b.twins[1])
		if strings.Contains(string(raw), strconv.FormatInt(twinA.ID, 10)) || strings.Contains(string(raw), "emis") {
			t.Fatalf("the EMIS number is revealed: %s", raw)
		}
	})

	t.Run("every look-up is audited with key, partner, practice and patient and no demographics", func(t *testing.T) {
		lines, err := b.app.Store.ListAudit(context.Background(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if l.Action != "patient.link_checked" {
				continue
			}
			if !strings.HasPrefix(l.Actor, "api_key:") || l.PracticeID == 0 || !strings.Contains(l.Detail, "partner ") {
				t.Errorf("audit line %+v", l)
			}
			for _, secret := range []string{"Nobody", "Okafor", "2009", "1990", twinA.NHSNumber, "9999999999"} {
				if strings.Contains(l.Detail+l.Actor, secret) {
					t.Errorf("audit line carries demographics: %+v", l)
				}
			}
			for id := range checked {
				if strings.Contains(l.Detail, id) {
					seen[id] = true
				}
			}
		}
		if len(checked) == 0 || len(seen) != len(checked) {
			t.Fatalf("audited %d of %d look-ups: %+v", len(seen), len(checked), lines)
		}
	})
}

// A booking for a Mohammed Khan born 1984-07-02 cannot be linked: two people on the register
// have those details (EMIS 502 and 503). The partner's appointment says why with a code that
// reveals neither of them.
func TestAPlaceholderTellsThePartnerOnlyAReasonCodeThatRevealsNoOtherRecord(t *testing.T) {
	t.Parallel()
	b := setupRegister(t)
	ctx := context.Background()
	var khans []sandbox.Patient
	for _, id := range []int64{502, 503} {
		p, err := b.org.GetPatient(id)
		if err != nil || p.FamilyName != "Khan" {
			t.Fatalf("the demo register's namesakes moved: %+v %v", p, err)
		}
		khans = append(khans, p)
	}
	p, err := b.app.Store.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	today := emis.Today(time.Now())
	if _, err := b.app.Sync.Engine.Sync(ctx, p.ID, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}
	x := b.call(t, "GET", "/v1/slots?start_date="+today.AddDays(3).String()+"&end_date="+today.AddDays(10).String()+"&limit=1", "")
	var slots struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(x.Body, &slots); err != nil || len(slots.Data) == 0 {
		t.Fatalf("slots: %d %s", x.Status, x.Body)
	}
	x = b.call(t, "POST", "/v1/appointments", `{"slot_id":"`+slots.Data[0].ID+`"}`)
	var held map[string]any
	_ = json.Unmarshal(x.Body, &held)
	id, _ := held["id"].(string)
	if x.Status != http.StatusCreated {
		t.Fatalf("reserve: %d %s", x.Status, x.Body)
	}
	body := `{"patient":{"family_name":"Khan","given_name":"Mohammed","date_of_birth":"1984-07-02"}}`
	if x = b.call(t, "POST", "/v1/appointments/"+id+"/book", body); x.Status != http.StatusAccepted {
		t.Fatalf("book: %d %s", x.Status, x.Body)
	}
	for range 3 {
		if err = b.app.Booking.Writeback(ctx, id); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	x = b.call(t, "GET", "/v1/appointments/"+id, "")
	var m map[string]any
	if err := json.Unmarshal(x.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["state"] != "placeholder" || m["placeholder_reason"] != "no_unique_match" {
		t.Fatalf("%s", x.Body)
	}
	leaves(m, "$", func(path string, v any) {
		s := fmt.Sprint(v)
		for _, k := range khans {
			if strings.Contains(s, k.NHSNumber) || s == strconv.FormatInt(k.ID, 10) || strings.Contains(s, "EMIS "+strconv.FormatInt(k.ID, 10)) ||
				strings.Contains(s, k.Postcode) {
				t.Errorf("%s = %q names a namesake on the register", path, s)
			}
		}
		if strings.Contains(s, "several") || strings.Contains(s, "candidate") {
			t.Errorf("%s = %q says what the register holds", path, s)
		}
	})
}
