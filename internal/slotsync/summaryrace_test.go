package slotsync_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"herolink/internal/emis"
)

// A session's summary comes from the session list and its slots from a read moments later.
// When reception books a slot in between and cancels it before the next pass, EMIS's summary
// is again the one stored, but the slots stored show the booking: the next pass must read the
// session again rather than trust the summary, or the copy is wrong until the rolling refresh.
func TestASlotChangedBetweenTheSessionListAndItsSlotsReadIsReadAgainNextPass(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.sync(t)
	b.sync(t)
	y := b.firstSlot(t, free)
	x := b.firstSlot(t, func(s emis.Slot) bool { return free(s) && s.SessionDBID == y.SessionDBID && s.DBID != y.DBID })
	b.book(t, y.DBID, 9002) // reception changes the session, so the next pass reads its slots
	var once sync.Once
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/GetSlotsForSession") {
			return false
		}
		once.Do(func() { b.book(t, x.DBID, 9001) }) // after the session list was read
		rec := httptest.NewRecorder()
		b.inner.ServeHTTP(rec, r)
		_, _ = rw.Write(rec.Body.Bytes())
		return true
	})
	b.sync(t)
	b.setIntercept(func(http.ResponseWriter, *http.Request) bool { return false })
	must(t, b.demo.ReceptionCancel(x.DBID)) // EMIS's session list is as the pass above read it

	res := b.sync(t)
	if got, _ := b.storedSlot(t, x.DBID); got.Status != emis.SlotAvailable {
		t.Fatalf("after a booking made between the session list and the slots read, then cancelled: pass %+v, stored %+v", res, got)
	}
}

// The same for a rolling refresh: the session's summary is unchanged, so its stored hash would
// let the next pass keep slots read while reception had a booking it then cancelled.
func TestARefreshThatReadsSlotsChangedMeanwhileIsReadAgainNextPass(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	b.sync(t)
	x := b.firstSlot(t, free)
	b.clock.Advance(16 * time.Minute) // every near-term session's slots are due a refresh
	var once sync.Once
	b.setIntercept(func(rw http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/GetSlotsForSession") {
			return false
		}
		// Only as x's own session is read: so that it is the refresh that reads the booking,
		// not the next pass's session list.
		if r.ParseForm() == nil && r.PostForm.Get("appointmentSessionId") == strconv.FormatInt(x.SessionDBID, 10) {
			once.Do(func() { b.book(t, x.DBID, 9001) })
		}
		rec := httptest.NewRecorder()
		b.inner.ServeHTTP(rec, r)
		_, _ = rw.Write(rec.Body.Bytes())
		return true
	})
	// Passes until x's session has been refreshed (8 refreshes a pass).
	for range 40 {
		res := b.sync(t)
		if got, _ := b.storedSlot(t, x.DBID); got.Status == emis.SlotBooked {
			if res.Refreshed == 0 {
				t.Fatalf("x's booking was stored by a pass that refreshed nothing: %+v", res)
			}
			break
		}
	}
	if got, _ := b.storedSlot(t, x.DBID); got.Status != emis.SlotBooked {
		t.Fatal("no refresh read x's session")
	}
	b.setIntercept(func(http.ResponseWriter, *http.Request) bool { return false })
	must(t, b.demo.ReceptionCancel(x.DBID)) // EMIS's session list is as the refresh read it

	res := b.sync(t)
	if got, _ := b.storedSlot(t, x.DBID); got.Status != emis.SlotAvailable {
		t.Fatalf("after a booking made while a refresh read its slots, then cancelled: pass %+v, stored %+v", res, got)
	}
}
