package slotsync

import (
	"context"
	"fmt"
	"slices"
	"time"

	"herolink/internal/store"
)

// Every pass of this package's tests served stored sessions from the engine's copy checks
// them against the store (storedmemo.go).
func init() { checkCopy = compareCopyWithStore }

// compareCopyWithStore panics when an answer served from the copy differs from the store
// while the store is still at the copy's version. A write since then is the next pass's to
// see, as it would have been had it come a moment later.
func compareCopyWithStore(e *Engine, ctx context.Context, practiceID, version int64, w Window, served []store.StoredSession) {
	before, err := e.Store.DiaryVersion(ctx, practiceID)
	if err != nil || before != version {
		return
	}
	want, err := e.Store.DiarySessions(ctx, practiceID, w.From.String(), w.To.String())
	if err != nil {
		return
	}
	if after, err := e.Store.DiaryVersion(ctx, practiceID); err != nil || after != version {
		return
	}
	if g, s := SessionKeys(served), SessionKeys(want); !slices.Equal(g, s) {
		panic(fmt.Sprintf("slotsync: practice %d's copy of its stored sessions of %s..%s differs from the store:\ncopy   %v\nstored %v",
			practiceID, w.From, w.To, g, s))
	}
}

// SessionKeys are stored sessions as sorted comparable strings.
func SessionKeys(ss []store.StoredSession) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		synced := "never"
		if !s.SlotsSyncedAt.IsZero() {
			synced = s.SlotsSyncedAt.UTC().Format(time.RFC3339Nano)
		}
		out[i] = fmt.Sprintf("%d %s %q %s", s.ID, s.Date, s.Hash, synced)
	}
	slices.Sort(out)
	return out
}

// StoredCopy is what the engine's copy says the practice's stored sessions of the window are
// now, if it holds them at the current diary version.
func (e *Engine) StoredCopy(ctx context.Context, practiceID int64, w Window) ([]store.StoredSession, bool, error) {
	version, err := e.Store.DiaryVersion(ctx, practiceID)
	if err != nil {
		return nil, false, err
	}
	s, _, ok := e.stored.get(practiceID, version, dayNumber(w.From), dayNumber(w.To))
	return s, ok, nil
}

// SetBeforePass makes f run on the worker goroutine before each of the scheduler's passes.
func (s *Scheduler) SetBeforePass(f func()) { s.beforePass = f }
