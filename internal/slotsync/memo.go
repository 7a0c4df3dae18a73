package slotsync

import (
	"hash/maphash"
	"sync"
	"time"

	"herolink/internal/emis"
)

// Most passes find nothing changed: at 7,000 practices a practice changes about once a minute
// and is read four times. Such a pass used to cost as much as one that found a change: the
// sync state, the stored sessions, the slot types and a write transaction. A pass now first
// compares what it read with what the previous complete pass of the same window proved, and
// when EMIS's answer and the stored diary are both as they were, and no rolling
// refresh is due, it only records the pass.
//
// Why each condition:
//   - the answer's bytes: any change EMIS shows in a session summary changes them;
//   - the practice's diary version, read before EMIS is: any write to the stored diary since
//     the previous pass read it (another instance's pass, herolink's own booking recording
//     what it wrote, staff changing which types are synced) moves it, so the store is still
//     exactly what the previous pass made it;
//   - the earliest rolling refresh: count-neutral changes (a cancellation and a booking in one
//     session) are only ever caught by reading the slots again.

type memoKey struct {
	practice int64
	full     bool
}

// passMemo is what the last complete pass of one window proved.
type passMemo struct {
	from, to   emis.Date
	sum        uint64    // of EMIS's session list
	version    int64     // the practice's diary version, read before EMIS was
	refreshDue time.Time // the earliest rolling refresh of a session in the window
}

// memos is an Engine's memory of passes. It is only ever an optimisation: forgetting an entry
// makes the next pass do the whole work.
type memos struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[memoKey]passMemo
}

func (ms *memos) init() {
	if ms.m == nil {
		ms.seed = maphash.MakeSeed()
		ms.m = map[memoKey]passMemo{}
	}
}

// sum hashes a session list answer.
func (ms *memos) sum(raw []emis.RawSession) uint64 {
	ms.mu.Lock()
	ms.init()
	seed := ms.seed
	ms.mu.Unlock()
	var h maphash.Hash
	h.SetSeed(seed)
	for _, r := range raw {
		_, _ = h.Write(r)
		_ = h.WriteByte(0) // a session boundary is part of the answer
	}
	return h.Sum64()
}

// unchanged says whether a pass may stop after reading EMIS: everything the memo was made
// from is as it was.
func (ms *memos) unchanged(k memoKey, from, to emis.Date, sum uint64, version int64, now time.Time) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m, ok := ms.m[k]
	return ok && m.from == from && m.to == to && m.sum == sum && m.version == version && now.Before(m.refreshDue)
}

// known says whether a complete pass of the practice was remembered: its first sync is done.
func (ms *memos) known(practice int64) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, near := ms.m[memoKey{practice, false}]
	_, full := ms.m[memoKey{practice, true}]
	return near || full
}

func (ms *memos) put(k memoKey, m passMemo) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.init()
	ms.m[k] = m
}

// forget drops a practice's memos: after a failed or incomplete pass, the next does everything.
func (ms *memos) forget(practice int64) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.m, memoKey{practice, false})
	delete(ms.m, memoKey{practice, true})
}
