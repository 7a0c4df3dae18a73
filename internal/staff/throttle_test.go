package staff_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"herolink/internal/staff"
)

var ctx = context.Background()

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newThrottle() (*staff.Throttle, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	return &staff.Throttle{MaxFailures: 10, PerAddress: 30, Window: 15 * time.Minute, LockFor: 15 * time.Minute, Now: clk.now}, clk
}

func wantThrottled(t *testing.T, err error, account bool) *staff.ThrottledError {
	t.Helper()
	var te *staff.ThrottledError
	if !errors.As(err, &te) || te.Account != account {
		t.Fatalf("got %v, want a refusal (account lock: %v)", err, account)
	}
	return te
}

func TestTenFailedSignInsLockTheAccountForFifteenMinutes(t *testing.T) {
	th, clk := newThrottle()
	for i := range 9 {
		if err := th.Failed(ctx, "Ada", fmt.Sprintf("10.0.0.%d", i)); err != nil {
			t.Fatalf("failure %d already locked: %v", i+1, err)
		}
	}
	te := wantThrottled(t, th.Failed(ctx, " ada ", "10.0.0.99"), true) // the tenth, however the name is typed
	if te.Wait != 15*time.Minute {
		t.Errorf("locked for %s, want 15m", te.Wait)
	}
	wantThrottled(t, th.Check(ctx, "ADA", "192.0.2.1"), true) // from anywhere
	if err := th.Check(ctx, "grace", "192.0.2.1"); err != nil {
		t.Errorf("another account was refused: %v", err)
	}
	clk.advance(14*time.Minute + 59*time.Second)
	wantThrottled(t, th.Check(ctx, "ada", "192.0.2.1"), true)
	clk.advance(time.Second)
	if err := th.Check(ctx, "ada", "192.0.2.1"); err != nil {
		t.Errorf("still locked after 15 minutes: %v", err)
	}
}

func TestFailuresSpreadOverMoreThanTheWindowDoNotLock(t *testing.T) {
	th, clk := newThrottle()
	for i := range 30 {
		if err := th.Failed(ctx, "ada", fmt.Sprintf("10.0.0.%d", i)); err != nil {
			t.Fatalf("failure %d, two minutes apart, locked: %v", i+1, err)
		}
		clk.advance(2 * time.Minute)
	}
}

func TestASuccessfulSignInClearsTheAccountsFailures(t *testing.T) {
	th, _ := newThrottle()
	for range 9 {
		_ = th.Failed(ctx, "ada", "10.0.0.1")
	}
	th.Succeeded(ctx, "ada")
	for range 9 {
		if err := th.Failed(ctx, "ada", "10.0.0.2"); err != nil {
			t.Fatalf("locked although the failures before the success should not count: %v", err)
		}
	}
}

func TestOneAddressGuessingManyAccountsIsRefused(t *testing.T) {
	th, clk := newThrottle()
	var err error
	for i := range 30 {
		err = th.Failed(ctx, fmt.Sprintf("user%d", i), "203.0.113.7")
	}
	wantThrottled(t, err, false)
	wantThrottled(t, th.Check(ctx, "someone-else", "203.0.113.7"), false)
	if err := th.Check(ctx, "someone-else", "203.0.113.8"); err != nil {
		t.Errorf("another address was refused: %v", err)
	}
	clk.advance(15 * time.Minute)
	if err := th.Check(ctx, "someone-else", "203.0.113.7"); err != nil {
		t.Errorf("the address is still refused after 15 minutes: %v", err)
	}
}

func TestTheThrottleRemembersABoundedNumberOfAccounts(t *testing.T) {
	th, _ := newThrottle()
	th.MaxTracked = 100
	for range 10 {
		_ = th.Failed(ctx, "ada", "10.0.0.1")
	}
	for i := range 1000 {
		_ = th.Failed(ctx, fmt.Sprintf("spray%d", i), fmt.Sprintf("10.1.%d.%d", i/250, i%250))
	}
	wantThrottled(t, th.Check(ctx, "ada", "10.9.9.9"), true) // a live lock is not what gets evicted
}
