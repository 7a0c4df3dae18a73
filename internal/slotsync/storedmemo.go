package slotsync

import (
	"cmp"
	"context"
	"encoding/hex"
	"math"
	"slices"
	"sync"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// A pass that compares anything lists the practice's stored sessions of its window: at 7,000
// practices that query was a tenth of the sync's CPU, mostly reading pages of a table larger
// than any cache, for an answer the previous pass's own write had just decided. The engine
// now keeps each practice's stored sessions of its last full window with the diary version
// they are true at, and after each pass whose write nothing else interleaved with
// (store.DiaryApplied.Version ≥ 0) carries them to the new version by applying the pass's
// own diff, as the store did. A pass at another version, or over a window outside the one
// kept, reads the store.
//
// What the diary version does not cover: setting a session's slots_synced_at moves no
// version, so another instance's pass that only re-read slots leaves this copy with an older
// time than the store. That can only bring a rolling refresh forward, never hide a change.
// Every other write to a session (inserting, deleting, a new summary or date through the
// upsert, herolink's own booking blanking a summary in the same transaction as it changes a
// slot) moves the version.
//
// The copy is 40 bytes a session without pointers (about 45 MB at 7,000 practices, never
// scanned by the garbage collector).

// storedRec is one stored session, compactly.
type storedRec struct {
	id     int64
	synced int64 // slots_synced_at, Unix ms; noSync if never
	hash   [16]byte
	day    int32 // days since 1970-01-01
	hashed bool  // false: summary_hash is ""
}

const (
	noSync      = math.MinInt64     // slots never read
	unknownSync = math.MinInt64 + 1 // only while applying a diff (afterWrite)
)

// storedAt is a practice's stored sessions dated from..to (days), as they are at a version.
type storedAt struct {
	version  int64
	from, to int32
	recs     []storedRec // sorted by id (byID); never changed once kept
}

func byID(r storedRec, id int64) int { return cmp.Compare(r.id, id) }

// storedMemo is an Engine's copy of its practices' stored sessions.
type storedMemo struct {
	mu    sync.Mutex
	m     map[int64]storedAt
	dates map[int32]string // each day's yyyy-mm-dd, made once
}

// checkCopy, when set, sees every answer served from the copy with the version it is true at.
// This package's tests set it to compare the answer with the store (export_test.go).
var checkCopy func(e *Engine, ctx context.Context, practiceID, version int64, w Window, served []store.StoredSession)

// get answers the practice's stored sessions of [from, to] from the copy, if it is true at
// version and holds the window, with the copy they came from.
func (sm *storedMemo) get(practiceID, version int64, from, to int32) ([]store.StoredSession, storedAt, bool) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	at, ok := sm.m[practiceID]
	if !ok || at.version != version || from < at.from || to > at.to {
		return nil, storedAt{}, false
	}
	out := make([]store.StoredSession, 0, len(at.recs))
	for _, r := range at.recs {
		if r.day >= from && r.day <= to {
			out = append(out, sm.sessionLocked(r))
		}
	}
	return out, at, true
}

func (sm *storedMemo) sessionLocked(r storedRec) store.StoredSession {
	s := store.StoredSession{ID: r.id, Date: sm.dateLocked(r.day)}
	if r.hashed {
		s.Hash = hex.EncodeToString(r.hash[:])
	}
	if r.synced != noSync {
		s.SlotsSyncedAt = time.UnixMilli(r.synced)
	}
	return s
}

func (sm *storedMemo) dateLocked(day int32) string {
	if d, ok := sm.dates[day]; ok {
		return d
	}
	if sm.dates == nil {
		sm.dates = map[int32]string{}
	}
	d := emis.DateOf(time.Unix(int64(day)*86400, 0).UTC()).String()
	sm.dates[day] = d
	return d
}

// forgetPractice drops everything the engine remembers of a practice.
func (e *Engine) forgetPractice(practiceID int64) {
	e.memo.forget(practiceID)
	e.stored.forget(practiceID)
	e.types.mu.Lock()
	delete(e.types.m, practiceID)
	e.types.mu.Unlock()
}

// forget drops a practice's copy.
func (sm *storedMemo) forget(practiceID int64) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	delete(sm.m, practiceID)
}

// put keeps a practice's stored sessions of [from, to] at version.
func (sm *storedMemo) put(practiceID int64, at storedAt) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.m == nil {
		sm.m = map[int64]storedAt{}
	}
	sm.m[practiceID] = at
}

