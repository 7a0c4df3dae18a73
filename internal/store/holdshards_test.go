package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Under a burst, holds on one practice must not wait for each other's commit: each bumps a
// change counter (migration 0027) whose row it locks until it commits, and the counter is
// spread over shards by slot. Slots 1, 17, 33 and 49 shared one row under the first rule of
// 16 shards, and a burst of 100 holds queued about six deep on each row. Only PostgreSQL has
// writers that run side by side: SQLite's one writer queues them all by design.
func TestHoldsOnOnePracticeDoNotWaitForEachOthersCommit(t *testing.T) {
	st := storetest.OpenPostgres(t)
	ctx := context.Background()
	hold := holdsOn(t, st, "A81002", 29002)
	commit := openHold(t, st, hold("apt_first", 1))
	defer func() {
		if err := commit(); err != nil {
			t.Error(err)
		}
	}()
	for i, slot := range []int64{17, 33, 49} {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := st.InTx(wctx, func(tx *store.Tx) error {
			_, err := st.CreateHold(wctx, tx, hold("apt_"+string(rune('a'+i)), slot), "appointment.reserved")
			return err
		})
		cancel()
		if err != nil {
			t.Fatalf("a hold on slot %d waited for the uncommitted hold on slot 1: %v", slot, err)
		}
	}
}

// Two groups of holds on one practice lock the same counter shards: each group is written in
// the shards' order, whatever order its holds came in, so the later group waits for the
// earlier rather than the two deadlocking. The scene is set so that, written in the order
// given, they would: group A takes shard 1 and waits for shard 3, held by a third hold's
// open transaction; group B takes shard 2 and waits for shard 1; once shard 3 is freed, A
// wants shard 2. Only PostgreSQL has writers that run side by side.
func TestTwoGroupsOfHoldsOnSharedShardsWaitForEachOtherRatherThanDeadlock(t *testing.T) {
	st := storetest.OpenPostgres(t)
	ctx := context.Background()
	hold := holdsOn(t, st, "A81003", 29003)
	// waitingForLocks waits until n of this database's transactions wait for a lock.
	waitingForLocks := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var waiting int
			if err := st.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d transactions wait for a lock after 10 s, want %d", waiting, n)
			}
			time.Sleep(5 * time.Millisecond) // polls the server's view; nothing here to signal
		}
	}
	group := func(rows ...store.AppointmentRow) chan error {
		done := make(chan error, 1)
		go func() {
			done <- st.InTx(ctx, func(tx *store.Tx) error {
				_, err := st.CreateHolds(ctx, tx, rows, "appointment.reserved")
				return err
			})
		}()
		return done
	}

	commit := openHold(t, st, hold("apt_shard3", 67))
	// Slot 66 is in shard 2 and slot 65 in shard 1: in the slots' own order as much as in
	// the order given, A would take shard 3 before shard 2, and B shard 2 before shard 1.
	a := group(hold("apt_a1", 1), hold("apt_a3", 3), hold("apt_a2", 66))
	waitingForLocks(1) // A, for shard 3
	b := group(hold("apt_b2", 2), hold("apt_b1", 65))
	waitingForLocks(2) // and B, for shard 1
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	for name, done := range map[string]chan error{"A": a, "B": b} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("group %s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("group %s still waits after 30 s", name)
		}
	}
	if n := count(t, st, `SELECT COUNT(*) FROM appointments WHERE id IN ('apt_shard3', 'apt_a1', 'apt_a2', 'apt_a3', 'apt_b1', 'apt_b2')`); n != 6 {
		t.Errorf("%d holds written, want all 6", n)
	}
}

// holdsOn makes a practice and answers a maker of its holds, reserved for an hour.
func holdsOn(t *testing.T, st *store.Store, ods string, cdb int) func(id string, slot int64) store.AppointmentRow {
	t.Helper()
	p, err := st.EnsurePractice(context.Background(), ods, cdb, "Practice "+ods)
	if err != nil {
		t.Fatal(err)
	}
	return func(id string, slot int64) store.AppointmentRow {
		return store.AppointmentRow{ID: id, Reference: "HL-" + id, PracticeGroupID: p.PracticeGroupID, PracticeID: p.ID,
			SlotID: slot, SessionID: 1, StartAt: time.Now().Add(time.Hour), LengthMin: 10, EMISSlotTypeID: 1,
			State: "reserved", ReservedUntil: time.Now().Add(time.Hour)}
	}
}

// openHold writes a hold in a transaction it leaves open, holding the hold's locks, until
// commit is called; commit answers the transaction's error.
func openHold(t *testing.T, st *store.Store, row store.AppointmentRow) (commit func() error) {
	t.Helper()
	ctx := context.Background()
	inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := st.CreateHold(ctx, tx, row, "appointment.reserved"); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-done:
		t.Fatal(err)
	}
	return sync.OnceValue(func() error {
		close(release)
		return <-done
	})
}
