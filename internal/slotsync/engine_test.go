package slotsync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/practice"
	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
	"herolink/internal/vault"
)

type clock struct {
	mu      sync.Mutex
	now     time.Time
	running time.Time // set: the clock moves with the wall clock from then on
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running.IsZero() {
		return c.now.Add(time.Since(c.running))
	}
	return c.now
}

// Run makes the clock move with the wall clock from now on, for tests of the scheduler.
func (c *clock) Run() { c.mu.Lock(); c.running = time.Now(); c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type testBundle struct {
	world      *sandbox.World
	demo       *sandbox.Org
	store      *store.Store
	practices  *practice.Service
	engine     *slotsync.Engine
	clock      *clock
	practiceID int64
	changesMu  sync.Mutex // OnChange is called from the scheduler's workers at once
	changes    []store.SlotChange
	failSlots  atomic.Bool // the EMIS server fails every GetSlotsForSession
	// intercept, when set, sees every Partner API request first; it answers (true) or lets
	// the sandbox answer (false). inner is the sandbox's own handler.
	intercept atomic.Pointer[func(rw http.ResponseWriter, r *http.Request) bool]
	inner     http.Handler
}

// setup connects the demo practice through the real connection path and builds an engine.
func setup(t *testing.T, start time.Time, extra int) *testBundle {
	t.Helper()
	return setupOn(t, storetest.Open(t), start, extra)
}

// setupOn is setup over a given migrated store (either engine).
func setupOn(t *testing.T, st *store.Store, start time.Time, extra int) *testBundle {
	t.Helper()
	ctx := context.Background()
	c := &clock{now: start}
	w := sandbox.New(sandbox.Options{Seed: 1, Preconfigured: true, Practices: extra, Now: c.Now})
	b := &testBundle{}
	inner := sandbox.NewServer(w, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if b.failSlots.Load() && strings.HasSuffix(r.URL.Path, "/GetSlotsForSession") {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		if f := b.intercept.Load(); f != nil && (*f)(rw, r) {
			return
		}
		inner.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	keys, _ := vault.LoadFile(filepath.Join(dir, "k"))
	// Buffers given back are overwritten: a session list used after its pass gave it back
	// reads garbage, and the tests see it.
	caller, _ := emis.NewCaller(emis.Config{BaseURL: srv.URL, SupplierID: sandbox.DefaultSupplierID, CallTimeout: 5 * time.Second, PoisonReleased: true})
	svc := &practice.Service{Store: st, Vault: keys, Now: c.Now, Tester: &practice.Tester{Now: c.Now,
		Directory: &practice.HTTPDirectory{BaseURL: srv.URL + "/sandbox/v1/directory"}, Caller: caller}}
	res, err := svc.Connect(ctx, practice.Actor{Name: "test"}, practice.ConnectRequest{
		Form: practice.Form{ODS: sandbox.DemoODS, Username: "Herouser", Password: sandbox.DemoAPIPassword}})
	if err != nil || !res.Saved {
		t.Fatalf("connect: %+v %v", res.Test, err)
	}
	demo, _ := w.Org(sandbox.DemoCDB)
	b.world, b.demo, b.store, b.practices, b.clock, b.practiceID = w, demo, st, svc, c, res.PracticeID
	b.inner = inner
	b.engine = &slotsync.Engine{Store: st, Conns: svc, Now: c.Now, MaxRefreshPerPass: 1000,
		OnChange: func(_ int64, ch []store.SlotChange) {
			b.changesMu.Lock()
			defer b.changesMu.Unlock()
			b.changes = append(b.changes, ch...)
		}}
	return b
}

// A Tuesday morning in November.
var tuesday = time.Date(2026, 11, 24, 7, 0, 0, 0, emis.London)

func (b *testBundle) full() slotsync.Window {
	today := emis.Today(b.clock.Now())
	return slotsync.Window{From: today, To: today.AddDays(13), Full: true}
}

func (b *testBundle) sync(t *testing.T) slotsync.Result {
	t.Helper()
	b.changesMu.Lock()
	b.changes = nil
	b.changesMu.Unlock()
	res, err := b.engine.Sync(context.Background(), b.practiceID, b.full())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// storedSlot reads herolink's copy of one slot.
func (b *testBundle) storedSlot(t *testing.T, slotID int64) (store.DiarySlot, bool) {
	t.Helper()
	slots, err := b.store.DiarySlotsBetween(context.Background(), b.practiceID, b.clock.Now().Add(-24*time.Hour), b.clock.Now().Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if s.ID == slotID {
			return s, true
		}
	}
	return store.DiarySlot{}, false
}

func (b *testBundle) emisSessions(t *testing.T) []sandbox.SessionView {
	t.Helper()
	today := emis.Today(b.clock.Now())
	v, err := b.demo.ListSessions(today, today.AddDays(13), true)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFirstSyncCopiesEveryStoredSessionAndSlotFromEMIS(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	res := b.sync(t)
	want := b.emisSessions(t)
	if res.Sessions != len(want) || res.Changed != len(want) || res.SlotsRead != len(want) || !res.FirstSyncDone {
		t.Fatalf("first pass = %+v, EMIS has %d sessions", res, len(want))
	}
	all, err := b.store.DiarySlotsBetween(context.Background(), b.practiceID, b.clock.Now().Add(-24*time.Hour), b.clock.Now().Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]store.DiarySlot{}
	for _, s := range all {
		stored[s.ID] = s
	}
	for _, s := range want {
		for _, sl := range s.Slots {
			got, ok := stored[sl.DBID]
			if !ok || got.Status != sl.Status || got.TypeID != sl.Type.TypeID {
				t.Fatalf("slot %d: stored %+v (%v), EMIS %+v", sl.DBID, got, ok, sl)
			}
		}
	}
	st, _ := b.store.SyncStatus(context.Background(), b.practiceID)
	if !st.FirstSyncDone || st.Sessions != len(want) || st.LastSuccessAt.IsZero() {
		t.Fatalf("sync status = %+v", st)
	}
}

func TestAnUnchangedDiaryIsRecognisedWithoutReadingAnySlot(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.sync(t)
	res := b.sync(t)
	if res.Changed != 0 || res.SlotsRead != 0 || res.EMISCalls != 1 || res.Unchanged != res.Sessions || res.SlotChanges != 0 {
		t.Fatalf("second pass over an unchanged diary = %+v", res)
	}
}

// Hashing every session element was 3 % of herolink's CPU at 7,000 practices; an element as
// the window's previous pass saw it has a known hash.
func TestAPassHashesOnlyTheSessionsThatChangedSinceThePreviousPass(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	if res := b.sync(t); res.SessionsHashed != res.Sessions || res.Sessions == 0 {
		t.Fatalf("first pass hashed %d of %d sessions, want all", res.SessionsHashed, res.Sessions)
	}
	sl := b.firstSlot(t, free)
	b.book(t, sl.DBID, 9001)
	res := b.sync(t)
	if res.Remembered || res.Changed != 1 || res.SessionsHashed != 1 {
		t.Fatalf("pass after reception booked in one session = %+v, want that session alone changed and hashed", res)
	}
	if got, ok := b.storedSlot(t, sl.DBID); !ok || got.Status != emis.SlotBooked {
		t.Fatalf("the booking is stored as %+v, %v", got, ok)
	}
	// Cancelled again, the session's element is byte for byte as the first pass saw it, not
	// as the last did: it is hashed again and found changed.
	must(t, b.demo.ReceptionCancel(sl.DBID))
	res = b.sync(t)
	if res.Changed != 1 || res.SessionsHashed != 1 {
		t.Fatalf("pass after reception cancelled it = %+v, want one session changed and hashed", res)
	}
	if got, ok := b.storedSlot(t, sl.DBID); !ok || got.Status != emis.SlotAvailable {
		t.Fatalf("the cancellation is stored as %+v, %v", got, ok)
	}
}

// firstFree finds a free bookable routine slot after today in EMIS.
func (b *testBundle) firstSlot(t *testing.T, want func(emis.Slot) bool) emis.Slot {
	t.Helper()
	today := emis.Today(b.clock.Now()).String()
	for _, s := range b.emisSessions(t) {
		for _, sl := range s.Slots {
			if sl.Date > today && want(sl) {
				return sl
			}
		}
	}
	t.Fatal("no such slot")
	return emis.Slot{}
}

func free(s emis.Slot) bool { return s.Status == emis.SlotAvailable && s.Type.TypeID == 1 }

func TestEveryKindOfEMISChangeReachesTheStoredDiary(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		do    func(t *testing.T, b *testBundle) (slotID int64, check func(store.DiarySlot, bool) string)
		reads int // sessions whose slots the pass must read
	}{
		{"reception books a slot", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			sl := b.firstSlot(t, free)
			_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
			must(t, err)
			return sl.DBID, func(d store.DiarySlot, ok bool) string {
				if !ok || d.Status != emis.SlotBooked || d.PatientID != 9001 {
					return "not booked for 9001"
				}
				return ""
			}
		}, 1},
		{"reception cancels a booking", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			sl := b.firstSlot(t, func(s emis.Slot) bool { return s.Status == emis.SlotBooked })
			must(t, b.demo.ReceptionCancel(sl.DBID))
			return sl.DBID, func(d store.DiarySlot, ok bool) string {
				if !ok || d.Status != emis.SlotAvailable || d.PatientID != 0 {
					return "not free"
				}
				return ""
			}
		}, 1},
		{"a slot's type changes", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			sl := b.firstSlot(t, free)
			_, err := b.demo.EditSlot(sl.DBID, sandbox.SlotEdit{SlotTypeID: 3})
			must(t, err)
			return sl.DBID, func(d store.DiarySlot, ok bool) string {
				if !ok || d.TypeID != 3 {
					return "type not changed to 3"
				}
				return ""
			}
		}, 1},
		{"a session is added", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			v, err := b.demo.AddSession(sandbox.SessionInput{Date: emis.Today(b.clock.Now()).AddDays(2).String(), StartTime: "18:00",
				EndTime: "19:00", SlotLength: 15, SiteID: 101, HolderID: 201, SlotTypeID: 1, Name: "Extended hours"})
			must(t, err)
			return v.Slots[3].DBID, func(d store.DiarySlot, ok bool) string {
				if !ok || d.Status != emis.SlotAvailable || d.SessionName != "Extended hours" {
					return "added session's slot missing"
				}
				return ""
			}
		}, 1},
		{"a session is removed", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			sl := b.firstSlot(t, free)
			must(t, b.demo.DeleteSession(sl.SessionDBID, true))
			return sl.DBID, func(d store.DiarySlot, ok bool) string {
				if ok {
					return "removed session's slot still stored"
				}
				return ""
			}
		}, 0},
		{"a session is moved", func(t *testing.T, b *testBundle) (int64, func(store.DiarySlot, bool) string) {
			sl := b.firstSlot(t, free)
			v, err := b.demo.MoveSession(sl.SessionDBID, "07:00", 0)
			must(t, err)
			first := v.Slots[0]
			d, _ := emis.ParseDate(first.Date)
			want := d.At(7 * 60)
			return first.DBID, func(got store.DiarySlot, ok bool) string {
				if !ok || !got.StartAt.Equal(want) {
					return "moved slot's start not updated"
				}
				return ""
			}
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tuesday, 0)
			b.sync(t)
			slotID, check := c.do(t, b)
			res := b.sync(t)
			got, ok := b.storedSlot(t, slotID)
			if msg := check(got, ok); msg != "" {
				t.Fatalf("%s: stored %+v (%v); pass %+v", msg, got, ok, res)
			}
			if res.SlotsRead != c.reads || res.Unchanged < res.Sessions-1 {
				t.Fatalf("the pass did more than the change needs: %+v", res)
			}
			found := false
			for _, ch := range b.changes {
				found = found || ch.SlotID == slotID || (c.reads == 0 && ch.NewStatus == "")
			}
			if !found {
				t.Fatalf("no change reported for slot %d: %+v", slotID, b.changes)
			}
		})
	}
}

