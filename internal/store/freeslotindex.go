package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// The free-slot index answers FreeSlots from memory. Slot search is the partner API's hottest
// path and its SQL (five tables joined per practice, per request) was most of its cost.
//
// It stays exact, on every instance, because the database counts changes (migration 0027):
// any write to a row that decides whether a slot is free bumps the practice's counters in the
// writer's own transaction. Each search reads the counters of its practices (one small
// query) and rebuilds what moved before answering, so a hold, a booking or a reception change
// committed anywhere is never offered by a search that starts after the commit.
//
// A practice is two parts rebuilt separately:
//   - the diary: the slots that are Available, of a bookable type, at a mapped site (moves
//     with the sync and the mapping: rarely);
//   - herolink's live appointments over it (moves with every hold: often, and cheap to read).
//
// Time needs no counter: a hold past its reserved_until and a slot that has started are
// filtered at each search with the search's own clock.

// slotIndexBudget bounds the candidate slots held in memory across practices (about 64 bytes
// each): the least recently searched practices are dropped beyond it and rebuilt when next
// searched.
const slotIndexBudget = 1 << 20

type slotIndex struct {
	mu        sync.Mutex
	practices map[int64]*practiceSlots
	held      int   // candidates held, over every practice
	tick      int64 // use counter for least-recently-used eviction
	budget    int
}

func newSlotIndex() *slotIndex {
	return &slotIndex{practices: map[int64]*practiceSlots{}, budget: slotIndexBudget}
}

// candidate is a diary slot a partner could reserve unless herolink holds or booked it.
type candidate struct {
	start   int64 // Unix ms
	slot    int64
	session int64
	length  int32
	typeID  int32
	site    int64
	holders []int64 // shared by the session's slots; never changed
}

// taken is a live appointment of herolink's on a slot: a hold until a time (Unix ms), or for
// good (confirming, booked, placeholder, a cancellation EMIS has not confirmed).
type taken struct {
	forGood bool
	until   int64
}

// practiceSlots is one practice's part of the index. mu serialises its rebuilds; readers take
// it too, briefly, to copy out the two snapshots.
type practiceSlots struct {
	mu sync.Mutex

	diaryVer   int64
	diaryBuilt bool
	diaryFrom  int64 // earliest start read into cands (Unix ms)
	group      string
	cands      []candidate // by (start, slot)

	bookedVer   int64
	bookedBuilt bool
	taken       map[int64]taken

	lastUse int64 // slotIndex.tick at the last search, under slotIndex.mu
	held    int64 // candidates fit last counted for it, under slotIndex.mu
}

// slotVersions are a practice's change counters as the database has them.
type slotVersions struct{ diary, booked int64 }

// slotVersionsOf reads a practice's counters (a practice with none has never changed), sharing
// the read with searches that arrived at the same time (slotcounters.go).
func (s *Store) slotVersionsOf(ctx context.Context, pid int64) (slotVersions, error) {
	return s.counters.read(ctx, pid, s.readSlotVersions)
}

func (s *Store) readSlotVersions(ctx context.Context, pid int64) (slotVersions, error) {
	var v slotVersions
	err := s.read.QueryRowPrepared(ctx, `SELECT COALESCE(SUM(diary), 0), COALESCE(SUM(booked), 0) FROM slot_versions WHERE practice_id = ?`, pid).
		Scan(&v.diary, &v.booked)
	if err != nil {
		return v, fmt.Errorf("store: slot versions of practice %d: %w", pid, err)
	}
	return v, nil
}

// freeSlots answers FreeSlots for the practices from the index.
func (ix *slotIndex) freeSlots(ctx context.Context, s *Store, practices []int64, q FreeSlotQuery) ([]FreeSlot, Freshness, error) {
	now := q.Now.UnixMilli()
	from := max(now+1, q.From.UnixMilli())
	var out []FreeSlot
	fresh := Freshness{Counters: make([]int64, 0, 2*len(practices)), Until: time.UnixMilli(math.MaxInt64)}
	for _, pid := range practices {
		v, err := s.slotVersionsOf(ctx, pid)
		if err != nil {
			return nil, Freshness{}, err
		}
		fresh.Counters = append(fresh.Counters, v.diary, v.booked)
		p := ix.practice(pid)
		cands, taken, group, err := p.current(ctx, s, pid, v, now)
		if err != nil {
			return nil, Freshness{}, err
		}
		ix.fit(pid, len(cands))
		if group != q.GroupID {
			continue
		}
		var until int64
		out, until = appendFree(out, pid, cands, taken, q, from, now)
		if until < fresh.Until.UnixMilli() {
			fresh.Until = time.UnixMilli(until)
		}
	}
	return out, fresh, nil
}

