package slotsync_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// freeIn finds a free routine slot after today in EMIS whose session is not one of these.
func (b *testBundle) freeIn(t *testing.T, notIn ...int64) emis.Slot {
	t.Helper()
	return b.firstSlot(t, func(s emis.Slot) bool {
		for _, id := range notIn {
			if s.SessionDBID == id {
				return false
			}
		}
		return free(s)
	})
}

func (b *testBundle) book(t *testing.T, slotID, patient int64) {
	t.Helper()
	_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: slotID, PatientID: patient})
	must(t, err)
}

func (b *testBundle) status(t *testing.T) store.SyncStatus {
	t.Helper()
	st, err := b.store.SyncStatus(context.Background(), b.practiceID)
	must(t, err)
	return st
}

func (b *testBundle) setIntercept(f func(rw http.ResponseWriter, r *http.Request) bool) {
	b.intercept.Store(&f)
}

// clearIntercept lets the sandbox answer every request again.
func (b *testBundle) clearIntercept() {
	b.setIntercept(func(http.ResponseWriter, *http.Request) bool { return false })
}

// afterEMISAnswersOnce runs fn once, at the first call of the Partner API method, after EMIS
// has answered it and before herolink reads the answer: fn acts in the middle of a pass.
func (b *testBundle) afterEMISAnswersOnce(method string, fn func()) {
	var once sync.Once
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/"+method) {
			return false
		}
		rec := httptest.NewRecorder()
		b.inner.ServeHTTP(rec, r)
		once.Do(fn)
		_, _ = rw.Write(rec.Body.Bytes())
		return true
	})
}

func TestASessionWhoseSlotsEMISWillNotGiveKeepsItsCopyWhileTheRestOfThePassIsApplied(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.engine.RetryPause = time.Millisecond
	b.sync(t)
	stuck := b.freeIn(t)
	other := b.freeIn(t, stuck.SessionDBID)
	b.book(t, stuck.DBID, 9001)
	b.book(t, other.DBID, 9002)
	before := b.status(t)
	// EMIS answers every call but the slots of one session.
	must(t, b.world.SetFaults(sandbox.Faults{Organisations: map[string]sandbox.FaultConfig{
		strconv.Itoa(sandbox.DemoCDB): {FailSlotsOf: []int64{stuck.SessionDBID}}}}))
	b.clock.Advance(time.Minute)
	res, err := b.engine.Sync(context.Background(), b.practiceID, b.full())
	var incomplete *slotsync.IncompleteError
	if !errors.As(err, &incomplete) || incomplete.Unread != 1 || res.Unread != 1 || res.SlotsRead != 1 {
		t.Fatalf("pass = %+v, %v; want the one session left unread and the other read", res, err)
	}
	if got, _ := b.storedSlot(t, other.DBID); got.Status != emis.SlotBooked {
		t.Fatalf("what the pass could read was not applied: %+v", got)
	}
	if got, _ := b.storedSlot(t, stuck.DBID); got.Status != emis.SlotAvailable {
		t.Fatalf("the unread session's copy changed: %+v", got)
	}
	st := b.status(t)
	if !st.LastSuccessAt.Equal(before.LastSuccessAt) || !strings.Contains(st.LastError, "could not be read") || st.ConsecutiveFailures != 1 {
		t.Fatalf("freshness claims more than the pass proved: before %+v after %+v", before, st)
	}
	// The next pass reads the session again: its summary was not recorded as current.
	must(t, b.world.SetFaults(sandbox.Faults{}))
	b.clock.Advance(time.Minute)
	res = b.sync(t)
	if got, _ := b.storedSlot(t, stuck.DBID); got.Status != emis.SlotBooked || res.SlotsRead != 1 {
		t.Fatalf("the next pass did not read the session again: %+v, pass %+v", got, res)
	}
	if st := b.status(t); !st.LastSuccessAt.After(before.LastSuccessAt) || st.LastError != "" || st.ConsecutiveFailures != 0 {
		t.Fatalf("a complete pass did not record its success: %+v", st)
	}
}

