package booking

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"herolink/internal/store"
)

// A write-back holds its appointment's lease while it works. The lease is short, so that after
// a crash another process resumes the booking within seconds, and renewed while the worker
// lives. Every EMIS write is fenced: it is sent only after one statement has checked the token
// and extended the lease (store.FenceWrite), and the worker stops writing (its context ends)
// before a lease it could not renew can lapse. So a worker whose lease was taken over never
// writes, and two workers never write one booking at once.
// 12 s keeps a dead worker's booking waiting at most about 14 s (the lease, then the orphan
// watch's next look) while leaving a live worker 8 s to get one renewal through a busy database.
const (
	leaseFor    = 12 * time.Second           // a lease lapses this long after its last renewal
	renewEvery  = leaseFor / 4               // the live worker renews this often
	leaseMargin = 4 * time.Second            // a worker stops this long before an unrenewed lease lapses
	stopAfter   = leaseFor - leaseMargin     // ... that is, this long after its last renewal
	orphanAfter = 2*renewEvery + time.Second // a running job without a live lease this long is a dead worker's
)

// errLeaseLapsing ends a worker's context when it could not renew its lease in time.
var errLeaseLapsing = errors.New("booking: the write-back lease could not be renewed; stopping before it lapses")

type leaseKey struct{}

// beforeFenceKey carries a test's hook, run just before a write's fence: where a worker that
// stalled would be when another took its booking over.
type beforeFenceKey struct{}

// heldLease is the lease a write-back works under, carried in its context to the fence.
type heldLease struct {
	id, token string
	watchdog  *time.Timer
}

// renewed pushes back the moment the worker stops for want of a renewal.
func (l *heldLease) renewed() { l.watchdog.Reset(stopAfter) }

// holdLease keeps the lease taken under token until release is called: a goroutine renews it
// every renewEvery, and the returned context ends when the lease is lost or could not be
// renewed for stopAfter, so no EMIS call outlives the lease it was fenced under.
func (s *Service) holdLease(ctx context.Context, id, token string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	l := &heldLease{id: id, token: token, watchdog: time.AfterFunc(stopAfter, func() { cancel(errLeaseLapsing) })}
	ctx = context.WithValue(ctx, leaseKey{}, l)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(renewEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ok, err := s.Store.RenewLease(ctx, id, token, leaseFor)
			switch {
			case err != nil:
				s.log().Warn("renew write-back lease", "appointment", id, "err", err) // the watchdog decides
			case !ok:
				cancel(fmt.Errorf("appointment %s: %w", id, store.ErrLeaseLost))
				return
			default:
				l.renewed()
			}
		}
	}()
	return ctx, func() {
		close(done)
		wg.Wait()
		l.watchdog.Stop()
		cancel(nil)
	}
}

// fenceWrite records a write about to be sent, under the lease in ctx; store.ErrLeaseLost
// means another worker has the booking now and this one must not write.
func (s *Service) fenceWrite(ctx context.Context, a store.AppointmentRow) error {
	if hook, _ := ctx.Value(beforeFenceKey{}).(func()); hook != nil {
		hook()
	}
	l, _ := ctx.Value(leaseKey{}).(*heldLease)
	if l == nil || l.id != a.ID {
		return fmt.Errorf("booking: write for %s attempted without its lease", a.ID)
	}
	if err := s.Store.FenceWrite(ctx, a.ID, l.token, a.WriteAttempts+1, leaseFor); err != nil {
		return err
	}
	l.renewed()
	return nil
}