// swapInOneSession cancels a booked routine slot and books a free one in the first session on
// a day that ok accepts: the session's counts do not change, so its summary looks the same and
// only a rolling refresh can see it.
func (b *testBundle) swapInOneSession(t *testing.T, ok func(date string) bool) (cancelled, booked emis.Slot) {
	t.Helper()
	for _, s := range b.emisSessions(t) {
		if !ok(s.Date) {
			continue
		}
		var cancel, book emis.Slot
		for _, sl := range s.Slots {
			if sl.Type.TypeID == 1 && sl.Status == emis.SlotBooked && cancel.DBID == 0 {
				cancel = sl
			}
			if sl.Type.TypeID == 1 && sl.Status == emis.SlotAvailable && book.DBID == 0 {
				book = sl
			}
		}
		if cancel.DBID != 0 && book.DBID != 0 {
			must(t, b.demo.ReceptionCancel(cancel.DBID))
			_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: book.DBID, PatientID: 9002})
			must(t, err)
			return cancel, book
		}
	}
	t.Fatal("no session with a booked and a free routine slot on such a day")
	return emis.Slot{}, emis.Slot{}
}

func TestACountNeutralSwapIsCaughtByTheRollingRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	// Date the slot reads by the clock the engine judges their age with: by the wall clock
	// this test passed only before 10:00 on the day the fixed test clock names.
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	today := emis.Today(b.clock.Now()).String()
	cancel, book := b.swapInOneSession(t, func(date string) bool { return date > today })

	res := b.sync(t)
	if got, _ := b.storedSlot(t, book.DBID); got.Status == emis.SlotBooked || res.SlotsRead != 0 {
		t.Fatalf("the swap was seen without a refresh, so this test proves nothing: %+v", res)
	}
	b.clock.Advance(3 * time.Hour) // older than both refresh ages
	res = b.sync(t)
	got, _ := b.storedSlot(t, book.DBID)
	was, _ := b.storedSlot(t, cancel.DBID)
	if got.Status != emis.SlotBooked || was.Status != emis.SlotAvailable || res.Refreshed == 0 {
		t.Fatalf("after the refresh: booked %+v, cancelled %+v, pass %+v", got, was, res)
	}
}

