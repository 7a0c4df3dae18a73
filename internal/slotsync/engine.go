// Package slotsync keeps herolink's copy of every connected practice's EMIS diary fresh: an
// engine that brings one practice up to date in one pass, and a scheduler that decides which
// practice to sync when.
package slotsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
	ActiveTypes func(ctx context.Context, practiceID int64) ([]int, error)
	// RefreshNear and RefreshFar bound how old a session's slots may get when its summary has
	// not changed: they catch count-neutral changes (a cancellation and a booking in one session).
	RefreshNear       time.Duration // sessions in the next NearDays days; 15 minutes if zero
	RefreshFar        time.Duration // later sessions; 2 hours if zero
	NearDays          int           // 3 if zero
	MaxRefreshPerPass int           // rolling refreshes per pass, to spread their load; 8 if zero
	SlotConcurrency   int           // GetSlotsForSession calls in flight per practice; 4 if zero
	Now               func() time.Time
	// OnChange hears every slot change a pass applied, after it is committed.
	OnChange func(practiceID int64, changes []store.SlotChange)
	// Calls counts EMIS calls made, by method (may be nil).
	Calls func(method string)
}

// Result says what one pass did.
type Result struct {
	Sessions      int // sessions EMIS listed
	Unchanged     int // recognised by hash without decoding
	Changed       int // new or changed summaries
	Removed       int
	SlotsRead     int // sessions whose slots were read
	Refreshed     int // of which rolling refreshes
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

func hashSession(raw emis.RawSession) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}

// Sync runs one pass for a practice over a window. It reads EMIS first and writes the result in
// one transaction at the end, so a pass that fails leaves the stored diary as it was.
func (e *Engine) Sync(ctx context.Context, practiceID int64, w Window) (Result, error) {
	var res Result
	conn, err := e.Conns.Conn(ctx, practiceID)
	if err != nil {
		return res, err
	}
	status, err := e.Store.SyncStatus(ctx, practiceID)
	if err != nil {
		return res, err
	}
	active, err := e.activeTypes(ctx, practiceID)
	if err != nil {
		return res, err
	}
	e.count(emis.MethodGetAppointmentSessions, &res)
	raw, err := conn.GetAppointmentSessionsRaw(ctx, w.From, w.To, 0)
	if err != nil {
		return res, fmt.Errorf("slotsync: read sessions: %w", err)
	}
	stored, err := e.Store.DiarySessions(ctx, practiceID, w.From.String(), w.To.String())
	if err != nil {
		return res, err
	}
	byHash := make(map[string]store.StoredSession, len(stored))
	for _, s := range stored {
		byHash[s.Hash] = s
	}
	now := e.now()
	nearEnd := emis.Today(now).AddDays(e.nearDays() - 1).String()
	seen := make(map[int64]bool, len(raw))
	diff := store.DiaryDiff{PracticeID: practiceID, Slots: map[int64][]store.SlotRow{}}
	var toRead []fetch
	refreshBudget := e.maxRefresh()
	res.Sessions = len(raw)
	for _, r := range raw {
		h := hashSession(r)
		if s, ok := byHash[h]; ok && !seen[s.ID] {
			seen[s.ID] = true
			res.Unchanged++
			if refreshBudget > 0 && !s.SlotsSyncedAt.IsZero() && now.Sub(s.SlotsSyncedAt) > e.refreshAge(s.Date, nearEnd) {
				refreshBudget--
				res.Refreshed++
				toRead = append(toRead, fetch{s.ID, s.Date})
			}
			continue
		}
		sess, err := r.Decode()
		if err != nil {
			return res, fmt.Errorf("slotsync: decode a session: %w", err)
		}
		row, err := sessionRow(sess, h)
		if err != nil {
			return res, err
		}
		seen[sess.DBID] = true
		res.Changed++
		diff.Upsert = append(diff.Upsert, row)
		if hasActiveType(sess, active) {
			toRead = append(toRead, fetch{sess.DBID, row.Date})
		}
	}
	for _, s := range stored {
		if !seen[s.ID] {
			diff.Remove = append(diff.Remove, s.ID)
		}
	}
	res.Removed = len(diff.Remove)

	first := !status.FirstSyncDone
	if first && len(toRead) > 0 {
		_ = e.Store.RecordSyncProgress(ctx, practiceID, 0, len(toRead))
	}
	slots, err := e.readSlots(ctx, conn, practiceID, toRead, first, &res)
	if err != nil {
		return res, err
	}
	for id, s := range slots {
		diff.Slots[id] = s
	}
	res.SlotsRead = len(slots)
	if w.Full {
		diff.PruneBefore = emis.Today(now).String()
		diff.FirstSyncDone = true
	}
	// Once EMIS has been read, the write is not cut short by the pass's deadline: losing a
	// first sync's hundreds of slot reads to a deadline hit while committing would make a big
	// practice's first sync start over and over. The write has its own bound.
	applyCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyTimeout)
	changes, err := e.Store.ApplyDiary(applyCtx, diff)
	cancel()
	if err != nil {
		return res, err
	}
	res.SlotChanges = len(changes)
	res.FirstSyncDone = diff.FirstSyncDone
	if e.OnChange != nil && len(changes) > 0 {
		e.OnChange(practiceID, changes)
	}
	return res, nil
}

// readSlots reads the slots of the listed sessions with bounded concurrency. A session that
// vanished between the two calls (5 not found) is simply skipped: the next pass removes it.
// applyTimeout bounds writing one pass's result.
const applyTimeout = 30 * time.Second

// fetch is a session whose slots a pass reads.
type fetch struct {
	id   int64
	date string
}

func (e *Engine) readSlots(ctx context.Context, conn *emis.Conn, practiceID int64, list []fetch, first bool, res *Result) (map[int64][]store.SlotRow, error) {
	out := make(map[int64][]store.SlotRow, len(list))
	if len(list) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	done := 0
	sem := make(chan struct{}, e.slotConcurrency())
	var wg sync.WaitGroup
	for _, f := range list {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			slots, err := conn.GetSlotsForSession(ctx, f.id)
			mu.Lock()
			defer mu.Unlock()
			e.count(emis.MethodGetSlotsForSession, res)
			switch {
			case errors.Is(err, emis.ErrNotFound):
				return
			case err != nil:
				if firstErr == nil {
					firstErr = fmt.Errorf("slotsync: read slots of session %d: %w", f.id, err)
					cancel()
				}
				return
			}
			rows := make([]store.SlotRow, 0, len(slots))
			for _, s := range slots {
				row, err := slotRow(s, f.id)
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					return
				}
				rows = append(rows, row)
			}
			out[f.id] = rows
			done++
			if first && done%20 == 0 {
				_ = e.Store.RecordSyncProgress(context.WithoutCancel(ctx), practiceID, done, len(list))
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
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
		return 15 * time.Minute
	}
	if e.RefreshFar > 0 {
		return e.RefreshFar
	}
	return 2 * time.Hour
}

func (e *Engine) nearDays() int {
	if e.NearDays > 0 {
		return e.NearDays
	}
	return 3
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
	return 4
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
	end, err := emis.ParseClock(s.EndTime)
	if err != nil {
		return store.SessionRow{}, fmt.Errorf("slotsync: session %d: %w", s.DBID, err)
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
