package staff_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"herolink/internal/staff"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Two instances on one database share one count: ten failures spread over both lock the
// account on both, and on an instance started afterwards.
func TestFailedSignInsAtTwoInstancesLockTheAccountOnBothAndSurviveARestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		instance := func() *staff.Throttle {
			return &staff.Throttle{Shared: st, MaxFailures: 10, PerAddress: 30, Window: 15 * time.Minute, LockFor: 15 * time.Minute, Now: clk.now}
		}
		a, b := instance(), instance()
		for i := range 9 {
			th := a
			if i%2 == 1 {
				th = b
			}
			if err := th.Failed(ctx, "ada", fmt.Sprintf("10.0.0.%d", i)); err != nil {
				t.Fatalf("failure %d already locked: %v", i+1, err)
			}
		}
		wantThrottled(t, b.Failed(ctx, " Ada ", "10.0.0.99"), true)
		wantThrottled(t, a.Check(ctx, "ada", "192.0.2.1"), true)
		restarted := instance()
		te := wantThrottled(t, restarted.Check(ctx, "ADA", "192.0.2.7"), true)
		if te.Wait != 15*time.Minute {
			t.Errorf("locked for %s, want 15m", te.Wait)
		}
		if err := restarted.Check(ctx, "grace", "192.0.2.7"); err != nil {
			t.Errorf("another account was refused: %v", err)
		}
		clk.advance(15 * time.Minute)
		if err := a.Check(ctx, "ada", "192.0.2.1"); err != nil {
			t.Errorf("still locked after 15 minutes: %v", err)
		}
	})
}

// Only consecutive failures count, across instances too; failures older than the window are
// forgotten; an address spraying accounts is refused everywhere.
func TestTheSharedThrottleKeepsTheRulesOfTheOneInMemory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		a := &staff.Throttle{Shared: st, MaxFailures: 3, PerAddress: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute, Now: clk.now}
		b := &staff.Throttle{Shared: st, MaxFailures: 3, PerAddress: 5, Window: 15 * time.Minute, LockFor: 15 * time.Minute, Now: clk.now}
		for range 2 {
			if err := a.Failed(ctx, "ada", "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Succeeded(ctx, "ada"); err != nil {
			t.Fatal(err)
		}
		if err := a.Failed(ctx, "ada", "10.0.0.2"); err != nil {
			t.Fatalf("a success at the other instance did not reset the count: %v", err)
		}
		clk.advance(16 * time.Minute)
		for range 2 {
			if err := b.Failed(ctx, "ada", "10.0.0.3"); err != nil {
				t.Fatalf("a failure older than the window still counted: %v", err)
			}
		}
		// The address 10.0.0.9 tries five accounts: refused at both instances.
		var err error
		for i := range 5 {
			err = a.Failed(ctx, fmt.Sprintf("user%d", i), "10.0.0.9")
		}
		wantThrottled(t, err, false)
		wantThrottled(t, b.Check(ctx, "someone", "10.0.0.9"), false)
		n, perr := st.PurgeSignInFailures(ctx, clk.now().Add(time.Hour), 15*time.Minute)
		if perr != nil || n == 0 {
			t.Fatalf("purge after the locks ended: %d rows, %v", n, perr)
		}
		if err := b.Check(ctx, "someone", "10.0.0.9"); err != nil && !errors.As(err, new(*staff.ThrottledError)) {
			t.Fatal(err)
		}
	})
}