func TestStoredTimesAreCorrectInstantsOnClockChangeDays(t *testing.T) {
	t.Parallel()
	// The Monday after the clocks go forward in 2027: 08:30 London is 07:30 UTC.
	b := setup(t, time.Date(2027, 3, 26, 9, 0, 0, 0, emis.London), 0)
	monday := emis.Date{Year: 2027, Month: 3, Day: 29}
	b.sync(t)
	slots, err := b.store.DiarySlotsBetween(context.Background(), b.practiceID, monday.At(0), monday.At(24*60))
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots on %s: %d, %v", monday, len(slots), err)
	}
	if got := slots[0].StartAt.UTC().Format("15:04"); got != "07:30" {
		t.Fatalf("first slot on %s starts %s UTC, want 07:30", monday, got)
	}
	// And the Friday before, still GMT: 08:30 London is 08:30 UTC.
	friday := emis.Date{Year: 2027, Month: 3, Day: 26}
	slots, _ = b.store.DiarySlotsBetween(context.Background(), b.practiceID, friday.At(0), friday.At(24*60))
	if len(slots) == 0 || slots[0].StartAt.UTC().Format("15:04") != "08:30" {
		t.Fatalf("first slot on %s: %+v", friday, slots)
	}
}

func TestAFailedPassLeavesTheStoredDiaryAsItWas(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.sync(t)
	sl := b.firstSlot(t, free)
	_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
	must(t, err)
	// EMIS answers the session list, then fails every slot read.
	b.failSlots.Store(true)
	if _, err := b.engine.Sync(context.Background(), b.practiceID, b.full()); err == nil {
		t.Fatal("a pass whose slot reads failed reported success")
	}
	if got, _ := b.storedSlot(t, sl.DBID); got.Status != emis.SlotAvailable {
		t.Fatalf("a failed pass changed the stored diary: %+v", got)
	}
	b.failSlots.Store(false)
	b.sync(t)
	if got, _ := b.storedSlot(t, sl.DBID); got.Status != emis.SlotBooked {
		t.Fatalf("the next pass did not catch up: %+v", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestOnlyActiveSlotTypesHaveTheirSlotsRead(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		active  []int
		anyRead bool
		onlyFor int // if set, every session read holds this type
	}{
		{"features not set yet: every type", nil, true, 0},
		{"every type set Not Bookable: none", []int{}, false, 0},
		{"only the practice nurse type", []int{4}, true, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tuesday, 0)
			b.engine.ActiveTypes = func(context.Context, int64) ([]int, error) { return c.active, nil }
			res := b.sync(t)
			if (res.SlotsRead > 0) != c.anyRead || res.Sessions == 0 {
				t.Fatalf("pass = %+v", res)
			}
			if c.onlyFor != 0 {
				for _, s := range b.emisSessions(t) {
					has := false
					for _, st := range s.SlotTypes {
						has = has || st.TypeID == c.onlyFor
					}
					for _, sl := range s.Slots {
						_, stored := b.storedSlot(t, sl.DBID)
						if stored != has {
							t.Fatalf("session %d (type %d: %v) slots stored: %v", s.DBID, c.onlyFor, has, stored)
						}
						break
					}
				}
			}
		})
	}
}