func TestEMISReadsThatFailOnceAreTriedAgainWithinThePass(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.engine.RetryPause = time.Millisecond
	b.sync(t)
	sl := b.freeIn(t)
	b.book(t, sl.DBID, 9001)
	// The first call of each method fails as a real EMIS sometimes does: a 503, then a reset.
	var sessions, slots atomic.Int32
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/GetAppointmentSessions") && sessions.Add(1) == 1:
			http.Error(rw, "busy", http.StatusServiceUnavailable)
			return true
		case strings.HasSuffix(r.URL.Path, "/GetSlotsForSession") && slots.Add(1) == 1:
			panic(http.ErrAbortHandler) // the connection is dropped with no answer
		}
		return false
	})
	res, err := b.engine.Sync(context.Background(), b.practiceID, b.full())
	if err != nil {
		t.Fatalf("one failure of each read failed the pass: %v", err)
	}
	if got, _ := b.storedSlot(t, sl.DBID); got.Status != emis.SlotBooked || sessions.Load() != 2 || slots.Load() != 2 || res.EMISCalls != 4 {
		t.Fatalf("stored %+v; calls: %d session lists, %d slot lists, pass %+v", got, sessions.Load(), slots.Load(), res)
	}
}

func TestASessionEndingAtMidnightIsCopiedWithTheRestOfThePractice(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.sync(t)
	day := emis.Today(b.clock.Now()).AddDays(5)
	v, err := b.demo.AddSession(sandbox.SessionInput{Date: day.String(), StartTime: "23:00", EndTime: "24:00",
		SlotLength: 15, SiteID: 101, HolderID: 201, SlotTypeID: 1, Name: "Overnight"})
	must(t, err)
	if v.EndTime != "24:00" {
		t.Fatalf("the sandbox wrote the end as %q, so this test proves nothing", v.EndTime)
	}
	other := b.freeIn(t, v.DBID)
	b.book(t, other.DBID, 9001)
	res := b.sync(t)
	last, ok := b.storedSlot(t, v.Slots[3].DBID)
	if !ok || last.Status != emis.SlotAvailable || !last.StartAt.Equal(day.At(23*60+45)) {
		t.Fatalf("the midnight session's last slot: %+v (%v); pass %+v", last, ok, res)
	}
	if got, _ := b.storedSlot(t, other.DBID); got.Status != emis.SlotBooked || res.Skipped != 0 {
		t.Fatalf("the rest of the practice: %+v; pass %+v", got, res)
	}
}

// lockedBuffer is a log destination safe for the engine's concurrent slot reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestASessionHerolinkCannotUnderstandIsSkippedWithAReasonAndTheRestStaysFresh(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	var logs lockedBuffer
	b.engine.Log = slog.New(slog.NewTextHandler(&logs, nil))
	b.sync(t)
	odd := b.freeIn(t)
	other := b.freeIn(t, odd.SessionDBID)
	b.book(t, odd.DBID, 9001)
	b.book(t, other.DBID, 9002)
	// EMIS sends one session with an end time no clock has.
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/GetAppointmentSessions") {
			return false
		}
		rec := httptest.NewRecorder()
		b.inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		at := bytes.Index(body, []byte("<DBID>"+strconv.FormatInt(odd.SessionDBID, 10)+"</DBID>"))
		if at < 0 {
			t.Errorf("session %d not in the answer", odd.SessionDBID)
			return false
		}
		end := at + bytes.Index(body[at:], []byte("<EndTime>")) + len("<EndTime>")
		body = append(append(append([]byte{}, body[:end]...), "25:00"...), body[end+5:]...)
		_, _ = rw.Write(body)
		return true
	})
	b.clock.Advance(time.Minute)
	res := b.sync(t)
	if res.Skipped != 1 {
		t.Fatalf("pass = %+v, want one session skipped", res)
	}
	if got, _ := b.storedSlot(t, other.DBID); got.Status != emis.SlotBooked {
		t.Fatalf("the rest of the practice was not kept fresh: %+v", got)
	}
	// Its slots still say what can be booked, so they are read even though its times cannot be.
	if got, ok := b.storedSlot(t, odd.DBID); !ok || got.Status != emis.SlotBooked {
		t.Fatalf("the odd session's slots: %+v (%v)", got, ok)
	}
	if st := b.status(t); st.LastError != "" || !st.LastSuccessAt.Equal(b.clock.Now()) {
		t.Fatalf("sync status: %+v", st)
	}
	line := logs.String()
	if !strings.Contains(line, "session="+strconv.FormatInt(odd.SessionDBID, 10)) || !strings.Contains(line, "25:00") {
		t.Fatalf("the skip was not logged with the session and the reason: %q", line)
	}
	if strings.Contains(line, "9001") || strings.Contains(line, "9002") {
		t.Fatalf("the log names a patient: %q", line)
	}
}

