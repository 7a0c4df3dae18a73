package slotsync

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// What a pass's write does to the stored sessions, applied to the engine's copy, in the cases
// the sandbox cannot play: a session EMIS moved to another date, and days pruned from a copy
// that still holds them.
func TestAWritesEffectOnTheCopyIsTheStoresOrTheCopyIsDropped(t *testing.T) {
	day := func(s string) int32 { d, _ := dayOf(s); return d }
	const h1, h2 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	rec := func(id int64, date, hash string, synced int64) storedRec {
		sum, hashed, _ := hashOf(hash)
		return storedRec{id: id, synced: synced, hash: sum, day: day(date), hashed: hashed}
	}
	base := storedAt{version: 7, from: day("2026-11-23"), to: day("2026-11-30"), recs: []storedRec{
		rec(1, "2026-11-23", h1, 100), rec(2, "2026-11-24", h1, 100), rec(3, "2026-11-25", "", noSync)}}
	const at = 5000
	cases := []struct {
		name string
		diff store.DiaryDiff
		want []storedRec // nil: the copy is dropped
	}{
		{"days before today are pruned", store.DiaryDiff{PruneBefore: "2026-11-24"},
			[]storedRec{rec(2, "2026-11-24", h1, 100), rec(3, "2026-11-25", "", noSync)}},
		{"a new session whose slots were read is marked read", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 4, Date: "2026-11-26", Hash: h2}}, Slots: map[int64][]store.SlotRow{4: nil}},
			[]storedRec{rec(1, "2026-11-23", h1, 100), rec(2, "2026-11-24", h1, 100), rec(3, "2026-11-25", "", noSync), rec(4, "2026-11-26", h2, at)}},
		{"a new session with a lower id than any kept takes its place in order", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 0, Date: "2026-11-26", Hash: h2}}, Slots: map[int64][]store.SlotRow{0: nil}},
			[]storedRec{rec(0, "2026-11-26", h2, at), rec(1, "2026-11-23", h1, 100), rec(2, "2026-11-24", h1, 100), rec(3, "2026-11-25", "", noSync)}},
		{"a new session listed twice is kept once, as last written", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 4, Date: "2026-11-26", Hash: h1}, {ID: 4, Date: "2026-11-27", Hash: h2}}, Slots: map[int64][]store.SlotRow{4: nil}},
			[]storedRec{rec(1, "2026-11-23", h1, 100), rec(2, "2026-11-24", h1, 100), rec(3, "2026-11-25", "", noSync), rec(4, "2026-11-27", h2, at)}},
		{"a new session of a type not synced: the store may hold it outside the copy's days", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 4, Date: "2026-11-26", Hash: h2}}}, nil},
		{"a session moved to a date outside the copy's days leaves it", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 2, Date: "2026-12-05", Hash: h2}}},
			[]storedRec{rec(1, "2026-11-23", h1, 100), rec(3, "2026-11-25", "", noSync)}},
		{"a changed summary keeps its slots' time; confirmed and read ones move to the write's", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 2, Date: "2026-11-24", Hash: ""}}, Confirmed: []int64{1}, Slots: map[int64][]store.SlotRow{3: nil}},
			[]storedRec{rec(1, "2026-11-23", h1, at), rec(2, "2026-11-24", "", 100), rec(3, "2026-11-25", "", at)}},
		{"a removed session leaves", store.DiaryDiff{Remove: []int64{3}},
			[]storedRec{rec(1, "2026-11-23", h1, 100), rec(2, "2026-11-24", h1, 100)}},
		{"a hash herolink does not write drops the copy", store.DiaryDiff{
			Upsert: []store.SessionRow{{ID: 2, Date: "2026-11-24", Hash: "ABC"}}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := afterWrite(base, c.diff, at)
			if c.want == nil {
				if ok {
					t.Fatalf("kept %+v, want the copy dropped", got)
				}
				return
			}
			if !ok {
				t.Fatal("dropped the copy")
			}
			if d := cmp.Diff(c.want, got, cmp.AllowUnexported(storedRec{})); d != "" {
				t.Fatalf("copy after the write (-want +got):\n%s", d)
			}
		})
	}
}

// A practice the scheduler no longer syncs (disconnected, or taken by another instance) leaves
// nothing behind in the engine's memory.
func TestAPracticeNoLongerSyncedIsForgottenByTheEngine(t *testing.T) {
	e := &Engine{}
	s := &Scheduler{Engine: e, Now: time.Now}
	s.init()
	for _, id := range []int64{1, 2} {
		e.stored.put(id, storedAt{version: 3})
		e.memo.put(memoKey{id, true}, passMemo{version: 3})
		h := e.memo.hasher(memoKey{id, false}, 1)
		h.hash(emis.RawSession("<AppointmentSession/>"))
		e.memo.keepHashes(memoKey{id, false}, h)
		en := newEntry(id, time.Now(), time.Now())
		s.practices[id] = en
		s.queueLocked(en)
	}
	e.types.m = map[int64]typesAt{1: {version: 3}, 2: {version: 3}}
	s.mu.Lock()
	s.dropLocked(map[int64]bool{2: true})
	s.mu.Unlock()
	_, typed := e.types.m[1]
	_, hashed := e.memo.hashes[memoKey{1, false}]
	if _, ok := e.stored.m[1]; ok || e.memo.known(1) || typed || hashed {
		t.Fatalf("practice 1 dropped, yet remembered: copy %v, memo %v, types %v, session hashes %v", ok, e.memo.known(1), typed, hashed)
	}
	if _, ok := e.stored.m[2]; !ok || !e.memo.known(2) || len(e.memo.hashes[memoKey{2, false}]) != 1 {
		t.Fatal("practice 2, still synced, was forgotten")
	}
}