func TestEMISChangesAreKeptInADurableFeedForBookingsAndWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	ctx := context.Background()
	b.sync(t)
	if feed, _ := b.store.DiaryChangesAfter(ctx, 0, 100); len(feed) != 0 {
		t.Fatalf("the first sync filled the feed with %d 'changes'", len(feed))
	}
	booked := b.firstSlot(t, func(s emis.Slot) bool { return s.Status == emis.SlotBooked })
	must(t, b.demo.ReceptionCancel(booked.DBID))
	moved := b.firstSlot(t, free)
	_, err := b.demo.MoveSession(moved.SessionDBID, "07:00", 0)
	must(t, err)
	b.sync(t)
	feed, err := b.store.DiaryChangesAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var cancelled, wasMoved bool
	for _, c := range feed {
		if c.SlotID == booked.DBID && c.OldStatus == emis.SlotBooked && c.NewStatus == emis.SlotAvailable && c.OldPatient != 0 && c.NewPatient == 0 {
			cancelled = true
		}
		if c.SlotID == moved.DBID && c.Moved {
			wasMoved = true
		}
	}
	if !cancelled || !wasMoved {
		t.Fatalf("feed lacks the cancellation (%v) or the move (%v): %+v", cancelled, wasMoved, feed)
	}
	// Consumers page through it by sequence.
	last := feed[len(feed)-1].Seq
	if more, _ := b.store.DiaryChangesAfter(ctx, last, 10); len(more) != 0 {
		t.Fatalf("after the last change: %+v", more)
	}
}

