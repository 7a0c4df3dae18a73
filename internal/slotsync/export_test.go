package slotsync

import (
	"context"

	"herolink/internal/store"
)

// Every pass of this package's tests served stored sessions from the engine's copy checks
// them against the store (storedmemo.go).
func init() { verifyStoredMemo = true }

// StoredCopy is what the engine's copy says the practice's stored sessions of the window are
// now, if it holds them at the current diary version.
func (e *Engine) StoredCopy(ctx context.Context, practiceID int64, w Window) ([]store.StoredSession, bool, error) {
	version, err := e.Store.DiaryVersion(ctx, practiceID)
	if err != nil {
		return nil, false, err
	}
	from, okFrom := dayOf(w.From.String())
	to, okTo := dayOf(w.To.String())
	if !okFrom || !okTo {
		return nil, false, nil
	}
	s, _, ok := e.stored.get(practiceID, version, from, to)
	return s, ok, nil
}
