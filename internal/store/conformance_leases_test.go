package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"herolink/internal/store"
)

// One writer per booking's write-back: the lease names its holder, and a holder whose lease
// lapsed and was taken over can neither renew it nor fence a write under it.
func TestAStaleLeaseHolderCannotWriteBack(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		must(t, insertHold(t, st, hold(f.practice, "apt_1", 1, 0)))
		const d = time.Minute
		free, err := st.LeaseFree(ctx, "apt_1")
		must(t, err)
		if !free {
			t.Fatal("a lease never taken is not free")
		}
		if _, err := st.LeaseFree(ctx, "apt_nope"); err == nil {
			t.Fatal("the lease of an unknown appointment")
		}
		ok, err := st.LeaseAppointment(ctx, "apt_1", "old", d)
		must(t, err)
		if !ok {
			t.Fatal("a free lease was not given")
		}
		if ok, _ := st.LeaseAppointment(ctx, "apt_1", "new", d); ok {
			t.Fatal("a held lease was given to a second worker")
		}
		if free, _ := st.LeaseFree(ctx, "apt_1"); free {
			t.Fatal("a held lease reads as free")
		}
		// The holder renews and fences within its lease.
		c.advance(30 * time.Second)
		ok, err = st.RenewLease(ctx, "apt_1", "old", d)
		must(t, err)
		if !ok {
			t.Fatal("the holder could not renew its lease")
		}
		must(t, st.FenceWrite(ctx, "apt_1", "old", 1, d))
		a, _ := st.Appointment(ctx, st.DBQ(), "apt_1")
		if !a.WriteUnknown || a.WriteAttempts != 1 || !a.UpdatedAt.Equal(c.t) {
			t.Fatalf("a fenced write is not recorded as under way: %+v", a)
		}
		// Another token never renews or fences it.
		if ok, _ := st.RenewLease(ctx, "apt_1", "new", d); ok {
			t.Fatal("a worker renewed a lease it does not hold")
		}
		if err := st.FenceWrite(ctx, "apt_1", "new", 2, d); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("fencing under another's lease: %v, want ErrLeaseLost", err)
		}
		// The old holder stalls past its lease; another worker takes it over.
		c.advance(d)
		if free, _ := st.LeaseFree(ctx, "apt_1"); !free {
			t.Fatal("a lapsed lease reads as held")
		}
		if ok, _ := st.RenewLease(ctx, "apt_1", "old", d); ok {
			t.Fatal("a lapsed lease was renewed")
		}
		ok, err = st.LeaseAppointment(ctx, "apt_1", "new", d)
		must(t, err)
		if !ok {
			t.Fatal("a lapsed lease could not be taken over")
		}
		if ok, _ := st.RenewLease(ctx, "apt_1", "old", d); ok {
			t.Fatal("the old holder renewed a lease taken over")
		}
		if err := st.FenceWrite(ctx, "apt_1", "old", 2, d); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("the old holder fenced a write under a lease taken over: %v, want ErrLeaseLost", err)
		}
		if a, _ := st.Appointment(ctx, st.DBQ(), "apt_1"); a.WriteAttempts != 1 {
			t.Fatalf("a refused fence changed the appointment: %+v", a)
		}
		// The old holder's release leaves the new lease alone; the new holder's ends it.
		must(t, st.ReleaseAppointment(ctx, "apt_1", "old"))
		if free, _ := st.LeaseFree(ctx, "apt_1"); free {
			t.Fatal("a stale holder's release ended the new lease")
		}
		must(t, st.FenceWrite(ctx, "apt_1", "new", 2, d))
		must(t, st.ReleaseAppointment(ctx, "apt_1", "new"))
		if free, _ := st.LeaseFree(ctx, "apt_1"); !free {
			t.Fatal("a released lease is still held")
		}
		if err := st.FenceWrite(ctx, "apt_1", "new", 3, d); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("fencing after release: %v, want ErrLeaseLost", err)
		}
		if err := st.FenceWrite(ctx, "apt_nope", "new", 1, d); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("fencing an unknown appointment: %v, want ErrLeaseLost", err)
		}
	})
}

