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
