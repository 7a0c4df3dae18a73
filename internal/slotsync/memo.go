package slotsync

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"slices"
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
	mu       sync.Mutex
	seedOnce sync.Once
	seed     maphash.Seed // hashSeed
	m        map[memoKey]passMemo
	slots    map[int64]slotSums // by practice
	hashes   map[memoKey][]sessionHash
}

func (ms *memos) init() {
	if ms.m == nil {
		ms.m = map[memoKey]passMemo{}
		ms.slots = map[int64]slotSums{}
		ms.hashes = map[memoKey][]sessionHash{}
	}
}

// hashSeed is the memo's hash seed, made on first use; every pass hashes answers with it, so
// it is read without the memo's lock.
func (ms *memos) hashSeed() maphash.Seed {
	ms.seedOnce.Do(func() { ms.seed = maphash.MakeSeed() })
	return ms.seed
}

// sum hashes a session list answer.
func (ms *memos) sum(raw []emis.RawSession) uint64 {
	seed := ms.hashSeed()
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
	delete(ms.slots, practice)
	delete(ms.hashes, memoKey{practice, false})
	delete(ms.hashes, memoKey{practice, true})
}

// A rolling refresh (memo.go's third condition) re-reads a session's slots to catch what its
// summary cannot show, and nearly always finds them as they were: at 7,000 practices four in
// five slot lists read are refreshes. Decoding such a list and comparing it slot by slot with
// the stored copy was a tenth of the sync's CPU. A refresh whose answer is byte for byte the
// list the engine last applied for that session, with the practice's diary version still the
// one its own last write left, proves the stored slots current without either: the session is
// only marked read (store.DiaryDiff.Confirmed), and the store does even that only if nothing
// wrote the diary while the pass ran.
//
// The sums stay true only while nothing but the engine's own recorded passes writes the
// practice's stored slots:
//   - another writer (another instance, herolink's own bookings, staff changing the synced
//     types) moves the diary version, and sums made at another version are never used;
//   - a pass of this engine whose write took a slot from another session (EMIS moved it) may
//     have changed a session it did not read: it drops the practice's sums;
//   - a pass that is not remembered (failed, incomplete, skipped or disagreeing sessions)
//     records no sums, and the version its write moved makes the old ones unusable.

// slotSums are one practice's slot-list sums, valid at one diary version: a slice sorted by
// session, 16 bytes a session (a map took three times that: 36 MB at 7,000 practices).
type slotSums struct {
	version int64
	sums    []sessionSum
}

type sessionSum struct {
	session int64
	sum     uint64
}

// get is the sum of the session's list last applied, if known.
func (s slotSums) get(session int64) (uint64, bool) {
	i, ok := slices.BinarySearchFunc(s.sums, session, func(e sessionSum, id int64) int { return cmp.Compare(e.session, id) })
	if !ok {
		return 0, false
	}
	return s.sums[i].sum, true
}

// slotListSum hashes a slot list answer.
func (ms *memos) slotListSum(data []byte) uint64 {
	return maphash.Bytes(ms.hashSeed(), data)
}

// appliedSlots returns the sums of the practice's slot lists if they were made at version
// (none otherwise). The memo never changes a slotSums it handed out: it replaces it.
func (ms *memos) appliedSlots(practice, version int64) slotSums {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if s, ok := ms.slots[practice]; ok && s.version == version {
		return s
	}
	return slotSums{}
}

// putSlots records the slot lists a remembered pass applied: read are the sums of the lists
// it read (decoded or confirmed), versionRead the diary version it read first and version
// the one its write left. The sums of sessions it did not read are kept if they were valid at
// versionRead; a pass over the whole horizon keeps only those of sessions EMIS still listed.
func (ms *memos) putSlots(practice, versionRead, version int64, read map[int64]uint64, listed map[int64]bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.init()
	var next []sessionSum
	old, ok := ms.slots[practice]
	if ok && old.version == versionRead {
		next = make([]sessionSum, 0, len(old.sums)+len(read))
		for _, e := range old.sums {
			if _, again := read[e.session]; !again && (listed == nil || listed[e.session]) {
				next = append(next, e)
			}
		}
	}
	for id, sum := range read {
		next = append(next, sessionSum{id, sum})
	}
	slices.SortFunc(next, func(a, b sessionSum) int { return cmp.Compare(a.session, b.session) })
	ms.slots[practice] = slotSums{version: version, sums: slices.Clip(next)}
}

// forgetSlots drops a practice's slot-list sums.
func (ms *memos) forgetSlots(practice int64) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.slots, practice)
}

// A pass that is not remembered hashes every session element of its answer (SHA-256, the
// summary hash the store keeps) to find the stored sessions that did not change: 3 % of
// herolink's CPU at 7,000 practices, nearly all of it for elements byte for byte as the
// previous pass of the same window saw them. Each window keeps the summary hashes of the
// elements its last pass hashed, keyed by the element's maphash: an element found there is
// not hashed again. The entries are a pure function of the bytes, true whatever the store
// holds; a maphash collision between a changed element and an old one (2^-64, as for the
// answer sums above) is the only way one could be wrong.

// sessionHash is an element's summary hash, known by its maphash.
type sessionHash struct {
	key uint64 // maphash of the element
	sum [16]byte
}

// sessionHasher hashes one pass's session elements, reusing what the window's last pass
// hashed, and collects what the next pass may reuse.
type sessionHasher struct {
	seed  maphash.Seed
	known []sessionHash // the last pass's, in its answer's order; never changed once kept
	next  []sessionHash
	// shift is where the last element found sat in known, less its place in this answer:
	// EMIS lists sessions in the same order pass after pass, a session added or gone
	// shifting the rest.
	shift int
	// computed counts the elements hashed with SHA-256 (Result.SessionsHashed).
	computed int
}

// hasher starts a pass's session hashing for window k.
func (ms *memos) hasher(k memoKey, elements int) *sessionHasher {
	ms.mu.Lock()
	known := ms.hashes[k]
	ms.mu.Unlock()
	return &sessionHasher{seed: ms.hashSeed(), known: known, next: make([]sessionHash, 0, elements)}
}

// hash is the summary hash of the answer's next session element, as stored: the first half
// of its SHA-256, in hex.
func (h *sessionHasher) hash(raw emis.RawSession) string {
	key := maphash.Bytes(h.seed, raw)
	sum, ok := h.lookup(key)
	if !ok {
		full := sha256.Sum256(raw)
		copy(sum[:], full[:16])
		h.computed++
	}
	h.next = append(h.next, sessionHash{key, sum})
	return hex.EncodeToString(sum[:])
}

// lookup finds the element's key among the known hashes: first where the answers' order puts
// it, then anywhere (a changed or new element looks through them all, a hundred or so).
func (h *sessionHasher) lookup(key uint64) ([16]byte, bool) {
	at := len(h.next) // the element's place in this answer
	if i := at + h.shift; i >= 0 && i < len(h.known) && h.known[i].key == key {
		return h.known[i].sum, true
	}
	for i, e := range h.known {
		if e.key == key {
			h.shift = i - at
			return e.sum, true
		}
	}
	return [16]byte{}, false
}

// keepHashes records the hashes of this pass's elements for the window's next pass, in place
// of the last pass's.
func (ms *memos) keepHashes(k memoKey, h *sessionHasher) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.init()
	ms.hashes[k] = slices.Clip(h.next)
}
