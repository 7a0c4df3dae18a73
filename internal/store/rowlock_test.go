package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// An appointment read inside a transaction cannot be read by another transaction until the
// first ends: the decision the first takes on what it read (a staff link, a takeover) cannot be
// raced by another instance. SQLite gets this from its one writer, PostgreSQL from FOR UPDATE.
func TestAnAppointmentReadInATransactionIsLockedUntilItEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		p, err := st.EnsurePractice(ctx, "A81001", 29001, "Riverside")
		if err != nil {
			t.Fatal(err)
		}
		row := store.AppointmentRow{ID: "apt_lock", Reference: "HL-LOCK", PracticeGroupID: p.PracticeGroupID, PracticeID: p.ID,
			SlotID: 7, SessionID: 1, StartAt: time.Now().Add(time.Hour), LengthMin: 10, EMISSlotTypeID: 1, State: "reserved",
			ReservedUntil: time.Now().Add(time.Hour)}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return st.InsertHold(ctx, tx, row) }); err != nil {
			t.Fatal(err)
		}
		held := make(chan struct{})
		release := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := st.Appointment(ctx, tx, row.ID); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		var once sync.Once
		done := func() { once.Do(func() { close(release) }) }
		defer done() // a failing check must not leave the first transaction open
		// While the first holds it, a second transaction's read waits (and here gives up).
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err = st.InTx(wctx, func(tx *store.Tx) error {
			_, err := st.Appointment(wctx, tx, row.ID)
			return err
		})
		cancel()
		if err == nil {
			t.Fatal("a second transaction read the appointment while the first held it")
		}
		done()
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		// Once the first ends, the second reads it at once.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := st.Appointment(ctx, tx, row.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
