package slotsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

func TestTheFirstFullPassOfEachDayDeletesTheDaysBefore(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t)
	b.sync(t) // a second pass the same day: pruning is not due again
	stored := func() []string {
		t.Helper()
		sessions, err := b.store.DiarySessions(context.Background(), b.practiceID, "2000-01-01", "2100-01-01")
		must(t, err)
		var days []string
		for _, s := range sessions {
			days = append(days, s.Date)
		}
		return days
	}
	for day := range 3 {
		b.clock.Advance(24 * time.Hour)
		b.sync(t)
		today := emis.Today(b.clock.Now()).String()
		for _, d := range stored() {
			if d < today {
				t.Fatalf("day %d: a session of %s is still stored after the first full pass of %s", day+1, d, today)
			}
		}
	}
}

func TestLaterFullPassesOfTheSameDayDoNotPruneAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	b.sync(t) // the day's first full pass prunes
	// A session dated yesterday, planted after that prune: only a prune would delete it.
	ctx := context.Background()
	yesterday := emis.Today(b.clock.Now()).AddDays(-1)
	planted := store.SessionRow{ID: 987654321, Date: yesterday.String(), StartAt: yesterday.At(9 * 60), EndAt: yesterday.At(10 * 60),
		SlotLength: 10, Name: "planted", Hash: strings.Repeat("0", 32)}
	_, err := b.store.ApplyDiary(ctx, store.DiaryDiff{PracticeID: b.practiceID, Upsert: []store.SessionRow{planted}})
	must(t, err)
	plantedStored := func() bool {
		t.Helper()
		sessions, err := b.store.DiarySessions(ctx, b.practiceID, planted.Date, planted.Date)
		must(t, err)
		return len(sessions) == 1
	}
	if !plantedStored() {
		t.Fatal("the planted session was not stored, so this test proves nothing")
	}
	b.sync(t)
	b.sync(t)
	if !plantedStored() {
		t.Fatal("a later full pass of the same day pruned again: two statements more a pass")
	}
	b.clock.Advance(24 * time.Hour)
	b.sync(t)
	if plantedStored() {
		t.Fatal("the next day's first full pass did not prune")
	}
}
