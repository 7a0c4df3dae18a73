// Package slotsync keeps herolink's copy of every connected practice's EMIS diary fresh: an
// engine that brings one practice up to date in one pass, and a scheduler that decides which
// practice to sync when.
package slotsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// ConnSource gives a logged-on EMIS connection for a practice (practice.Service does).
type ConnSource interface {
	Conn(ctx context.Context, practiceID int64) (*emis.Conn, error)
}

// Window is the range of diary dates a pass looks at, inclusive.
type Window struct {
	From, To emis.Date
	Full     bool // the whole horizon: also prunes days that have passed
}

// Engine brings one practice's stored diary up to date with EMIS.
type Engine struct {
	Store *store.Store
	Conns ConnSource
	// ActiveTypes lists the slot types synced continuously. A nil answer means the practice has
	// not set slot type features yet, and every type is synced; an empty one means none is active.
	// It must answer from the store's slot types by emis_id, feature and gone alone: its answer
	// is reused while the practice's diary version stays the same, which any change to those
	// columns moves (migration 0027); name, colour or emis_bookable do not move it.
	ActiveTypes func(ctx context.Context, practiceID int64) ([]int, error)
	// RefreshNear and RefreshFar bound how old a session's slots may get when its summary has
	// not changed: they catch count-neutral changes (a cancellation and a booking in one session).
	RefreshNear       time.Duration // sessions in the near-term window (NearTermEnd); DefaultRefreshNear if zero
	RefreshFar        time.Duration // later sessions; DefaultRefreshFar if zero
	NearDays          int           // working days in the near-term window; DefaultNearDays if zero
	MaxRefreshPerPass int           // rolling refreshes per pass, to spread their load; 8 if zero
	SlotConcurrency   int           // GetSlotsForSession calls in flight per practice; 4 if zero
	Now               func() time.Time
	// OnChange hears every slot change a pass applied, after it is committed. The passes of
	// several practices call it at once (on SQLite, passes committed together return together):
	// it must be safe for concurrent use.
	OnChange func(practiceID int64, changes []store.SlotChange)
	// Calls counts EMIS calls made, by method (may be nil).
	Calls func(method string)
	// Reads of EMIS that fail transiently (no answer, an HTTP error, a technical error) are
	// tried up to Attempts times (3 if zero), RetryPause apart at first (200 ms if zero,
	// doubling, jittered), each bounded by ReadTimeout (10 s if zero): a read is safe to
	// repeat, and one stalled call must not hold a pass for the client's whole call timeout.
	Attempts    int
	RetryPause  time.Duration
	ReadTimeout time.Duration
	Log         *slog.Logger // skipped sessions are logged here; slog.Default() if nil
	memo        memos        // what the last complete pass of each window proved (memo.go)
	types       typesMemo    // each practice's active slot types at a diary version
	stored      storedMemo   // each practice's stored sessions at a diary version (storedmemo.go)
	pruned      prunedDays   // the day each practice's earlier sessions were last pruned (prune.go)

	// Leases, when set, lets a pass run only for a practice this instance holds the sync
	// lease of (ErrNotHeld), and commits its write only while the lease is still held
	// (store.ErrSyncLeaseLost): two instances never write one practice's diary at once.
	Leases *Leases
}

