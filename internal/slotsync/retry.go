package slotsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"herolink/internal/emis"
)

// IncompleteError is a pass that applied what it proved but could not read every session it
// had to: those sessions keep their previous copy (their summary is not updated either, so the
// next pass reads them again) and the practice's last success does not move.
type IncompleteError struct {
	Unread int   // sessions whose slots could not be read
	Read   int   // sessions whose slots were read and applied
	Err    error // the first failure
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("slotsync: slots of %d session(s) could not be read; their previous copy is kept and they are read again next pass: %v", e.Unread, e.Err)
}

func (e *IncompleteError) Unwrap() error { return e.Err }

// transient says whether an EMIS failure may pass by itself when asked again: no answer (a
// reset, a timeout of this call), an HTTP error, or EMIS's technical error. Refusals (access
// denied, a logon refused) are not retried: a real EMIS may lock a user after repeated ones.
func transient(err error) bool {
	var te *emis.TransportError
	return errors.As(err, &te) || errors.Is(err, emis.ErrTechnical)
}

// retry runs a read of EMIS up to Attempts times while it fails transiently, each attempt bounded
// by ReadTimeout and the pass's context, with a short jittered pause between attempts. Reads
// change nothing in EMIS, so asking again is always safe.
func retry[T any](ctx context.Context, e *Engine, read func(context.Context) (T, error)) (T, error) {
	var zero T
	pause := e.retryPause()
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, e.readTimeout())
		v, err := read(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		if attempt >= e.attempts() || !transient(err) || ctx.Err() != nil {
			return zero, err
		}
		t := time.NewTimer(pause + rand.N(pause/2+1))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return zero, err
		}
		pause *= 2
	}
}

func (e *Engine) attempts() int {
	if e.Attempts > 0 {
		return e.Attempts
	}
	return 3
}

func (e *Engine) readTimeout() time.Duration {
	if e.ReadTimeout > 0 {
		return e.ReadTimeout
	}
	return 10 * time.Second
}

func (e *Engine) retryPause() time.Duration {
	if e.RetryPause > 0 {
		return e.RetryPause
	}
	return 200 * time.Millisecond
}
