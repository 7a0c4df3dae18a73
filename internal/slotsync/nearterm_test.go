package slotsync_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
)

// fridayEvening is after the practice's last session of the week: the next sessions are Monday's.
var fridayEvening = time.Date(2026, 11, 27, 19, 30, 0, 0, emis.London)

func TestTheNearTermWindowRunsToTheThirdWorkingDay(t *testing.T) {
	t.Parallel()
	day := func(d int) emis.Date { return emis.Date{Year: 2026, Month: 11, Day: d} }
	dec := func(d int) emis.Date { return emis.Date{Year: 2026, Month: 12, Day: d} }
	for _, c := range []struct {
		name  string
		today emis.Date
		days  int
		want  emis.Date
	}{
		{"Monday: to Wednesday", day(23), 3, day(25)},
		{"Wednesday: to Friday", day(25), 3, day(27)},
		{"Thursday: over the weekend to Monday", day(26), 3, day(30)},
		{"Friday: over the weekend to Tuesday", day(27), 3, dec(1)},
		{"Saturday: to Wednesday", day(28), 3, dec(2)},
		{"Sunday: to Wednesday", day(29), 3, dec(2)},
		{"one working day on a Saturday: Monday", day(28), 1, day(30)},
		{"one working day on a Tuesday: today", day(24), 1, day(24)},
		{"five working days from a Monday: Friday", day(23), 5, day(27)},
	} {
		if got := slotsync.NearTermEnd(c.today, c.days); got != c.want {
			t.Errorf("%s: NearTermEnd(%s, %d) = %s, want %s", c.name, c.today, c.days, got, c.want)
		}
	}
}

func TestOnAFridayEveningAReceptionBookingOnMondayIsReadByTheNearTermPasses(t *testing.T) {
	t.Parallel()
	b := setup(t, fridayEvening, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	// From now on every full pass fails, so only the near-term passes can see the booking.
	// Friday to Tuesday is four days apart; the full horizon is two weeks.
	b.failSessionListsLongerThan(4)
	monday := emis.Date{Year: 2026, Month: 11, Day: 30}.String()
	sl := b.firstSlot(t, func(s emis.Slot) bool { return free(s) && s.Date == monday })
	b.book(t, sl.DBID, 9001)
	b.runSchedulerUntilBooked(t, sl.DBID, "on a Friday evening a reception booking on Monday was not synced in 5 s by the near-term passes")
}

func TestOnAFridayEveningMondaysSessionsAreRefreshedAtTheNearTermAge(t *testing.T) {
	t.Parallel()
	b := setup(t, fridayEvening, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	// A cancellation and a booking in one of Monday's sessions: only the rolling refresh can see it.
	monday := emis.Date{Year: 2026, Month: 11, Day: 30}.String()
	cancel, book := b.swapInOneSession(t, func(date string) bool { return date == monday })
	if res := b.sync(t); res.SlotsRead != 0 {
		t.Fatalf("the swap was read without a refresh, so this test proves nothing: %+v", res)
	}
	b.clock.Advance(20 * time.Minute) // older than the near-term age (15 minutes), not the later days' (2 hours)
	res := b.sync(t)
	got, _ := b.storedSlot(t, book.DBID)
	was, _ := b.storedSlot(t, cancel.DBID)
	if got.Status != emis.SlotBooked || was.Status != emis.SlotAvailable {
		t.Fatalf("20 minutes on, Monday's swap is not stored: booked %+v, cancelled %+v, pass %+v", got, was, res)
	}
}

func TestTheNearTermWindowNeverReachesPastTheHorizon(t *testing.T) {
	t.Parallel()
	b := setup(t, fridayEvening, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	var mu sync.Mutex
	var last emis.Date
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/GetAppointmentSessions") {
			_ = r.ParseForm()
			to, _ := emis.ParseDate(r.Form.Get("endDate"))
			mu.Lock()
			if last.Before(to) {
				last = to
			}
			mu.Unlock()
		}
		return false
	})
	b.clock.Run()
	reg := prometheus.NewRegistry()
	// Two days' horizon on a Friday: Friday and Saturday; the near-term window would run to Tuesday.
	sched := &slotsync.Scheduler{Engine: b.engine, Store: b.store, Now: b.clock.Now, HorizonDays: 2,
		FullInterval: 400 * time.Millisecond, NearInterval: 20 * time.Millisecond, Tick: 5 * time.Millisecond, Rescan: time.Hour}
	sched.Metrics = slotsync.NewMetrics(reg, sched)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	waitFor(t, 10*time.Second, func() bool { return passes(t, reg, "near") >= 2 })
	cancel()
	must(t, <-done)
	mu.Lock()
	defer mu.Unlock()
	if saturday := (emis.Date{Year: 2026, Month: 11, Day: 28}); saturday.Before(last) {
		t.Fatalf("a near-term pass asked EMIS for sessions to %s, past the two days' horizon (to %s)", last, saturday)
	}
}
