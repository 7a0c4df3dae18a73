package emis

import (
	"context"
	"net/url"
	"strconv"
	"sync"
)

// bufferPool keeps buffers for one kind of answer, up to a size: keeping the buffer of a rare
// large answer would hold it for every later call.
type bufferPool struct {
	max  int
	pool sync.Pool
}

func (p *bufferPool) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

// put keeps b for a later answer, unless it is too large or was never read into.
func (p *bufferPool) put(b *[]byte) {
	if c := cap(*b); c > 0 && c <= p.max {
		p.pool.Put(b)
	}
}

// answerBuffers holds buffers for answers whose bytes are done with before their call
// returns (usedResult): a first sync of 7,000 practices reads 780,000 slot lists, and a new
// slice for each was a quarter of the bytes it allocated. A slot list is a few kilobytes.
var answerBuffers = &bufferPool{max: 64 << 10}

// listBuffers holds buffers for session lists (GetAppointmentSessionsLeased), which the sync
// reads 40,000 times in two minutes at 7,000 practices and keeps only for the pass: a new one
// each was the largest share of what the steady sync allocated. A practice's fortnight is
// some tens of kilobytes.
var listBuffers = &bufferPool{max: 512 << 10}

// giveBack returns a buffer to its pool, first overwriting it whole when the configuration
// asks (Config.PoisonReleased).
func (c *Caller) giveBack(b *[]byte, p *bufferPool) {
	if c.cfg.PoisonReleased {
		full := (*b)[:cap(*b)]
		for i := range full {
			full[i] = 'X'
		}
	}
	p.put(b)
}

// releaser is the function that gives back a session list's buffer (nil: a no-op), at most
// once however often it is called.
func (c *Caller) releaser(b *[]byte) func() {
	if b == nil {
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { c.giveBack(b, listBuffers) }) }
}

// usedResult hands a result document's bytes to use before the call returns. The answer's
// buffer is then read into by later calls, so use must keep nothing that points into them:
// what it decodes into strings and numbers is copied.
type usedResult struct{ use func(data []byte) error }

// GetSlotsForSessionUse reads the slot list of one session, undecoded, and hands it to use
// before it returns (DecodeSlotList decodes it): use must not keep data, whose buffer the
// next call reads into. An empty list is handed on as it came; use is not called when the
// call fails.
func (s *Conn) GetSlotsForSessionUse(ctx context.Context, sessionDBID int64, use func(data []byte) error) error {
	return s.call(ctx, MethodGetSlotsForSession,
		url.Values{"appointmentSessionId": {strconv.FormatInt(sessionDBID, 10)}}, &usedResult{use: use})
}
