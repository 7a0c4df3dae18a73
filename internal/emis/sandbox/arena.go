package sandbox

import "sync"

// genArena holds the sessions a read generates only to look at them: a 14-day session list
// derives about 280 sessions and 5,000 slots, and made on the heap they were most of the
// sandbox's garbage under the sync benchmark. What is made in an arena is valid until the
// arena is put back, so a reader must copy what it keeps (the wire forms do).
//
// A nil *genArena makes everything on the heap, for sessions that are stored or kept.
type genArena struct {
	sessions []DiarySession
	slotBuf  []SlotState
	idBuf    []int64
	list     []*DiarySession // scratch for a day's sessions in order
}

var genArenas = sync.Pool{New: func() any { return new(genArena) }}

// getArena takes an empty arena; putArena gives it back once nothing made in it is used.
func getArena() *genArena { return genArenas.Get().(*genArena) }

func putArena(a *genArena) {
	a.sessions, a.slotBuf, a.idBuf = a.sessions[:0], a.slotBuf[:0], a.idBuf[:0]
	clear(a.list[:cap(a.list)]) // drop pointers to sessions outside the arena (stored ones)
	a.list = a.list[:0]
	genArenas.Put(a)
}

// grown returns buf with room for n more, in a new backing array when it has none. Earlier
// elements keep their old array (anything pointing at them stays valid until the arena is
// put back); the new array is twice as large, so a reused arena soon needs none.
func grown[T any](buf []T, n int) []T {
	if len(buf)+n <= cap(buf) {
		return buf
	}
	return make([]T, 0, max(2*cap(buf), n, 64))
}

func (a *genArena) session() *DiarySession {
	if a == nil {
		return new(DiarySession)
	}
	a.sessions = grown(a.sessions, 1)
	a.sessions = a.sessions[:len(a.sessions)+1]
	return &a.sessions[len(a.sessions)-1]
}

// slots returns n zero slots.
func (a *genArena) slots(n int) []SlotState {
	if a == nil {
		return make([]SlotState, n)
	}
	a.slotBuf = grown(a.slotBuf, n)
	start := len(a.slotBuf)
	a.slotBuf = a.slotBuf[:start+n]
	out := a.slotBuf[start : start+n : start+n]
	clear(out)
	return out
}

func (a *genArena) ids(id int64) []int64 {
	if a == nil {
		return []int64{id}
	}
	a.idBuf = grown(a.idBuf, 1)
	a.idBuf = append(a.idBuf, id)
	n := len(a.idBuf)
	return a.idBuf[n-1 : n : n]
}