func TestConformanceFreeSlots(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		p := f.practice
		s3 := slot(1, 3)
		s3.TypeID = 3 // not reviewed: never offered
		s4 := slot(1, 4)
		s4.Status = "Booked"
		diary(t, st, p.ID, 1, slot(1, 0), slot(1, 1), slot(1, 2), s3, s4)
		q := store.FreeSlotQuery{GroupID: p.PracticeGroupID, From: epoch, To: epoch.AddDate(0, 0, 7), Now: epoch}
		ids := func(q store.FreeSlotQuery) []int64 {
			t.Helper()
			fs, err := st.FreeSlots(ctx, q)
			must(t, err)
			var out []int64
			for _, f := range fs {
				out = append(out, f.SlotID)
			}
			return out
		}
		fs, err := st.FreeSlots(ctx, q)
		must(t, err)
		if len(fs) != 3 || fs[0].SlotID != 1000 || fs[0].PracticeID != p.ID || fs[0].SessionID != 901 || fs[0].TypeID != 1 ||
			fs[0].SiteID != 501 || len(fs[0].HolderIDs) != 1 || fs[0].HolderIDs[0] != 601 || !fs[0].StartAt.Equal(slotAt(1, 0)) || fs[0].LengthMin != 10 {
			t.Fatalf("free slots: %+v", fs)
		}
		must(t, insertHold(t, st, hold(p, "apt_1", 1, 1)))
		if got := ids(q); len(got) != 2 || got[0] != 1000 || got[1] != 1002 {
			t.Fatalf("free slots with 1001 held: %v", got)
		}
		q2 := q
		q2.Now = epoch.Add(15 * time.Minute) // the hold has run out
		if got := ids(q2); len(got) != 3 {
			t.Fatalf("free slots once the hold ran out: %v", got)
		}
		q2 = q
		q2.SlotID = 1002
		if got := ids(q2); len(got) != 1 || got[0] != 1002 {
			t.Fatalf("one slot: %v", got)
		}
		q2 = q
		q2.Limit, q2.AfterStart, q2.AfterPractice, q2.AfterSlot = 1, slotAt(1, 0).UnixMilli(), p.ID, 1000
		if got := ids(q2); len(got) != 1 || got[0] != 1002 {
			t.Fatalf("the page after 1000: %v", got)
		}
		for _, tc := range []struct {
			name string
			q    func(*store.FreeSlotQuery)
		}{
			{"another site", func(q *store.FreeSlotQuery) { q.SiteID = 502 }},
			{"another holder", func(q *store.FreeSlotQuery) { q.HolderID = 602 }},
			{"another type", func(q *store.FreeSlotQuery) { q.TypeID = 2 }},
			{"another group", func(q *store.FreeSlotQuery) { q.GroupID = "pg_other"; q.PracticeID = p.ID }},
			{"before the window", func(q *store.FreeSlotQuery) { q.To = slotAt(1, 0) }},
			{"in the past", func(q *store.FreeSlotQuery) { q.Now = slotAt(2, 0) }},
		} {
			q2 := q
			tc.q(&q2)
			if got := ids(q2); len(got) != 0 {
				t.Errorf("%s: %v, want none", tc.name, got)
			}
		}
		q2 = q
		q2.SiteID, q2.HolderID, q2.TypeID = 501, 601, 1
		if got := ids(q2); len(got) != 2 {
			t.Errorf("matching site, holder and type: %v", got)
		}
		// Two practices of one group merge in (start, practice, slot) order.
		o := setUp(t, st, "B82002")
		exec(t, st, `UPDATE practices SET practice_group_id = ? WHERE id = ?`, p.PracticeGroupID, o.practice.ID)
		diary(t, st, o.practice.ID, 1, slot(1, 0))
		got := ids(q)
		if len(got) != 3 || got[0] != 1000 || got[1] != 1000 || got[2] != 1002 {
			t.Fatalf("two practices merged: %v", got)
		}
	})
}
