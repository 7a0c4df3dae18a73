package slotsync_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Most rolling refreshes find a session's slots as they were. One whose answer is byte for
// byte the list the engine last applied is only marked read: no decoding, no comparison.
func TestARefreshFindingTheListItLastAppliedOnlyMarksItRead(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	b.clock.Advance(3 * time.Hour) // older than both refresh ages
	res := b.sync(t)
	if res.Refreshed == 0 || res.Confirmed != res.Refreshed || res.SlotsRead != res.Refreshed || res.SlotChanges != 0 {
		t.Fatalf("a refresh of lists as applied was not confirmed by its bytes: %+v", res)
	}
	if res := b.sync(t); !res.Remembered || res.Refreshed != 0 {
		t.Fatalf("the confirmed sessions were not marked read: the next pass refreshed them again: %+v", res)
	}
	// A refresh whose list changed is still compared slot by slot:
	// TestACountNeutralSwapIsCaughtByTheRollingRefresh, run after a first sync whose lists
	// are remembered.
}

// The bytes prove the stored slots current only while nothing but the engine's own passes
// wrote them. A write by anyone else (here another instance's, made directly) moves the
// practice's diary version, and the refresh compares slot by slot and puts EMIS's answer back.
func TestARefreshComparesSlotBySlotOnceAnythingElseWroteTheDiary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, tuesday, 0)
		b.store.SetClock(b.clock.Now)
		b.sync(t)
		sl := b.firstSlot(t, free)
		if _, err := b.store.DBQ().ExecContext(context.Background(),
			`UPDATE diary_slots SET status = 'Blocked' WHERE practice_id = ? AND slot_id = ?`, b.practiceID, sl.DBID); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(3 * time.Hour)
		res := b.sync(t)
		if got, _ := b.storedSlot(t, sl.DBID); got.Status != emis.SlotAvailable {
			t.Fatalf("after another writer blocked slot %d in the copy, the refresh (%+v) left it %q; EMIS has it Available",
				sl.DBID, res, got.Status)
		}
		if res.Confirmed != 0 {
			t.Fatalf("%d sessions were confirmed by bytes recorded before another write: %+v", res.Confirmed, res)
		}
	})
}

// Slot read times changed outside the engine (as the benchmark dates them) move no diary
// version: the engine sees them once told to forget its copies, and still confirms the lists it
// applied by their bytes.
func TestAfterForgettingItsCopiesTheEngineRefreshesBySlotReadTimesChangedOutsideIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupOn(t, st, tuesday, 0)
		b.store.SetClock(b.clock.Now)
		b.sync(t)
		old := b.clock.Now().Add(-3 * time.Hour).UnixMilli() // older than both refresh ages
		if _, err := b.store.DBQ().ExecContext(context.Background(),
			`UPDATE diary_sessions SET slots_synced_at = ? WHERE practice_id = ? AND slots_synced_at IS NOT NULL`, old, b.practiceID); err != nil {
			t.Fatal(err)
		}
		if res := b.sync(t); !res.Remembered || res.Refreshed != 0 {
			t.Fatalf("before forgetting, the pass should be remembered from the engine's own copy: %+v", res)
		}
		b.engine.ForgetStoredCopies()
		res := b.sync(t)
		if res.Remembered || res.StoredFromCopy || res.Refreshed == 0 {
			t.Fatalf("after forgetting, the pass did not read the stored read times: %+v", res)
		}
		if res.Confirmed != res.Refreshed || res.SlotChanges != 0 {
			t.Fatalf("the refreshes were not confirmed by the lists applied before: %+v", res)
		}
	})
}
