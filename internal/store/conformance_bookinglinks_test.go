package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
)

func bookingLink(p store.Practice, id, owner string, c *clock) store.BookingLink {
	return store.BookingLink{ID: id, TokenHash: "hash-" + id, PracticeGroupID: p.PracticeGroupID, PracticeID: p.ID,
		OwnerID: owner, AppointmentTypeID: "at_1_1", GivenName: "Ada", FamilyName: "Lovelace", DateOfBirth: "1980-03-05",
		FromDate: "2026-03-02", ToDate: "2026-03-09", ExpiresAt: c.t.Add(24 * time.Hour), MaxUses: 2, CreatedBy: "test"}
}

func TestABookingLinkIsFoundByItsTokenHashAndOnlyItsPartnerRevokesIt(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_a", "key_a", c)))
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_b", "key_b", c)))
		l, err := st.BookingLinkByTokenHash(ctx, "hash-bkl_a")
		must(t, err)
		if l.ID != "bkl_a" || l.DateOfBirth != "1980-03-05" || !l.ExpiresAt.Equal(c.t.Add(24*time.Hour)) || l.MaxUses != 2 || l.PracticeID != p.ID {
			t.Fatalf("read back %+v", l)
		}
		if _, err := st.BookingLinkByTokenHash(ctx, "bkl_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("found by something else than its hash: %v", err)
		}
		mine, err := st.BookingLinksOf(ctx, p.PracticeGroupID, "key_a")
		must(t, err)
		all, err := st.BookingLinksOfPractice(ctx, p.ID, 10)
		must(t, err)
		if len(mine) != 1 || len(all) != 2 {
			t.Fatalf("partner a sees %d, the practice %d", len(mine), len(all))
		}
		if err := st.RevokeBookingLink(ctx, p.PracticeGroupID, "key_b", "bkl_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked by another partner: %v", err)
		}
		must(t, st.RevokeBookingLink(ctx, p.PracticeGroupID, "key_a", "bkl_a"))
		must(t, st.RevokeBookingLink(ctx, p.PracticeGroupID, "", "bkl_b")) // staff: any partner's
		if l, _ := st.BookingLink(ctx, "bkl_a"); l.RevokedAt.IsZero() {
			t.Fatal("not revoked")
		}
	})
}

// Wrong dates of birth answered at once on several instances are each counted, and the link
// locks at the limit exactly once; staff unlocking forgets the count.
func TestWrongDatesOfBirthAreCountedAcrossConcurrentAnswersAndLockTheLink(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_a", "key_a", c)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		lockedBy := 0
		for range 12 {
			wg.Go(func() {
				_, locked, err := st.RecordWrongDateOfBirth(ctx, "bkl_a", 10)
				if err != nil {
					t.Error(err)
				}
				if locked {
					mu.Lock()
					lockedBy++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		l, err := st.BookingLink(ctx, "bkl_a")
		must(t, err)
		if l.FailedAttempts != 10 || l.LockedAt.IsZero() || lockedBy < 3 {
			t.Fatalf("after 12 wrong answers: %d counted, locked at %v, %d answers saw it locked", l.FailedAttempts, l.LockedAt, lockedBy)
		}
		if err := st.UnlockBookingLink(ctx, p.ID+1, "bkl_a"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unlocked from another practice: %v", err)
		}
		must(t, st.UnlockBookingLink(ctx, p.ID, "bkl_a"))
		n, locked, err := st.RecordWrongDateOfBirth(ctx, "bkl_a", 10)
		if err != nil || n != 1 || locked {
			t.Fatalf("after unlocking: %d %v %v", n, locked, err)
		}
	})
}

// However many patients confirm at once, a link makes at most max_uses bookings.
func TestABookingLinkUseIsClaimedAtMostMaxUsesTimes(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_a", "key_a", c)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		claimed := 0
		for range 8 {
			wg.Go(func() {
				ok, err := st.ClaimBookingLinkUse(ctx, "bkl_a", c.t)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					claimed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if claimed != 2 {
			t.Fatalf("%d uses claimed of 2", claimed)
		}
		must(t, st.ReleaseBookingLinkUse(ctx, "bkl_a"))
		if ok, err := st.ClaimBookingLinkUse(ctx, "bkl_a", c.t.Add(25*time.Hour)); ok || err != nil {
			t.Fatalf("claimed after expiry: %v %v", ok, err)
		}
		if ok, err := st.ClaimBookingLinkUse(ctx, "bkl_a", c.t); !ok || err != nil {
			t.Fatalf("a released use cannot be claimed again: %v %v", ok, err)
		}
	})
}

// A visit is found only with its own link and until it expires.
func TestABookingLinkVisitBelongsToItsLinkAndExpires(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		p := newPractice(t, st, "A81001")
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_a", "key_a", c)))
		must(t, st.CreateBookingLink(ctx, bookingLink(p, "bkl_b", "key_a", c)))
		must(t, st.CreateBookingLinkVisit(ctx, store.BookingLinkVisit{TokenHash: "v1", LinkID: "bkl_a", ExpiresAt: c.t.Add(time.Hour)}))
		if _, err := st.BookingLinkVisit(ctx, "bkl_b", "v1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another link's visit: %v", err)
		}
		v, err := st.BookingLinkVisit(ctx, "bkl_a", "v1")
		must(t, err)
		v.Verified, v.GivenName, v.AppointmentID = true, "Ada", "apt_1"
		must(t, st.UpdateBookingLinkVisit(ctx, v))
		v, err = st.BookingLinkVisit(ctx, "bkl_a", "v1")
		if err != nil || !v.Verified || v.GivenName != "Ada" || v.AppointmentID != "apt_1" {
			t.Fatalf("read back %+v %v", v, err)
		}
		c.advance(2 * time.Hour)
		if _, err := st.BookingLinkVisit(ctx, "bkl_a", "v1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an expired visit: %v", err)
		}
		if n, err := st.PurgeBookingLinkVisits(ctx, c.t.Add(-3*time.Hour)); err != nil || n != 0 {
			t.Fatalf("purged a visit not yet expired: %d %v", n, err)
		}
		if n, err := st.PurgeBookingLinkVisits(ctx, c.t); err != nil || n != 1 {
			t.Fatalf("purge expired visits: %d %v", n, err)
		}
	})
}