func TestSyncStatusCountsFollowTheDiaryAndUnchangedPassesStillRecordSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	ctx := context.Background()
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	before, _ := b.store.SyncStatus(ctx, b.practiceID)
	b.clock.Advance(time.Minute)
	b.sync(t) // nothing changed in EMIS
	same, _ := b.store.SyncStatus(ctx, b.practiceID)
	if same.Sessions != before.Sessions || same.Slots != before.Slots || !same.LastSuccessAt.After(before.LastSuccessAt) {
		t.Fatalf("unchanged pass: before %+v after %+v", before, same)
	}
	sl := b.firstSlot(t, free)
	v, err := b.demo.GetSession(sl.SessionDBID)
	must(t, err)
	must(t, b.demo.DeleteSession(sl.SessionDBID, true))
	b.sync(t)
	after, _ := b.store.SyncStatus(ctx, b.practiceID)
	if after.Sessions != before.Sessions-1 || after.Slots != before.Slots-len(v.Slots) {
		t.Fatalf("after removing a session of %d slots: before %+v after %+v", len(v.Slots), before, after)
	}
}

func TestAPassThatFindsNothingChangedOnlyRecordsItself(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	if res := b.sync(t); res.Remembered {
		t.Fatalf("the first sync was remembered: %+v", res)
	}
	b.clock.Advance(time.Minute)
	res := b.sync(t)
	if !res.Remembered || res.SlotsRead != 0 || res.EMISCalls != 1 {
		t.Fatalf("a second pass over an unchanged diary did more than record itself: %+v", res)
	}
	st, err := b.store.SyncStatus(context.Background(), b.practiceID)
	must(t, err)
	if !st.LastSuccessAt.Equal(b.clock.Now().Truncate(time.Millisecond)) {
		t.Fatalf("the remembered pass was not recorded: last success %s, now %s", st.LastSuccessAt, b.clock.Now())
	}

	// A change in EMIS is never remembered away.
	sl := b.firstSlot(t, free)
	_, err = b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
	must(t, err)
	res = b.sync(t)
	if got, _ := b.storedSlot(t, sl.DBID); res.Remembered || got.Status != emis.SlotBooked {
		t.Fatalf("reception's booking: pass %+v, stored %+v", res, got)
	}
}