// dayNumber is a date's days since 1970-01-01.
func dayNumber(d emis.Date) int32 {
	return int32(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dayOf is a yyyy-mm-dd date's day number; false for anything else (ParseDate is strict, so
// the day number gives the same string back).
func dayOf(date string) (int32, bool) {
	d, err := emis.ParseDate(date)
	if err != nil {
		return 0, false
	}
	return dayNumber(d), true
}

// hashOf is a stored summary hash compactly; false for a hash the sync cannot have made
// (sessionHasher.hash).
func hashOf(h string) (sum [16]byte, hashed, ok bool) {
	if h == "" {
		return sum, false, true
	}
	if len(h) != 32 {
		return sum, false, false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return sum, false, false
		}
	}
	if _, err := hex.Decode(sum[:], []byte(h)); err != nil {
		return sum, false, false
	}
	return sum, true, true
}

// recsOf is what the store answered, compactly, sorted; false if some row cannot be kept
// exactly (a date or hash herolink does not write).
func recsOf(stored []store.StoredSession) ([]storedRec, bool) {
	out := make([]storedRec, 0, len(stored))
	for _, s := range stored {
		day, ok := dayOf(s.Date)
		if !ok {
			return nil, false
		}
		sum, hashed, ok := hashOf(s.Hash)
		if !ok {
			return nil, false
		}
		synced := int64(noSync)
		if !s.SlotsSyncedAt.IsZero() {
			synced = s.SlotsSyncedAt.UnixMilli()
		}
		out = append(out, storedRec{id: s.ID, synced: synced, hash: sum, day: day, hashed: hashed})
	}
	slices.SortFunc(out, func(a, b storedRec) int { return byID(a, b.id) })
	return out, true
}

// afterWrite is the copy's sessions with a pass's diff applied as ApplyDiaryPass applied it,
// the write marking slots read at at (Unix ms); false when the result is not known exactly.
// The diff's Confirmed sessions count as marked: the caller only asks when the write's
// version shows nothing else wrote since the pass read (which is also when the store marks
// them).
func afterWrite(base storedAt, d store.DiaryDiff, at int64) ([]storedRec, bool) {
	// A clone changed in place, searched by id: most passes change a few sessions of a hundred
	// or more, and a map of them all cost more than the pass's reading.
	recs := slices.Clone(base.recs)
	const gone = math.MinInt32 // the day of a session pruned or removed, until dropped below
	if d.PruneBefore != "" {
		before, ok := dayOf(d.PruneBefore)
		if !ok {
			return nil, false
		}
		for i := range recs {
			if recs[i].day < before {
				recs[i].day = gone
			}
		}
	}
	for _, id := range d.Remove {
		if i, ok := slices.BinarySearchFunc(recs, id, byID); ok {
			recs[i].day = gone
		}
	}
	recs = slices.DeleteFunc(recs, func(r storedRec) bool { return r.day == gone })
	n := len(recs) // recs[:n] stay sorted; sessions the copy did not hold follow
	for _, row := range d.Upsert {
		day, ok := dayOf(row.Date)
		if !ok {
			return nil, false
		}
		sum, hashed, ok := hashOf(row.Hash)
		if !ok {
			return nil, false
		}
		i, ok := slices.BinarySearchFunc(recs[:n], row.ID, byID)
		if !ok {
			if i = slices.IndexFunc(recs[n:], func(r storedRec) bool { return r.id == row.ID }); i >= 0 {
				i += n
			} else {
				// Inserted with no slots_synced_at, or a row dated outside the copy's days
				// updated keeping its own: unknown unless its slots are marked read below.
				i = len(recs)
				recs = append(recs, storedRec{id: row.ID, synced: unknownSync})
			}
		}
		recs[i].day, recs[i].hash, recs[i].hashed = day, sum, hashed
	}
	if len(recs) > n {
		slices.SortFunc(recs, func(a, b storedRec) int { return byID(a, b.id) })
	}
	mark := func(id int64) {
		if i, ok := slices.BinarySearchFunc(recs, id, byID); ok {
			recs[i].synced = at
		}
	}
	for id := range d.Slots {
		mark(id)
	}
	for _, id := range d.Confirmed {
		mark(id)
	}
	unknown := false
	recs = slices.DeleteFunc(recs, func(r storedRec) bool {
		if r.day < base.from || r.day > base.to {
			return true // the store holds it outside the copy's days
		}
		unknown = unknown || r.synced == unknownSync
		return false
	})
	if unknown {
		return nil, false
	}
	return slices.Clip(recs), true
}

// storedSessions lists the practice's stored sessions of the window as they are at version:
// from the copy when it holds them (fromCopy), else from the store. base is the copy the
// pass's write is to be applied to, if any.
func (e *Engine) storedSessions(ctx context.Context, practiceID, version int64, w Window) (stored []store.StoredSession, base *storedAt, fromCopy bool, err error) {
	from, to := dayNumber(w.From), dayNumber(w.To)
	if stored, base, ok := e.stored.get(practiceID, version, from, to); ok {
		if checkCopy != nil {
			checkCopy(e, ctx, practiceID, version, w, stored)
		}
		return stored, &base, true, nil
	}
	stored, err = e.Store.DiarySessions(ctx, practiceID, w.From.String(), w.To.String())
	if err != nil {
		return nil, nil, false, err
	}
	if !w.Full {
		// A near window's sessions are not all the copy would hold.
		return stored, nil, false, nil
	}
	recs, ok := recsOf(stored)
	if !ok {
		return stored, nil, false, nil
	}
	return stored, &storedAt{version: version, from: from, to: to, recs: recs}, false, nil
}

// keepStored carries the copy a pass started from to the version its write left.
func (e *Engine) keepStored(practiceID int64, base *storedAt, d store.DiaryDiff, applied store.DiaryApplied) {
	if base == nil || applied.Version < 0 {
		// No copy to carry (a near window read from the store), or something else wrote the
		// diary while the pass ran, so what the store holds is not base plus d.
		e.stored.forget(practiceID)
		return
	}
	recs, ok := afterWrite(*base, d, applied.At.UnixMilli())
	if !ok {
		e.stored.forget(practiceID)
		return
	}
	e.stored.put(practiceID, storedAt{version: applied.Version, from: base.from, to: base.to, recs: recs})
}

// ForgetStoredCopies drops, for every practice, the engine's copy of its stored sessions and
// its memos of passes, and keeps the slot lists it applied: each practice's next pass reads its
// stored sessions, when their slots were last read included, from the store, and refreshes
// still find their lists by bytes. It is for whoever changes those read times outside the
// engine (the benchmark dating them as in steady operation): that moves no diary version, so
// the engine would not otherwise see it. Call it while no pass runs.
func (e *Engine) ForgetStoredCopies() {
	e.memo.mu.Lock()
	clear(e.memo.m)
	e.memo.mu.Unlock()
	e.stored.mu.Lock()
	clear(e.stored.m)
	e.stored.mu.Unlock()
}