// Freshness says how long an answer of FreeSlotsFresh stays true: while the practices'
// counters (SlotCounters) are these, and until Until (the first slot answered starts, or a
// hold passed over runs out). No Counters: the answer must not be kept.
type Freshness struct {
	Counters []int64
	Until    time.Time
}

// FreeSlotsFresh is FreeSlots with how long its answer stays true, for callers that keep
// answers (the partner API's slot search).
func (s *Store) FreeSlotsFresh(ctx context.Context, q FreeSlotQuery) ([]FreeSlot, Freshness, error) {
	if s.slots == nil || q.SlotID != 0 {
		out, err := s.FreeSlots(ctx, q)
		return out, Freshness{}, err
	}
	return s.freeSlotsWith(ctx, q)
}

// SlotCounters reads the practices' change counters as FreeSlotsFresh reports them.
func (s *Store) SlotCounters(ctx context.Context, practices []int64) ([]int64, error) {
	out := make([]int64, 0, 2*len(practices))
	for _, pid := range practices {
		v, err := s.slotVersionsOf(ctx, pid)
		if err != nil {
			return nil, err
		}
		out = append(out, v.diary, v.booked)
	}
	return out, nil
}

// practice is the practice's entry, made empty when it has none, and marked as used.
func (ix *slotIndex) practice(pid int64) *practiceSlots {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	p := ix.practices[pid]
	if p == nil {
		p = &practiceSlots{}
		ix.practices[pid] = p
	}
	ix.tick++
	p.lastUse = ix.tick
	return p
}

// fit records that the practice now holds n candidates and drops the least recently searched
// others while the index holds more than its budget. A dropped practice's readers keep the
// snapshot they copied; the next search rebuilds it.
func (ix *slotIndex) fit(pid int64, n int) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	p := ix.practices[pid]
	if p == nil {
		return
	}
	ix.held += n - int(p.held)
	p.held = int64(n)
	for ix.held > ix.budget && len(ix.practices) > 1 {
		var oldest int64
		var victim *practiceSlots
		for id, q := range ix.practices {
			if id != pid && (victim == nil || q.lastUse < victim.lastUse) {
				oldest, victim = id, q
			}
		}
		if victim == nil {
			return
		}
		ix.held -= int(victim.held)
		delete(ix.practices, oldest)
	}
}

// current brings the practice up to the versions read (or later) and returns its snapshots.
func (p *practiceSlots) current(ctx context.Context, s *Store, pid int64, v slotVersions, now int64) ([]candidate, map[int64]taken, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A rebuild reads the data after the versions it is labelled with, so a snapshot labelled
	// v holds every change counted up to v (and maybe more): it serves any search that read v
	// or less. Counters only grow.
	if !p.diaryBuilt || p.diaryVer < v.diary || now+1 < p.diaryFrom {
		from := now - int64(24*time.Hour/time.Millisecond) // room for a clock a little behind
		cands, group, err := s.readCandidates(ctx, pid, from)
		if err != nil {
			return nil, nil, "", err
		}
		p.cands, p.group, p.diaryFrom, p.diaryVer, p.diaryBuilt = cands, group, from, v.diary, true
	}
	if !p.bookedBuilt || p.bookedVer < v.booked {
		taken, err := s.readTaken(ctx, pid)
		if err != nil {
			return nil, nil, "", err
		}
		p.taken, p.bookedVer, p.bookedBuilt = taken, v.booked, true
	}
	return p.cands, p.taken, p.group, nil
}

// appendFree appends the practice's free slots matching q, in (start, slot) order, at most
// q.Limit of them.
// It also returns until when that stays so as time passes: the first slot appended starts, or a
// hold it passed over runs out (one beyond the last slot appended cannot change the answer).
func appendFree(out []FreeSlot, pid int64, cands []candidate, taken map[int64]taken, q FreeSlotQuery, from, now int64) ([]FreeSlot, int64) {
	to := q.To.UnixMilli()
	until := int64(math.MaxInt64)
	i, _ := slices.BinarySearchFunc(cands, from, func(c candidate, t int64) int { return cmp.Compare(c.start, t) })
	n := 0
	for ; i < len(cands) && n < q.Limit; i++ {
		c := &cands[i]
		if c.start >= to {
			break
		}
		if q.SlotID != 0 && c.slot != q.SlotID || q.SiteID != 0 && c.site != q.SiteID ||
			q.TypeID != 0 && int(c.typeID) != q.TypeID || q.HolderID != 0 && !slices.Contains(c.holders, q.HolderID) {
			continue
		}
		if q.AfterStart != 0 && !afterCursor(pid, c, q) {
			continue
		}
		if t, ok := taken[c.slot]; ok && (t.forGood || t.until > now) {
			if !t.forGood {
				until = min(until, t.until)
			}
			continue
		}
		if n == 0 {
			until = min(until, c.start)
		}
		out = append(out, FreeSlot{PracticeID: pid, SlotID: c.slot, SessionID: c.session, StartAt: time.UnixMilli(c.start),
			LengthMin: int(c.length), TypeID: int(c.typeID), SiteID: c.site, HolderIDs: c.holders})
		n++
	}
	return out, until
}