// Result says what one pass did.
type Result struct {
	Sessions  int // sessions EMIS listed
	Unchanged int // recognised by hash without decoding
	// SessionsHashed: elements whose summary hash was computed; the others were byte for
	// byte as the window's previous pass saw them, and their hash was known (memo.go).
	SessionsHashed int
	// Remembered: the whole answer, the stored diary and the refreshes were as the previous
	// complete pass of the window left them, so nothing but the pass was recorded (memo.go).
	Remembered bool
	// StoredFromCopy: the stored sessions it compared with came from the engine's copy, not
	// the store (storedmemo.go).
	StoredFromCopy bool
	Changed        int // new or changed summaries
	Removed        int
	SlotsRead      int // sessions whose slots were read
	Unread         int // sessions whose slots could not be read: kept as they were, read next pass
	Skipped        int // sessions EMIS sent that herolink cannot understand: logged, kept as they were
	Refreshed      int // of which rolling refreshes
	Confirmed      int // of which found byte for byte as last applied: only marked read (memo.go)
	// Disagreed: sessions whose slots, read after the session list, did not add up to the
	// summary it gave (reception acted in between): stored without the summary's hash, so the
	// next pass reads them again.
	Disagreed     int
	SlotChanges   int
	FirstSyncDone bool
	EMISCalls     int
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Sync runs one pass for a practice over a window. It reads EMIS first and writes what it
// proved in one transaction at the end. Reads that fail transiently are tried again within the
// pass; a session whose slots still cannot be read keeps its previous copy and is read again by
// the next pass, while the rest is applied: the pass then returns an *IncompleteError. A session
// or slot EMIS sends that herolink cannot understand is skipped with a logged reason. A pass
// that fails before it has read anything leaves the stored diary as it was.
func (e *Engine) Sync(ctx context.Context, practiceID int64, w Window) (Result, error) {
	var fence *store.SyncFence
	if e.Leases != nil {
		f, ok := e.Leases.Fence(practiceID)
		if !ok {
			return Result{}, ErrNotHeld
		}
		fence = &f
	}
	res, err := e.sync(ctx, practiceID, w, fence)
	if err != nil {
		e.memo.forget(practiceID)
		e.stored.forget(practiceID)
	}
	return res, err
}

func (e *Engine) sync(ctx context.Context, practiceID int64, w Window, fence *store.SyncFence) (Result, error) {
	var res Result
	// Logging on is two reads of EMIS; a refusal is not transient and is never repeated.
	conn, err := retry(ctx, e, func(ctx context.Context) (*emis.Conn, error) { return e.Conns.Conn(ctx, practiceID) })
	if err != nil {
		return res, err
	}
	// Read before EMIS is: a write to the stored diary after this moment shows in the next
	// pass's version, so a memo never hides it (memo.go).
	version, err := e.Store.DiaryVersion(ctx, practiceID)
	if err != nil {
		return res, err
	}
	// The sessions point into a recycled buffer, given back when the pass returns: nothing
	// kept after it may point into them (what is kept is decoded, hashed or summed).
	release := func() {}
	raw, err := retry(ctx, e, func(ctx context.Context) ([]emis.RawSession, error) {
		e.count(emis.MethodGetAppointmentSessions, &res)
		sessions, rel, err := conn.GetAppointmentSessionsLeased(ctx, w.From, w.To, 0)
		if err != nil {
			rel()
			return nil, err
		}
		release = rel
		return sessions, nil
	})
	if err != nil {
		return res, fmt.Errorf("slotsync: read sessions: %w", err)
	}
	defer release()
	key := memoKey{practiceID, w.Full}
	sum := e.memo.sum(raw)
	now := e.now()
	if e.memo.unchanged(key, w.From, w.To, sum, version, now) {
		res.Sessions, res.Unchanged, res.Remembered = len(raw), len(raw), true
		if err := e.Store.RecordUnchangedPass(ctx, practiceID, w.Full, fence); err != nil {
			return res, err
		}
		res.FirstSyncDone = w.Full
		return res, nil
	}
	// The slot lists applied at this version: a refresh finding one again is confirmed by its
	// bytes (memo.go).
	appliedSlots := e.memo.appliedSlots(practiceID, version)
	first := !e.memo.known(practiceID)
	if first {
		done, err := e.Store.FirstSyncDone(ctx, practiceID)
		if err != nil {
			return res, err
		}
		first = !done
	}
	active, err := e.activeTypesAt(ctx, practiceID, version)
	if err != nil {
		return res, err
	}
	stored, storedBase, fromCopy, err := e.storedSessions(ctx, practiceID, version, w)
	if err != nil {
		return res, err
	}
	res.StoredFromCopy = fromCopy
	byHash := make(map[string]store.StoredSession, len(stored))
	byID := make(map[int64]store.StoredSession, len(stored))
	for _, s := range stored {
		byHash[s.Hash] = s
		byID[s.ID] = s
	}
	today := emis.Today(now)
	nearEnd := NearTermEnd(today, e.nearDays()).String()
	// The earliest moment a session of the window falls due for a rolling refresh, for the
	// memo: until then an unchanged answer needs no work.
	refreshDue := now.Add(e.refreshAge(w.To.String(), nearEnd))
	due := func(t time.Time) {
		if t.Before(refreshDue) {
			refreshDue = t
		}
	}
	seen := make(map[int64]bool, len(raw))
	diff := store.DiaryDiff{PracticeID: practiceID, Slots: map[int64][]store.SlotRow{}}
	var toRead []fetch
	// A new or changed session whose slots are to be read is stored only with them: stored
	// earlier, its new summary would make the next pass think its slots were up to date.
	// Each keeps what its summary said of its slots, to check the slots read against
	// (slotsAgree).
	pending := map[int64]pendingSession{}
	// A refreshed session's summary, decoded only to check its slots.
	refreshRaw := map[int64]emis.RawSession{}
	undecodable := 0
	refreshBudget := e.maxRefresh()
	var nearlyDue []dueRefresh
	res.Sessions = len(raw)
	hasher := e.memo.hasher(key, len(raw))
	for _, r := range raw {
		h := hasher.hash(r)
		if s, ok := byHash[h]; ok && !seen[s.ID] {
			seen[s.ID] = true
			res.Unchanged++
			if s.SlotsSyncedAt.IsZero() {
				continue // slots never read (a type not synced): nothing to refresh
			}
			age := e.refreshAge(s.Date, nearEnd)
			switch {
			case now.Sub(s.SlotsSyncedAt) <= NearlyDue(age):
				due(s.SlotsSyncedAt.Add(age))
			case now.Sub(s.SlotsSyncedAt) <= age:
				// Nearly due: refreshed now if this pass reads slots anyway, so that refreshes
				// come together in fewer passes and the others can be remembered.
				nearlyDue = append(nearlyDue, dueRefresh{fetch{s.ID, s.Date}, s.SlotsSyncedAt.Add(age), age})
				refreshRaw[s.ID] = r
			case refreshBudget > 0:
				refreshBudget--
				res.Refreshed++
				toRead = append(toRead, fetch{s.ID, s.Date})
				refreshRaw[s.ID] = r
				due(now.Add(age))
			default:
				due(now) // due and left for the next pass
			}
			continue
		}
		sess, err := r.Decode()
		if err != nil {
			undecodable++
			res.Skipped++
			e.log().Warn("sync: skipped a session EMIS sent that is not well-formed", "practice", practiceID, "err", err)
			continue
		}
		seen[sess.DBID] = true
		row, err := sessionRow(sess, h)
		if err != nil {
			// Kept as it was, not removed: EMIS still lists it. Its slots say what can be
			// booked, so a session already stored still has them read.
			res.Skipped++
			old, had := byID[sess.DBID]
			e.log().Warn("sync: skipped a session EMIS sent that herolink cannot understand; its stored copy is kept",
				"practice", practiceID, "session", sess.DBID, "stored", had, "reason", err)
			if had && !old.SlotsSyncedAt.IsZero() && hasActiveType(sess, active) {
				toRead = append(toRead, fetch{sess.DBID, old.Date})
			}
			continue
		}
		res.Changed++
		if hasActiveType(sess, active) {
			pending[sess.DBID] = pendingSession{row, sess.SlotTypes}
			toRead = append(toRead, fetch{sess.DBID, row.Date})
			due(now.Add(e.refreshAge(row.Date, nearEnd)))
		} else {
			diff.Upsert = append(diff.Upsert, row)
		}
	}
	e.memo.keepHashes(key, hasher)
	res.SessionsHashed = hasher.computed
	for _, r := range nearlyDue {
		if len(toRead) > 0 && refreshBudget > 0 {
			refreshBudget--
			res.Refreshed++
			toRead = append(toRead, r.fetch)
			due(now.Add(r.age))
		} else {
			due(r.at)
		}
	}
	if undecodable > 0 {
		// Which stored session an unreadable element is cannot be known: removing none is
		// the answer that claims nothing EMIS did not say.
		e.log().Warn("sync: stored sessions EMIS no longer lists are kept this pass", "practice", practiceID, "unreadable", undecodable)
	} else {
		for _, s := range stored {
			if !seen[s.ID] {
				diff.Remove = append(diff.Remove, s.ID)
			}
		}
	}
	res.Removed = len(diff.Remove)

	if first && len(toRead) > 0 {
		_ = e.Store.RecordSyncProgress(ctx, practiceID, 0, len(toRead))
	}
	var known map[int64]uint64 // refreshes whose last applied list is known
	for _, f := range toRead {
		if _, refresh := refreshRaw[f.id]; refresh {
			if sum, ok := appliedSlots.get(f.id); ok {
				if known == nil {
					known = map[int64]uint64{}
				}
				known[f.id] = sum
			}
		}
	}
	rs := e.readSlots(ctx, conn, practiceID, toRead, known, first, &res)
	for id, s := range rs.slots {
		diff.Slots[id] = s
		if p, ok := pending[id]; ok {
			if !slotsAgree(p.counts, s) {
				p.row.Hash = ""
				res.Disagreed++
			}
			diff.Upsert = append(diff.Upsert, p.row)
		} else if raw, ok := refreshRaw[id]; ok {
			// The stored summary's hash would let the next pass keep these slots.
			if sess, err := raw.Decode(); err == nil && !slotsAgree(sess.SlotTypes, s) {
				if row, err := sessionRow(sess, ""); err == nil {
					diff.Upsert = append(diff.Upsert, row)
					res.Disagreed++
				}
			}
		}
	}
	if res.Disagreed > 0 {
		e.log().Info("sync: slots changed in EMIS while the pass read them; those sessions are read again next pass",
			"practice", practiceID, "sessions", res.Disagreed)
	}
	diff.Confirmed = rs.confirmed
	res.Confirmed = len(rs.confirmed)
	res.SlotsRead = len(rs.slots) + len(rs.confirmed)
	res.Unread = rs.unread
	res.Skipped += rs.skipped
	diff.Full = w.Full
	diff.Fence = fence
	var incomplete *IncompleteError
	if rs.unread > 0 {
		incomplete = &IncompleteError{Unread: rs.unread, Read: len(rs.slots), Err: rs.firstErr}
		diff.Incomplete = incomplete.Error()
	}
	if w.Full {
		if e.pruned.due(practiceID, today) {
			diff.PruneBefore = today.String()
		}
		diff.FirstSyncDone = incomplete == nil
	}
	// Once EMIS has been read, the write is not cut short by the pass's deadline: losing a
	// first sync's hundreds of slot reads to a deadline hit while committing would make a big
	// practice's first sync start over and over. The write has its own bound.
	applyCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	diff.VersionRead = version
	applied, err := e.Store.ApplyDiaryPass(applyCtx, diff)
	cancel()
	if err != nil {
		return res, err
	}
	if diff.PruneBefore != "" {
		e.pruned.done(practiceID, today)
	}
	e.keepStored(practiceID, storedBase, diff, applied)
	changes := applied.Changes
	res.SlotChanges = len(changes)
	res.FirstSyncDone = diff.FirstSyncDone
	if e.OnChange != nil && len(changes) > 0 {
		e.OnChange(practiceID, changes)
	}
	if incomplete != nil {
		return res, incomplete // Sync forgets the practice's memos, slot lists too
	}
	// The memo holds the version this pass's own write left, so that the next pass can be
	// remembered; if anything else wrote the diary meanwhile, the version it read first, so
	// that the next pass does the whole work.
	if applied.Version >= 0 {
		e.types.advance(practiceID, version, applied.Version)
		version = applied.Version
	}
	remembered := res.Skipped == 0 && res.Disagreed == 0 && (!first || diff.FirstSyncDone)
	if remembered {
		e.memo.put(key, passMemo{from: w.From, to: w.To, sum: sum, version: version, refreshDue: refreshDue})
	}
	e.rememberSlots(practiceID, diff, applied, remembered, rs.sums, seen)
	return res, nil
}

// rememberSlots records the slot lists a pass applied, for later refreshes to recognise
// (memo.go), or forgets the practice's when they may no longer be what is stored.
func (e *Engine) rememberSlots(practiceID int64, diff store.DiaryDiff, applied store.DiaryApplied, remembered bool, sums map[int64]uint64, seen map[int64]bool) {
	if !remembered || applied.Version < 0 {
		// Written at a version no later pass will read, unless nothing was written.
		if len(sums) > 0 {
			e.memo.forgetSlots(practiceID)
		}
		return
	}
	if applied.Moved {
		// A session this pass did not read may have lost a slot to one it did.
		e.memo.forgetSlots(practiceID)
		return
	}
	var listed map[int64]bool
	if diff.Full {
		listed = seen
	}
	e.memo.putSlots(practiceID, diff.VersionRead, applied.Version, sums, listed)
}

// pendingSession is a new or changed session waiting for its slots, with its summary's counts.
type pendingSession struct {
	row    store.SessionRow
	counts []emis.SessionSlotCount
}

// slotsAgree says whether a session's slots add up to its summary's per-type counts (the
// sandbox's and, by the wire's names, EMIS's: Booked, Blocked and Embargoed by status, the
// rest Available). Slots read after the summary that do not were changed in between.
func slotsAgree(summary []emis.SessionSlotCount, slots []store.SlotRow) bool {
	// The summary's counts, less each slot read: all zero when they agree.
	type tally struct{ total, booked, blocked, embargoed int }
	left := make(map[int]tally, len(summary))
	for _, c := range summary {
		t := left[c.TypeID]
		t.total, t.booked, t.blocked, t.embargoed = t.total+c.Total, t.booked+c.Booked, t.blocked+c.Blocked, t.embargoed+c.Embargoed
		left[c.TypeID] = t
	}
	for _, sl := range slots {
		t := left[sl.TypeID]
		t.total--
		switch sl.Status {
		case emis.SlotBooked:
			t.booked--
		case emis.SlotBlocked:
			t.blocked--
		case emis.SlotEmbargoed:
			t.embargoed--
		}
		left[sl.TypeID] = t
	}
	for _, t := range left {
		if t != (tally{}) {
			return false
		}
	}
	return true
}

// applyTimeout bounds writing one pass's result.
const applyTimeout = 30 * time.Second

// dueRefresh is an unchanged session whose rolling refresh falls due at at.
type dueRefresh struct {
	fetch
	at  time.Time
	age time.Duration
}

// fetch is a session whose slots a pass reads.
type fetch struct {
	id   int64
	date string
}

// slotReads is what reading the slots of a pass's sessions gave.
type slotReads struct {
	slots     map[int64][]store.SlotRow // complete slot lists of the sessions read
	confirmed []int64                   // sessions whose list is the one last applied (known)
	sums      map[int64]uint64          // of every list read, decoded or confirmed
	unread    int                       // sessions whose slots EMIS did not give (retried next pass)
	skipped   int                       // sessions with a slot herolink cannot understand
	firstErr  error
}

// readSlots reads the slots of the listed sessions with bounded concurrency, each read retried
// while it fails transiently. A session that vanished between the two calls (5 not found) is
// simply skipped: the next pass removes it. A session that cannot be read, or whose context
// ran out, is counted unread; one holding a slot herolink cannot understand is skipped whole,
// since a partial list would remove the slots left out.
//
// known are the sums of the lists last applied for some of the sessions: a session whose
// answer has the same sum is confirmed, not decoded.
func (e *Engine) readSlots(ctx context.Context, conn *emis.Conn, practiceID int64, list []fetch, known map[int64]uint64, first bool, res *Result) slotReads {
	out := slotReads{slots: make(map[int64][]store.SlotRow, len(list)), sums: make(map[int64]uint64, len(list))}
	if len(list) == 0 {
		return out
	}
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, e.slotConcurrency())
	var wg sync.WaitGroup
	for i, f := range list {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			mu.Lock()
			out.unread += len(list) - i
			if out.firstErr == nil {
				out.firstErr = fmt.Errorf("slotsync: read slots: %w", ctx.Err())
			}
			mu.Unlock()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var sum uint64
			var same bool
			slots, err := retry(ctx, e, func(ctx context.Context) ([]emis.Slot, error) {
				mu.Lock()
				e.count(emis.MethodGetSlotsForSession, res)
				mu.Unlock()
				// The answer's bytes are only hashed and decoded here (decoding copies), so
				// its buffer is the next answer's.
				var slots []emis.Slot
				err := conn.GetSlotsForSessionUse(ctx, f.id, func(data []byte) error {
					sum = e.memo.slotListSum(data)
					if last, ok := known[f.id]; ok && last == sum {
						same = true
						return nil
					}
					var err error
					slots, err = emis.DecodeSlotList(data)
					return err
				})
				return slots, err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, emis.ErrNotFound):
				return
			case err != nil:
				out.unread++
				if out.firstErr == nil {
					out.firstErr = fmt.Errorf("slotsync: read slots of session %d: %w", f.id, err)
				}
				return
			case same:
				out.confirmed = append(out.confirmed, f.id)
				out.sums[f.id] = sum
				done++
				return
			}
			rows := make([]store.SlotRow, 0, len(slots))
			for _, s := range slots {
				row, err := slotRow(s, f.id)
				if err != nil {
					out.skipped++
					e.log().Warn("sync: skipped the slots of a session holding a slot herolink cannot understand; their stored copy is kept",
						"practice", practiceID, "session", f.id, "slot", s.DBID, "reason", err)
					return
				}
				rows = append(rows, row)
			}
			out.slots[f.id] = rows
			out.sums[f.id] = sum
			done++
			if first && done%20 == 0 {
				_ = e.Store.RecordSyncProgress(context.WithoutCancel(ctx), practiceID, done, len(list))
			}
		}()
	}
	wg.Wait()
	return out
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