func TestAFullPassThatKeepsFailingDoesNotStopTheNearTermDays(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	// From now on every session list longer than the near-term days fails, as one odd session
	// far ahead used to make every full pass fail.
	b.failSessionListsLongerThan(2)
	tomorrow := emis.Today(b.clock.Now()).AddDays(1).String()
	sl := b.firstSlot(t, func(s emis.Slot) bool { return free(s) && s.Date == tomorrow })
	b.book(t, sl.DBID, 9001)
	b.runSchedulerUntilBooked(t, sl.DBID, "a reception booking tomorrow was not synced in 5 s while full passes failed")
	if st := b.status(t); !st.FirstSyncDone {
		t.Fatalf("status %+v", st)
	}
}

// failSessionListsLongerThan makes EMIS fail every session list whose last day is more than
// days after its first: full passes fail, near-term passes do not.
func (b *testBundle) failSessionListsLongerThan(days int) {
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/GetAppointmentSessions") {
			return false
		}
		_ = r.ParseForm()
		from, _ := emis.ParseDate(r.Form.Get("startDate"))
		to, _ := emis.ParseDate(r.Form.Get("endDate"))
		if to.DaysSince(from) > days {
			http.Error(rw, "failing", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
}

// runSchedulerUntilBooked runs a scheduler (full passes every 300 ms, near every 100 ms, the
// clock moving) until a pass stores the slot booked; the test fails with why after 5 s.
func (b *testBundle) runSchedulerUntilBooked(t *testing.T, slotID int64, why string) {
	t.Helper()
	seen := make(chan struct{})
	var once sync.Once
	b.engine.OnChange = func(_ int64, changes []store.SlotChange) {
		for _, c := range changes {
			if c.SlotID == slotID && c.NewStatus == emis.SlotBooked {
				once.Do(func() { close(seen) })
			}
		}
	}
	b.clock.Run()
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store, Now: b.clock.Now, FullInterval: 300 * time.Millisecond,
		NearInterval: 100 * time.Millisecond, Tick: 10 * time.Millisecond, Rescan: time.Hour}
	sched.Metrics = slotsync.NewMetrics(prometheus.NewRegistry(), sched)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal(why)
	}
}

func TestMetricsAfterARestartShowTheTrueAgeOfTheLastFullSync(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	// The last full pass succeeded five minutes ago, before the restart.
	b.store.SetClock(func() time.Time { return time.Now().Add(-5 * time.Minute) })
	b.sync(t)
	b.store.SetClock(time.Now)
	// A fresh process: a new scheduler that has run nothing, and its metrics.
	reg := prometheus.NewRegistry()
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store}
	slotsync.NewMetrics(reg, sched)
	got := gauges(t, reg)
	if age := got["herolink_sync_oldest_full_pass_age_seconds"]; age < 295 || age > 360 {
		t.Fatalf("oldest full pass age = %.1f s, want about 300 (%v)", age, got)
	}
	if got["herolink_sync_stale_practices"] != 1 || got["herolink_sync_practices/fresh"] != 1 || got["herolink_sync_practices/first_sync"] != 0 {
		t.Fatalf("gauges = %v", got)
	}
}

// gauges reads every gauge of a registry by name (and state label, if any).
func gauges(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	must(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetGauge() == nil {
				continue
			}
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestALogonThatFailsOnceIsTriedAgainWithinThePass(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.engine.RetryPause = time.Millisecond
	var logons atomic.Int32
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/InitializeWithID") && logons.Add(1) == 1 {
			http.Error(rw, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	if res, err := b.engine.Sync(context.Background(), b.practiceID, b.full()); err != nil || !res.FirstSyncDone {
		t.Fatalf("one failed logon failed the pass: %+v, %v", res, err)
	}
	if logons.Load() != 2 {
		t.Fatalf("%d logons, want the failed one and its retry", logons.Load())
	}
}
