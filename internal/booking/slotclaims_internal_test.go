package booking

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// Attempts on a slot while another is under way wait for it: refused when it held the slot,
// going on alone when it did not.
func TestAttemptsOnASlotUnderWayWaitForTheFirstAndFollowItsOutcome(t *testing.T) {
	for _, firstHeld := range []bool{true, false} {
		var c slotClaims
		ctx := context.Background()
		release, other, err := c.claim(ctx, "grp/slt_1_2")
		if err != nil || other {
			t.Fatalf("the first attempt: %v %v", other, err)
		}
		const n = 8
		var wg sync.WaitGroup
		refused := make(chan bool, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rel, heldByOther, err := c.claim(ctx, "grp/slt_1_2")
				if err != nil {
					t.Error(err)
					return
				}
				if !heldByOther {
					rel(false)
				}
				refused <- heldByOther
			}()
		}
		for { // until all eight wait on the first
			c.mu.Lock()
			w := c.m["grp/slt_1_2"].waiters
			c.mu.Unlock()
			if w == n {
				break
			}
			runtime.Gosched()
		}
		// Another group's attempt on the same slot id does not wait on this one.
		if rel, other, err := c.claim(ctx, "other/slt_1_2"); err != nil || other {
			t.Fatalf("another group's attempt: %v %v", other, err)
		} else {
			rel(false)
		}
		release(firstHeld)
		wg.Wait()
		close(refused)
		for r := range refused {
			if r != firstHeld {
				t.Errorf("first attempt held=%v, a waiting attempt was refused=%v", firstHeld, r)
			}
		}
	}
}

func TestAnAttemptWaitingOnAnotherStopsWithItsContext(t *testing.T) {
	var c slotClaims
	release, _, _ := c.claim(context.Background(), "grp/slt_1_2")
	defer release(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.claim(ctx, "grp/slt_1_2"); err == nil {
		t.Fatal("a cancelled attempt kept waiting")
	}
}
