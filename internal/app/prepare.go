package app

import (
	"context"
	"time"

	"herolink/internal/emis"
	"herolink/internal/slotsync"
)

// PrepareForBooking gives a connected practice the mapping its staff would choose first
// (mapping.AdoptDefaults) and copies its diary once, so bookings can be taken at once.
func (a *App) PrepareForBooking(ctx context.Context, practiceID int64) error {
	if err := a.Mapping.AdoptDefaults(ctx, "herolink demo", practiceID); err != nil {
		return err
	}
	return a.SyncOnce(ctx, practiceID)
}

// SyncOnce runs one full sync pass of a practice now and waits for it.
func (a *App) SyncOnce(ctx context.Context, practiceID int64) error {
	if l := a.Sync.Leases; l != nil {
		if _, held := l.Fence(practiceID); !held {
			// Take this instance's share first (a demo runs one instance: all of them).
			if _, err := l.Round(ctx); err != nil {
				return err
			}
		}
	}
	today := emis.Today(time.Now())
	_, err := a.Sync.Engine.Sync(ctx, practiceID, slotsync.Window{From: today, To: today.AddDays(a.Sync.Horizon() - 1), Full: true})
	return err
}
