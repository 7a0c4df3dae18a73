package slotsync_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// The engine keeps each practice's stored sessions between passes instead of listing them
// from the store on every pass that compares anything. Whatever reception, staff and
// herolink do in between, and whichever window the passes cover as the days go by, that copy
// is at every moment either exactly what the store holds, or not used. (This package's tests
// also check every pass served from it: export_test.go.)
func TestThePassesCopyOfTheStoredSessionsIsTheStoreOrNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	ctx := context.Background()
	b.engine.ActiveTypes = slotsync.StoredActiveTypes(b.store)
	b.engine.MaxRefreshPerPass = 3
	// EMIS's slot types as the mapping page saves them: all synced until staff say otherwise.
	typeIDs, audit := b.saveEMISSlotTypes(t)
	b.sync(t)

	served, kept := 0, 0
	slotsIn := func(rt *rapid.T, label string, want func(emis.Slot) bool) (emis.Slot, bool) {
		var all []emis.Slot
		for _, s := range b.emisSessions(t) {
			for _, sl := range s.Slots {
				if want(sl) {
					all = append(all, sl)
				}
			}
		}
		if len(all) == 0 {
			return emis.Slot{}, false
		}
		return all[rapid.IntRange(0, len(all)-1).Draw(rt, label)], true
	}
	sessionIn := func(rt *rapid.T) (sandbox.SessionView, bool) {
		ss := b.emisSessions(t)
		if len(ss) == 0 {
			return sandbox.SessionView{}, false
		}
		return ss[rapid.IntRange(0, len(ss)-1).Draw(rt, "session")], true
	}
	pass := func(rt *rapid.T, w slotsync.Window) {
		res, err := b.engine.Sync(ctx, b.practiceID, w)
		if err != nil {
			rt.Fatalf("pass over %s..%s: %v", w.From, w.To, err)
		}
		if res.StoredFromCopy {
			served++
		}
		full := b.full()
		got, ok, err := b.engine.StoredCopy(ctx, b.practiceID, full)
		if err != nil {
			rt.Fatal(err)
		}
		if !ok {
			return
		}
		kept++
		want, err := b.store.DiarySessions(ctx, b.practiceID, full.From.String(), full.To.String())
		if err != nil {
			rt.Fatal(err)
		}
		if g, w := slotsync.SessionKeys(got), slotsync.SessionKeys(want); !slices.Equal(g, w) {
			rt.Fatalf("after a pass (%+v) the copy says\n%v\nthe store holds\n%v", res, g, w)
		}
	}

	rapid.Check(t, func(rt *rapid.T) {
		for range rapid.IntRange(1, 12).Draw(rt, "steps") {
			today := emis.Today(b.clock.Now())
			switch rapid.IntRange(0, 11).Draw(rt, "action") {
			case 0: // reception books
				if sl, ok := slotsIn(rt, "free", func(s emis.Slot) bool { return s.Status == emis.SlotAvailable }); ok {
					_, _ = b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
				}
			case 1: // reception cancels
				if sl, ok := slotsIn(rt, "booked", func(s emis.Slot) bool { return s.Status == emis.SlotBooked }); ok {
					_ = b.demo.ReceptionCancel(sl.DBID)
				}
			case 2: // reception changes a slot's type
				if sl, ok := slotsIn(rt, "retyped", func(emis.Slot) bool { return true }); ok {
					_, _ = b.demo.EditSlot(sl.DBID, sandbox.SlotEdit{SlotTypeID: rapid.SampledFrom(typeIDs).Draw(rt, "type")})
				}
			case 3: // a session is added, of any type
				day := today.AddDays(rapid.IntRange(0, 13).Draw(rt, "day"))
				_, _ = b.demo.AddSession(sandbox.SessionInput{Date: day.String(), StartTime: "18:00", EndTime: "19:00", SlotLength: 15,
					SiteID: 101, HolderID: 201, SlotTypeID: rapid.SampledFrom(typeIDs).Draw(rt, "type"), Name: "Extended hours"})
			case 4: // a session is deleted
				if s, ok := sessionIn(rt); ok {
					_ = b.demo.DeleteSession(s.DBID, true)
				}
			case 5: // a session is moved
				if s, ok := sessionIn(rt); ok {
					_, _ = b.demo.MoveSession(s.DBID, rapid.SampledFrom([]string{"07:00", "13:00", "20:00"}).Draw(rt, "start"), 0)
				}
			case 6: // herolink books a slot and records it in the diary copy
				if sl, ok := slotsIn(rt, "herolink", func(s emis.Slot) bool { return s.Status == emis.SlotAvailable }); ok {
					if _, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9002}); err == nil {
						must(t, b.store.RecordSlotTx(ctx, b.store.DBQ(), b.practiceID, sl.DBID,
							store.SlotState{Status: emis.SlotBooked, TypeID: sl.Type.TypeID, PatientID: 9002}))
					}
				}
			case 7: // staff change a slot type's feature
				feature := rapid.SampledFrom([]string{store.FeatureBookable, store.FeatureNotBookable}).Draw(rt, "feature")
				must(t, b.store.SetSlotTypeFeature(ctx, b.practiceID, rapid.SampledFrom(typeIDs).Draw(rt, "type"), feature, nil, audit))
			case 8: // time passes: minutes, hours, or into the next day
				b.clock.Advance(time.Duration(rapid.SampledFrom([]int{1, 20, 200, 1000}).Draw(rt, "minutes")) * time.Minute)
			case 9:
				pass(rt, b.full())
			case 10:
				pass(rt, slotsync.Window{From: today, To: today.AddDays(2)})
			case 11: // reception books, and herolink books and records while a pass reads EMIS
				sl, ok := slotsIn(rt, "reception", func(s emis.Slot) bool { return s.Status == emis.SlotAvailable })
				mine, ok2 := slotsIn(rt, "meanwhile", func(s emis.Slot) bool { return s.Status == emis.SlotAvailable && s.DBID != sl.DBID })
				if !ok || !ok2 {
					continue
				}
				_, _ = b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001})
				b.afterEMISAnswersOnce("GetAppointmentSessions", func() {
					if _, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: mine.DBID, PatientID: 9002}); err == nil {
						must(t, b.store.RecordSlotTx(ctx, b.store.DBQ(), b.practiceID, mine.DBID,
							store.SlotState{Status: emis.SlotBooked, TypeID: mine.Type.TypeID, PatientID: 9002}))
					}
				})
				pass(rt, b.full())
				b.clearIntercept()
			}
		}
		pass(rt, b.full())
	})
	if served == 0 || kept == 0 {
		t.Fatalf("the copy was kept after %d passes and served %d: the property was never exercised", kept, served)
	}
	t.Logf("copy kept after %d passes, served %d", kept, served)
}
