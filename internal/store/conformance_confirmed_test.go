package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
)

// A refresh the sync proves unchanged by its bytes is only marked read, and only while the
// diary version is the one the pass read: a write in between may have made the stored slots
// differ from EMIS, so the session stays due and the next pass compares it slot by slot.
func TestConfirmedSessionsAreMarkedReadOnlyIfNothingWroteTheDiaryMeanwhile(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		firstSyncOfTwoSessions(t, st, pid, nil)

		c.advance(20 * time.Minute)
		v, err := st.DiaryVersion(ctx, pid)
		must(t, err)
		applied, err := st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, VersionRead: v, Confirmed: []int64{901}})
		must(t, err)
		if got := syncedAtOf(t, st, pid); !got[901].Equal(c.now()) || !got[902].Equal(epoch) || len(applied.Changes) != 0 || applied.Version != v {
			t.Fatalf("a confirmed session with nothing written meanwhile: read at %v, pass %+v (version was %d)", got, applied, v)
		}

		c.advance(20 * time.Minute)
		v, err = st.DiaryVersion(ctx, pid)
		must(t, err)
		exec(t, st, `UPDATE diary_slots SET status = 'Blocked' WHERE practice_id = ? AND slot_id = ?`, pid, slot(1, 2).ID)
		applied, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, VersionRead: v, Confirmed: []int64{902}})
		must(t, err)
		if got := syncedAtOf(t, st, pid); !got[902].Equal(epoch) || applied.Version != -1 {
			t.Fatalf("a session confirmed after another write was marked read: read at %v, pass %+v", got, applied)
		}
	})
}

// The sync keeps what it proved of a practice's slot lists only while every session holds what
// its list said: not after a slot it wrote was taken from another session, nor after a slot
// listed under two sessions of one pass was stored under one.
func TestAPassSaysWhenItTookASlotFromAnotherSession(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		pid := setUp(t, st, "A81001").practice.ID
		applied, err := st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Upsert: twoSessions(),
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}, 902: {slot(1, 2)}}})
		must(t, err)
		if applied.Moved {
			t.Fatal("a first sync into an empty diary says it took a slot from another session")
		}
		added := slot(1, 3)
		applied, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{902: {slot(1, 2), added}}})
		must(t, err)
		if applied.Moved {
			t.Fatal("a slot new to the diary counted as taken from another session")
		}
		applied, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{902: {slot(1, 2), added, slot(1, 1)}}})
		must(t, err)
		if !applied.Moved {
			t.Fatal("slot 1001, stored under session 901, was written under 902 and the pass did not say so")
		}
		twice := slot(1, 4) // new to the diary, listed by EMIS under both sessions as it moved
		applied, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: pid, Slots: map[int64][]store.SlotRow{
			901: {slot(1, 0), twice}, 902: {slot(1, 2), added, slot(1, 1), twice}}})
		must(t, err)
		if !applied.Moved {
			t.Fatal("slot 1004, listed under sessions 901 and 902 of one pass, is stored under one only and the pass did not say so")
		}
		// A first sync resumed after an incomplete pass has slots stored already.
		other := setUp(t, st, "A81002").practice.ID
		_, err = st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: other, Full: true, Upsert: twoSessions(), Incomplete: "902 unread",
			Slots: map[int64][]store.SlotRow{901: {slot(1, 0), slot(1, 1)}}})
		must(t, err)
		applied, err = st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: other, Full: true, FirstSyncDone: true,
			Slots: map[int64][]store.SlotRow{902: {slot(1, 1)}}})
		must(t, err)
		if !applied.Moved {
			t.Fatal("in a resumed first sync, a slot moved from 901 to 902 and the pass did not say so")
		}
	})
}
