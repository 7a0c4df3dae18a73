package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"herolink/internal/api"
	"herolink/internal/api/apitest"
	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
)

// A kill between an operation's commit and the keeping of its answer used to leave the
// Idempotency-Key claimed but unanswered; once its lease ran out the retry ran the operation
// again (a second patient, a second hold). Now the key's use commits with the operation, so
// the retry is answered from what the first request made, whenever it comes.
func TestARetryAfterAKillBetweenTheOperationAndItsAnswerNeverRunsTheOperationTwice(t *testing.T) {
	t.Parallel()
	b := setupRegister(t)
	ctx := context.Background()
	st := b.app.Store
	var offset atomic.Int64 // the store's clock runs ahead to pass the first request's lease
	st.SetClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	p, err := st.PracticeByODS(ctx, sandbox.DemoODS)
	if err != nil {
		t.Fatal(err)
	}
	today := emis.Today(time.Now())
	if _, err := b.app.Sync.Engine.Sync(ctx, p.ID, slotsync.Window{From: today, To: today.AddDays(13), Full: true}); err != nil {
		t.Fatal(err)
	}

	var crash atomic.Bool
	cfg := api.Config{Keys: b.app.Keys, Booking: b.app.Booking, Store: st}
	api.CrashAfterOperation(&cfg, crash.Load)
	h := api.New(cfg)
	send := func(method, path, body, key string) apitest.Exchange {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("x-api-key", b.info.APIKey)
		r.Header.Set("x-practice-group-id", b.info.PracticeGroupID)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Idempotency-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		x := apitest.Exchange{Method: method, Path: path, RequestBody: body, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
		apitest.Check(t, x)
		return x
	}
	count := func(query string) int {
		t.Helper()
		var n int
		if err := st.DBQ().QueryRowContext(ctx, query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	idOf := func(x apitest.Exchange) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(x.Body, &m); err != nil {
			t.Fatalf("%d %s", x.Status, x.Body)
		}
		id, _ := m["id"].(string)
		return id
	}
	// killed sends a request whose process "dies" once the operation committed, then its
	// retry after the first request's lease ran out; the retry must be answered, replayed,
	// with what the first made, and the operation must have run once.
	killed := func(name, method, path, body string, status int, counter string) string {
		t.Helper()
		before := count(counter)
		crash.Store(true)
		first := send(method, path, body, "kill-"+name)
		crash.Store(false)
		if first.Status != status {
			t.Fatalf("%s: the first attempt answered %d %s", name, first.Status, first.Body)
		}
		offset.Add(int64(2 * time.Minute))
		retry := send(method, path, body, "kill-"+name)
		if retry.Status != status || retry.Header.Get("Idempotent-Replayed") != "true" || idOf(retry) != idOf(first) {
			t.Fatalf("%s: the retry answered %d %v\n%s\nthe first made %s", name, retry.Status, retry.Header, retry.Body, idOf(first))
		}
		if n := count(counter); n != before+1 {
			t.Fatalf("%s ran %d times", name, n-before)
		}
		// Later retries replay the answer now kept.
		if again := send(method, path, body, "kill-"+name); string(again.Body) != string(retry.Body) || again.Status != status {
			t.Fatalf("%s: a later retry answered %d %s", name, again.Status, again.Body)
		}
		return idOf(first)
	}

	killed("register", "POST", "/v1/patients/register", `{"family_name":"Nobody","given_name":"Nobody","date_of_birth":"1960-01-01"}`,
		http.StatusCreated, `SELECT COUNT(*) FROM patients`)

	x := send("GET", "/v1/slots?start_date="+today.AddDays(3).String()+"&end_date="+today.AddDays(10).String()+"&limit=2", "", "")
	var slots struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(x.Body, &slots); err != nil || len(slots.Data) < 2 {
		t.Fatalf("slots: %d %s", x.Status, x.Body)
	}
	apt := killed("reserve", "POST", "/v1/appointments", `{"slot_id":"`+slots.Data[0].ID+`"}`,
		http.StatusCreated, `SELECT COUNT(*) FROM appointments`)
	killed("book", "POST", "/v1/appointments/"+apt+"/book", `{"patient":{"family_name":"Nobody","given_name":"Nobody","date_of_birth":"1961-01-01"}}`,
		http.StatusAccepted, `SELECT COUNT(*) FROM appointment_events WHERE event = 'appointment.confirming'`)
	for range 3 {
		if err = b.app.Booking.Writeback(ctx, apt); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	killed("reschedule", "POST", "/v1/appointments/"+apt+"/reschedule", `{"slot_id":"`+slots.Data[1].ID+`"}`,
		http.StatusAccepted, `SELECT COUNT(*) FROM appointments`)
}