// afterCursor says whether the candidate comes after the keyset cursor (start, practice,
// slot) in the merged order, as the SQL does.
func afterCursor(pid int64, c *candidate, q FreeSlotQuery) bool {
	switch {
	case pid > q.AfterPractice:
		return c.start >= q.AfterStart
	case pid < q.AfterPractice:
		return c.start > q.AfterStart
	}
	return c.start > q.AfterStart || c.start == q.AfterStart && c.slot > q.AfterSlot
}

// readCandidates reads the practice's diary slots that partners could reserve from from on:
// Available, of a bookable type, at a site mapped to a location.
func (s *Store) readCandidates(ctx context.Context, pid, from int64) ([]candidate, string, error) {
	var group string
	if err := s.read.QueryRowContext(ctx, `SELECT practice_group_id FROM practices WHERE id = ?`, pid).Scan(&group); err != nil {
		return nil, "", fmt.Errorf("store: free slot index of practice %d: %w", pid, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT sl.slot_id, sl.session_id, sl.start_at, sl.length_min, sl.type_id, se.site_id, se.holder_ids
		FROM diary_slots sl
		JOIN diary_sessions se ON se.practice_id = sl.practice_id AND se.session_id = sl.session_id
		JOIN emis_slot_types t ON t.practice_id = sl.practice_id AND t.emis_id = sl.type_id AND t.feature = 'bookable' AND t.gone = 0
		JOIN locations l ON l.practice_id = sl.practice_id AND l.emis_site_id = se.site_id
		WHERE sl.practice_id = ? AND sl.status = 'Available' AND sl.start_at >= ?
		ORDER BY sl.start_at, sl.slot_id`, pid, from)
	if err != nil {
		return nil, "", fmt.Errorf("store: free slot index of practice %d: %w", pid, err)
	}
	defer rows.Close()
	var out []candidate
	holders := map[string][]int64{} // one slice per distinct list, shared by its slots
	for rows.Next() {
		var c candidate
		var length, typeID int
		var hs string
		if err := rows.Scan(&c.slot, &c.session, &c.start, &length, &typeID, &c.site, &hs); err != nil {
			return nil, "", fmt.Errorf("store: free slot index of practice %d: %w", pid, err)
		}
		c.length, c.typeID = int32(length), int32(typeID)
		ids, ok := holders[hs]
		if !ok {
			ids = splitIDs(hs)
			holders[hs] = ids
		}
		c.holders = ids
		out = append(out, c)
	}
	return slices.Clip(out), group, rows.Err()
}

// readTaken reads herolink's live appointments of the practice: what hides a slot from
// partners, as FreeSlots' SQL decides it.
func (s *Store) readTaken(ctx context.Context, pid int64) (map[int64]taken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a.slot_id, a.state, a.reserved_until FROM appointments a
		WHERE a.practice_id = ? AND (a.state IN ('reserved', 'confirming', 'booked', 'placeholder') OR `+cancellationPending("a")+`)`, pid)
	if err != nil {
		return nil, fmt.Errorf("store: appointments over the free slot index of practice %d: %w", pid, err)
	}
	defer rows.Close()
	out := map[int64]taken{}
	for rows.Next() {
		var slot, until int64
		var state string
		if err := rows.Scan(&slot, &state, &until); err != nil {
			return nil, fmt.Errorf("store: appointments over the free slot index of practice %d: %w", pid, err)
		}
		t := taken{forGood: state != "reserved", until: until}
		// Two rows on one slot (a hold past its time and a newer one): the longer one counts.
		if old, ok := out[slot]; ok && (old.forGood || !t.forGood && old.until > t.until) {
			continue
		}
		out[slot] = t
	}
	return out, rows.Err()
}
