package store_test

import (
	"context"
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
	p, err := st.EnsurePractice(ctx, "A81002", 29002, "Riverside")
	if err != nil {
		t.Fatal(err)
	}
	hold := func(id string, slot int64) store.AppointmentRow {
		return store.AppointmentRow{ID: id, Reference: "HL-" + id, PracticeGroupID: p.PracticeGroupID, PracticeID: p.ID,
			SlotID: slot, SessionID: 1, StartAt: time.Now().Add(time.Hour), LengthMin: 10, EMISSlotTypeID: 1,
			State: "reserved", ReservedUntil: time.Now().Add(time.Hour)}
	}
	inserted := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := st.CreateHold(ctx, tx, hold("apt_first", 1), "appointment.reserved"); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-first:
		t.Fatal(err)
	}
	defer func() {
		close(release)
		if err := <-first; err != nil {
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