// herolink books a slot and records it in the diary copy; reception cancels it before the
// next pass. EMIS's answer is then exactly what the pass before herolink's booking saw, and
// only the stored diary's version says the copy has moved since.
func TestAPassNeverTrustsItsMemoryOnceTheStoredDiaryWasWritten(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	ctx := context.Background()
	b.sync(t)
	b.sync(t)
	sl := b.firstSlot(t, free)
	_, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
	must(t, err)
	must(t, b.store.RecordSlotTx(ctx, b.store.DBQ(), b.practiceID, sl.DBID, store.SlotState{Status: emis.SlotBooked, TypeID: sl.Type.TypeID, PatientID: 9001}))
	must(t, b.demo.ReceptionCancel(sl.DBID))

	res := b.sync(t)
	if got, _ := b.storedSlot(t, sl.DBID); res.Remembered || got.Status != emis.SlotAvailable {
		t.Fatalf("after herolink's booking and reception's cancellation: pass %+v, stored %+v", res, got)
	}
}

// The same, when herolink's booking is recorded while a pass that found another change is
// reading slots: the pass's session list predates the booking, and its write must not make
// the booking's record look like its own.
func TestAPassDoesNotTakeAWriteMadeWhileItReadEMISForItsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	ctx := context.Background()
	b.sync(t)
	b.sync(t)
	other := b.firstSlot(t, free)
	b.book(t, other.DBID, 9002) // a reception change, so the next pass does the whole work
	x := b.firstSlot(t, free)
	// After the pass read the session list, before it writes: herolink books x.
	b.afterEMISAnswersOnce("GetSlotsForSession", func() {
		b.book(t, x.DBID, 9001)
		must(t, b.store.RecordSlotTx(ctx, b.store.DBQ(), b.practiceID, x.DBID, store.SlotState{Status: emis.SlotBooked, TypeID: x.Type.TypeID, PatientID: 9001}))
	})
	b.sync(t)
	b.clearIntercept()
	must(t, b.demo.ReceptionCancel(x.DBID)) // EMIS is now as the pass above read it

	res := b.sync(t)
	if got, _ := b.storedSlot(t, x.DBID); res.Remembered || got.Status != emis.SlotAvailable {
		t.Fatalf("after the booking recorded mid-pass and reception's cancellation: pass %+v, stored %+v", res, got)
	}
}

// Rolling refreshes come together: a pass that reads slots anyway also refreshes the sessions
// nearly due (three quarters of their age), so that the passes after it can be remembered.
func TestAPassThatReadsSlotsAlsoRefreshesSessionsNearlyDue(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	b.clock.Advance(12 * time.Minute) // near-term sessions: 12 of their 15 minutes
	if res := b.sync(t); res.Refreshed != 0 || !res.Remembered {
		t.Fatalf("with nothing due and nothing changed the pass refreshed: %+v", res)
	}
	sl := b.firstSlot(t, free)
	b.book(t, sl.DBID, 9001)
	res := b.sync(t)
	if res.Changed != 1 || res.Refreshed == 0 {
		t.Fatalf("a pass reading a changed session refreshed none of the sessions nearly due: %+v", res)
	}
	b.clock.Advance(4 * time.Minute) // past the 15 minutes of the sessions read at the start
	if res := b.sync(t); !res.Remembered {
		t.Fatalf("the refreshes were not brought forward: the next pass did the whole work: %+v", res)
	}
}