func (e *Engine) count(method string, res *Result) {
	res.EMISCalls++
	if e.Calls != nil {
		e.Calls(method)
	}
}

func (e *Engine) activeTypes(ctx context.Context, practiceID int64) (map[int]bool, error) {
	if e.ActiveTypes == nil {
		return nil, nil
	}
	ids, err := e.ActiveTypes(ctx, practiceID)
	if err != nil || ids == nil {
		return nil, err
	}
	m := make(map[int]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}

// typesMemo keeps each practice's active slot types with the diary version read before them.
// Reading them was a query or two on every pass that compared anything (2 % of the sync's CPU
// at 7,000 practices), for an answer that changes when staff change slot type features, which
// moves the diary version. Types read after the version moved are kept under the older
// version, so the next pass, seeing the newer one, reads them again: never stale.
type typesMemo struct {
	mu sync.Mutex
	m  map[int64]typesAt
}

type typesAt struct {
	version int64
	active  map[int]bool // nil: every type
}

// advance carries a practice's types from the version a pass read to the one its own write
// left: nothing else wrote in between (store.DiaryApplied.Version), so no slot type changed.
func (m *typesMemo) advance(practiceID, from, to int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.m[practiceID]; ok && t.version == from {
		t.version = to
		m.m[practiceID] = t
	}
}

// activeTypesAt is activeTypes, remembered at the diary version read before it.
func (e *Engine) activeTypesAt(ctx context.Context, practiceID, version int64) (map[int]bool, error) {
	e.types.mu.Lock()
	t, ok := e.types.m[practiceID]
	e.types.mu.Unlock()
	if ok && t.version == version {
		return t.active, nil
	}
	active, err := e.activeTypes(ctx, practiceID)
	if err != nil {
		return nil, err
	}
	e.types.mu.Lock()
	if e.types.m == nil {
		e.types.m = map[int64]typesAt{}
	}
	e.types.m[practiceID] = typesAt{version, active}
	e.types.mu.Unlock()
	return active, nil
}

func hasActiveType(s emis.Session, active map[int]bool) bool {
	if active == nil {
		return true
	}
	for _, c := range s.SlotTypes {
		if active[c.TypeID] && c.Total > 0 {
			return true
		}
	}
	return false
}

func (e *Engine) refreshAge(date, nearEnd string) time.Duration {
	if date <= nearEnd {
		if e.RefreshNear > 0 {
			return e.RefreshNear
		}
		return DefaultRefreshNear
	}
	if e.RefreshFar > 0 {
		return e.RefreshFar
	}
	return DefaultRefreshFar
}

// DefaultRefreshNear and DefaultRefreshFar are Engine.RefreshNear and Engine.RefreshFar when
// they are zero: how old an unchanged session's slots may get, in the near-term window and
// after it, before a rolling refresh reads them again.
const DefaultRefreshNear, DefaultRefreshFar = 15 * time.Minute, 2 * time.Hour

// NearlyDue is how old a session's slots are when their refresh, due at age, is nearly due: a
// pass that reads slots anyway refreshes it then, so that refreshes come together in fewer
// passes.
func NearlyDue(age time.Duration) time.Duration { return age * 3 / 4 }

func (e *Engine) nearDays() int {
	if e.NearDays > 0 {
		return e.NearDays
	}
	return DefaultNearDays
}

func (e *Engine) maxRefresh() int {
	if e.MaxRefreshPerPass > 0 {
		return e.MaxRefreshPerPass
	}
	return 8
}

func (e *Engine) slotConcurrency() int {
	if e.SlotConcurrency > 0 {
		return e.SlotConcurrency
	}
	return DefaultSlotConcurrency
}

// DefaultSlotConcurrency is Engine.SlotConcurrency when it is zero, and DefaultConcurrency
// Scheduler.Concurrency.
const DefaultSlotConcurrency, DefaultConcurrency = 4, 32

// CallsInFlight is the most EMIS calls a scheduler of concurrency passes (0: the default)
// and an engine of slotConcurrency slot reads a pass (0: the default) have open at once.
func CallsInFlight(concurrency, slotConcurrency int) int {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if slotConcurrency <= 0 {
		slotConcurrency = DefaultSlotConcurrency
	}
	return concurrency * slotConcurrency
}

// sessionRow turns a decoded session into what is stored, with London wall-clock times made
// instants (correct on the days the clocks change).
func sessionRow(s emis.Session, hash string) (store.SessionRow, error) {
	d, err := emis.ParseDate(s.Date)
	if err != nil {
		return store.SessionRow{}, fmt.Errorf("slotsync: session %d: %w", s.DBID, err)
	}
	start, err := emis.ParseClock(s.StartTime)
	if err != nil {
		return store.SessionRow{}, fmt.Errorf("slotsync: session %d: %w", s.DBID, err)
	}
	end, err := emis.ParseEndClock(s.EndTime)
	if err != nil {
		return store.SessionRow{}, fmt.Errorf("slotsync: session %d: end: %w", s.DBID, err)
	}
	if end <= start {
		return store.SessionRow{}, fmt.Errorf("slotsync: session %d: ends at %s, not after its start %s", s.DBID, s.EndTime, s.StartTime)
	}
	row := store.SessionRow{ID: s.DBID, Date: d.String(), StartAt: d.At(start), EndAt: d.At(end), SlotLength: s.SlotLength,
		Name: s.Name, SiteID: s.Site.DBID, Hash: hash}
	for _, h := range s.Holders {
		row.HolderIDs = append(row.HolderIDs, h.DBID)
	}
	return row, nil
}

func slotRow(s emis.Slot, sessionID int64) (store.SlotRow, error) {
	d, err := emis.ParseDate(s.Date)
	if err != nil {
		return store.SlotRow{}, fmt.Errorf("slotsync: slot %d: %w", s.DBID, err)
	}
	start, err := emis.ParseClock(s.StartTime)
	if err != nil {
		return store.SlotRow{}, fmt.Errorf("slotsync: slot %d: %w", s.DBID, err)
	}
	row := store.SlotRow{ID: s.DBID, SessionID: sessionID, StartAt: d.At(start), LengthMin: s.SlotLength, TypeID: s.Type.TypeID, Status: s.Status}
	if len(s.Patients) > 0 {
		row.PatientID = s.Patients[0].DBID
	}
	return row, nil
}

// StoredActiveTypes is Engine.ActiveTypes as the store records them: every type until staff set
// features, then the Bookable and Unregistered ones (possibly none).
func StoredActiveTypes(st *store.Store) func(context.Context, int64) ([]int, error) {
	return func(ctx context.Context, practiceID int64) ([]int, error) {
		set, err := st.SlotTypeFeaturesSet(ctx, practiceID)
		if err != nil || !set {
			return nil, err
		}
		ids, err := st.ActiveSlotTypeIDs(ctx, practiceID)
		if ids == nil {
			ids = []int{}
		}
		return ids, err
	}
}
