package bookinglink_test

import (
	"testing"
	"time"

	"herolink/internal/bookinglink"
	"herolink/internal/store"
)

// A link says the first reason it cannot be used, in the order a patient needs to hear it.
func TestALinksStatusIsTheFirstReasonItCannotBeUsed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	live := store.BookingLink{ExpiresAt: now.Add(time.Hour), MaxUses: 1}
	with := func(f func(*store.BookingLink)) store.BookingLink { l := live; f(&l); return l }
	for _, tc := range []struct {
		name string
		link store.BookingLink
		want string
	}{
		{"working", live, bookinglink.StatusActive},
		{"expiring this instant", with(func(l *store.BookingLink) { l.ExpiresAt = now }), bookinglink.StatusExpired},
		{"used up", with(func(l *store.BookingLink) { l.Uses = 1 }), bookinglink.StatusUsedUp},
		{"used up and expired", with(func(l *store.BookingLink) { l.Uses, l.ExpiresAt = 1, now.Add(-time.Hour) }), bookinglink.StatusUsedUp},
		{"locked and used up", with(func(l *store.BookingLink) { l.LockedAt, l.Uses = now, 1 }), bookinglink.StatusLocked},
		{"revoked and locked", with(func(l *store.BookingLink) { l.RevokedAt, l.LockedAt = now, now }), bookinglink.StatusRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bookinglink.StatusOf(tc.link, now); got != tc.want {
				t.Fatalf("status %s, want %s", got, tc.want)
			}
		})
	}
}
