package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // sessions' dates are London's; do not depend on the host's zoneinfo

	"github.com/jackc/pgx/v5"
)

// StoredSession is what the sync remembers of a session to recognise it next time.
type StoredSession struct {
	ID            int64
	Date          string
	Hash          string
	SlotsSyncedAt time.Time // zero: slots never read (no active slot type in it)
}

// DiarySessions lists the stored sessions of a practice between two dates (yyyy-mm-dd, inclusive).
func (s *Store) DiarySessions(ctx context.Context, practiceID int64, from, to string) ([]StoredSession, error) {
	rows, err := s.db.QueryPrepared(ctx, `SELECT session_id, date, summary_hash, slots_synced_at FROM diary_sessions
		WHERE practice_id = ? AND date >= ? AND date <= ?`, practiceID, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: diary sessions: %w", err)
	}
	defer rows.Close()
	var out []StoredSession
	for rows.Next() {
		var ss StoredSession
		var synced sql.NullInt64
		if err := rows.Scan(&ss.ID, &ss.Date, &ss.Hash, &synced); err != nil {
			return nil, err
		}
		ss.SlotsSyncedAt = msTime(synced)
		out = append(out, ss)
	}
	return out, rows.Err()
}

// SessionRow is a session as the sync stores it.
type SessionRow struct {
	ID         int64
	Date       string
	StartAt    time.Time
	EndAt      time.Time
	SlotLength int
	Name       string
	SiteID     int64
	HolderIDs  []int64
	Hash       string
}

// SlotRow is a slot as the sync stores it.
type SlotRow struct {
	ID        int64
	SessionID int64
	StartAt   time.Time
	LengthMin int
	TypeID    int
	Status    string
	PatientID int64
}

// SlotChange is one slot whose status or patient differs from what herolink had: a booking or
// cancellation by reception, a herolink booking changed in EMIS, a slot that appeared or went.
type SlotChange struct {
	SlotID     int64
	SessionID  int64
	OldStatus  string // "" for a new slot
	NewStatus  string // "" for a slot that is gone
	OldPatient int64
	NewPatient int64
	OldTypeID  int
	NewTypeID  int
	Moved      bool // the start changed (its session moved)
}

// DiaryDiff is everything one sync pass learned about a practice's diary.
type DiaryDiff struct {
	PracticeID    int64
	Upsert        []SessionRow        // new or changed sessions
	Slots         map[int64][]SlotRow // sessions whose slots were read: their complete slot lists
	Remove        []int64             // sessions EMIS no longer has
	PruneBefore   string              // delete sessions dated before this (yyyy-mm-dd); "" to keep
	FirstSyncDone bool                // this pass completes the practice's first sync
	Full          bool                // a pass over the whole horizon: its success is the practice's freshness
	Incomplete    string              // why some sessions could not be read ("": everything was): no success is recorded
	Fence         *SyncFence          // the sync lease the pass ran under (nil: no lease is checked); ErrSyncLeaseLost if lost
	// VersionRead is the practice's diary version (DiaryVersion) as the pass read it before
	// reading EMIS; ApplyDiaryPass then says which version its own write left, if nothing
	// else wrote the diary in between.
	VersionRead int64
	// Confirmed are sessions whose slots were read and found exactly as stored (the caller's
	// proof: the same answer it applied, with nothing else writing the diary since): they are
	// only marked read, and only if nothing else wrote the diary since VersionRead.
	Confirmed []int64
	wasFirst  bool // set by ApplyDiary: the practice had no first sync before
}

// DiaryApplied is what applying a pass did.
type DiaryApplied struct {
	Changes []SlotChange
	// Version is the practice's diary version after the write, when nothing but this write
	// moved it since the pass read VersionRead; -1 otherwise.
	Version int64
	// Moved: a slot written under a session of the pass was stored under another session,
	// so a session the pass did not list may have lost a slot.
	Moved bool
	// At is when the write marked sessions' slots read (their SlotsSyncedAt).
	At time.Time
}

// changeRetention is how long the change feed keeps a change.
const changeRetention = 7 * 24 * time.Hour

// queueChanges appends slot changes to the durable feed, with b, and with expire deletes the
// feed's changes older than its retention. The first sync's "changes" are the whole diary
// appearing, not changes in EMIS, and are not recorded.
func queueChanges(ctx context.Context, b *batch, practiceID int64, changes []SlotChange, now int64, first, expire bool) error {
	if first || len(changes) == 0 {
		return nil
	}
	if err := queueFeedLock(ctx, b); err != nil {
		return err
	}
	for _, c := range changes {
		moved := 0
		if c.Moved {
			moved = 1
		}
		if err := b.exec(ctx, insertChangeSQL, practiceID, now, c.SlotID, c.SessionID, c.OldStatus, c.NewStatus,
			c.OldPatient, c.NewPatient, c.OldTypeID, c.NewTypeID, moved); err != nil {
			return err
		}
	}
	if !expire {
		return nil
	}
	return b.exec(ctx, expireChangesSQL, now-changeRetention.Milliseconds())
}

// feedExpiryInterval is how often an instance deletes the change feed's expired changes, with
// a pass that writes changes. Changes expire a week after they were made, so a minute late is
// nothing; a DELETE with every such pass was 1.4 % of herolink's CPU on SQLite at 7,000
// practices.
const feedExpiryInterval = time.Minute

// feedExpiryDue says whether a pass writing changes at now deletes the expired ones too, and
// if so counts it as done: a pass that then fails leaves them to a pass a minute later.
func (s *Store) feedExpiryDue(now int64) bool {
	last := s.feedExpiredAt.Load()
	return now-last >= feedExpiryInterval.Milliseconds() && s.feedExpiredAt.CompareAndSwap(last, now)
}

// feedLockKey is the PostgreSQL advisory lock that orders the diary change feed ("diaryfeed").
const feedLockKey int64 = 0x6469617279666565

// queueFeedLock makes the feed's ids commit in order. Readers follow the feed with a cursor (the
// last id handled), so an id must never become visible after a larger one: on PostgreSQL a
// sequence hands out ids at insert, and a pass that took its ids first but committed last
// would be skipped for good. A transaction-scoped advisory lock, taken before the first insert
// and held until commit, lets one pass at a time write changes; passes that change nothing do
// not take it. SQLite's single writer already orders them.
func queueFeedLock(ctx context.Context, b *batch) error {
	if b.tx.dialect != Postgres {
		return nil
	}
	return b.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, feedLockKey)
}

// DiaryChange is one recorded slot change, with its place in the feed.
type DiaryChange struct {
	Seq        int64
	PracticeID int64
	At         time.Time
	SlotChange
}

// DiaryChangesAfter reads the change feed after a sequence number, oldest first: consumers keep
// the last Seq they handled and ask again.
func (s *Store) DiaryChangesAfter(ctx context.Context, after int64, limit int) ([]DiaryChange, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, practice_id, at, slot_id, session_id, old_status, new_status, old_patient,
		new_patient, old_type_id, new_type_id, moved FROM diary_changes WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: diary changes: %w", err)
	}
	defer rows.Close()
	var out []DiaryChange
	for rows.Next() {
		var c DiaryChange
		var at int64
		var moved int
		if err := rows.Scan(&c.Seq, &c.PracticeID, &at, &c.SlotID, &c.SessionID, &c.OldStatus, &c.NewStatus, &c.OldPatient,
			&c.NewPatient, &c.OldTypeID, &c.NewTypeID, &moved); err != nil {
			return nil, err
		}
		c.At, c.Moved = time.UnixMilli(at), moved != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

const upsertSessionSQL = `INSERT INTO diary_sessions (practice_id, session_id, date, start_at, end_at,
	slot_length, name, site_id, holder_ids, summary_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (practice_id, session_id) DO UPDATE SET date = excluded.date, start_at = excluded.start_at,
	end_at = excluded.end_at, slot_length = excluded.slot_length, name = excluded.name, site_id = excluded.site_id,
	holder_ids = excluded.holder_ids, summary_hash = excluded.summary_hash`

// The statements of a sync pass's write transaction, prepared once on SQLite (syncTxStatements).
const (
	firstSyncDoneSQL = `SELECT first_sync_done FROM sync_state WHERE practice_id = ?`
	deleteSlotSQL    = `DELETE FROM diary_slots WHERE practice_id = ? AND slot_id = ?`
	slotsOfSQL       = `SELECT slot_id, status, COALESCE(patient_id, 0), type_id, start_at FROM diary_slots
		WHERE practice_id = ? AND session_id = ?`
	diaryVersionSQL = `SELECT diary FROM slot_versions WHERE practice_id = ? AND shard = -1`
	// bumpDiaryVersionSQL moves the counter diaryVersionSQL reads, as migration 0027's
	// triggers do.
	bumpDiaryVersionSQL = `INSERT INTO slot_versions (practice_id, shard, diary) VALUES (?, -1, 1)
		ON CONFLICT (practice_id, shard) DO UPDATE SET diary = slot_versions.diary + 1`
	// Every full pass prunes days before today: parsing these each time was 2.5 % of
	// herolink's CPU at 7,000 practices.
	pruneSlotsSQL = `DELETE FROM diary_slots WHERE practice_id = ? AND session_id IN
		(SELECT session_id FROM diary_sessions WHERE practice_id = ? AND date < ?)`
	pruneSessionsSQL = `DELETE FROM diary_sessions WHERE practice_id = ? AND date < ?`
	// insertChangeSQL records a slot change in the feed: every pass that changes slots
	// prepared it again, 1.3 % of herolink's CPU at 7,000 practices.
	insertChangeSQL = `INSERT INTO diary_changes (practice_id, at, slot_id, session_id, old_status, new_status,
		old_patient, new_patient, old_type_id, new_type_id, moved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	expireChangesSQL = `DELETE FROM diary_changes WHERE at < ?`
)

// syncTxStatements are prepared on SQLite's writing connection once migrations have run: the
// sync writes thousands of times a second, and parsing its statements again each time was a
// tenth of herolink's CPU at 7,000 practices.
var syncTxStatements = slices.Concat([]string{firstSyncDoneSQL, deleteSlotSQL, slotsOfSQL, diaryVersionSQL,
	bumpDiaryVersionSQL, upsertSessionSQL, syncFenceSQL, recordPassSQL, pruneSlotsSQL, pruneSessionsSQL, insertChangeSQL, expireChangesSQL}, recordOnlyPass[:], upsertSlotsSQL[:], slotsSyncedSQL[:])

// slotChunks are the row counts of the multi-row statements that write slots: a pass's rows go
// in chunks of these sizes, largest first, so that every statement's text is one of a few
// prepared once. One statement per slot cost SQLite a statement journal and a halt each, a
// third of a first sync's write.
var slotChunks = [...]int{64, 16, 4, 1}

// upsertSlotsSQL[i] upserts slotChunks[i] slots; slotsSyncedSQL[i] marks slotChunks[i]
// sessions' slots read.
var upsertSlotsSQL, slotsSyncedSQL = func() (ups, synced [len(slotChunks)]string) {
	for i, n := range slotChunks {
		ups[i] = `INSERT INTO diary_slots (` + strings.Join(slotColumns[:], ", ") + `)
	VALUES ` + strings.TrimSuffix(strings.Repeat("("+marks(slotArgs)+"), ", n), ", ") + ` ON CONFLICT (practice_id, slot_id) DO UPDATE SET
	session_id = excluded.session_id, start_at = excluded.start_at, length_min = excluded.length_min,
	type_id = excluded.type_id, status = excluded.status, patient_id = excluded.patient_id`
		synced[i] = `UPDATE diary_sessions SET slots_synced_at = ? WHERE practice_id = ? AND session_id IN (` + marks(n) + `)`
	}
	return ups, synced
}()

// marks is n placeholders for an IN list.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// slotColumns are the columns a sync writes of a slot, in the order of its arguments (a row of
// upsertSlotsSQL, of copySlotsTx).
var slotColumns = [...]string{"practice_id", "slot_id", "session_id", "start_at", "length_min", "type_id", "status", "patient_id"}

// slotArgs is the arguments of one slot.
const slotArgs = len(slotColumns)

// execChunked runs rows (each of width arguments) through stmts[i] in chunks of slotChunks[i]
// rows, largest first; lead goes before each chunk's rows (for slotsSyncedSQL's time and
// practice).
func execChunked(ctx context.Context, b *batch, stmts [len(slotChunks)]string, lead []any, rows []any, width int) error {
	for i, n := range slotChunks {
		for len(rows) >= n*width {
			args := rows[: n*width : n*width] // the rows themselves when nothing goes before them
			if len(lead) > 0 {
				args = append(lead[:len(lead):len(lead)], args...)
			}
			if err := b.exec(ctx, stmts[i], args...); err != nil {
				return err
			}
			rows = rows[n*width:]
		}
	}
	return nil
}

// ApplyDiary applies a sync pass in one transaction and records the success. It returns the
// slot changes it made.
func (s *Store) ApplyDiary(ctx context.Context, d DiaryDiff) ([]SlotChange, error) {
	applied, err := s.ApplyDiaryPass(ctx, d)
	return applied.Changes, err
}

// ApplyDiaryPass is ApplyDiary that also says the diary version its write left. On SQLite a
// small pass shares its transaction with others ending with it (diarywrites.go), and then
// waits for that transaction, which runs under the batch's own bound (gatherTimeout), however
// long ctx has left.
func (s *Store) ApplyDiaryPass(ctx context.Context, d DiaryDiff) (DiaryApplied, error) {
	// Most record-only passes without days to prune take no transaction of their own: on
	// PostgreSQL one statement, on SQLite a share of the unchanged passes' (recordOnlyGathered).
	// One whose checks fail takes the transaction, which says which failed.
	if d.recordFirst() {
		at := s.nowMS()
		var ok bool
		var err error
		if s.dialect == SQLite {
			at, ok, err = s.recordOnlyGathered(ctx, d)
		} else {
			ok, err = s.recordOnlyPassAlone(ctx, d, at)
		}
		if err != nil {
			return DiaryApplied{Version: -1}, fmt.Errorf("store: apply diary of practice %d: %w", d.PracticeID, err)
		}
		if ok {
			return DiaryApplied{Version: d.VersionRead, At: time.UnixMilli(at)}, nil
		}
	}
	var applied DiaryApplied
	var err error
	if s.dialect == SQLite && d.joinsWrites() {
		var w passWritten
		if w, err = s.writes.do(context.WithoutCancel(ctx), d, s.applyPassesTogether); err == nil {
			applied, err = w.applied, w.err
		}
	} else {
		applied, err = s.applyPassOwnTx(ctx, d)
	}
	if err != nil {
		return DiaryApplied{Version: -1}, fmt.Errorf("store: apply diary of practice %d: %w", d.PracticeID, err)
	}
	return applied, nil
}

// applyPassOwnTx applies d in a transaction of its own, at the time it begins (a pass that
// waited for a batch checks its lease when it is written, not when it asked).
func (s *Store) applyPassOwnTx(ctx context.Context, d DiaryDiff) (DiaryApplied, error) {
	now := s.nowMS()
	var applied DiaryApplied
	err := s.inTx(ctx, func(tx *Tx) error {
		var err error
		applied, err = s.applyPassTx(ctx, tx, d, now)
		return err
	})
	return applied, err
}

// applyPassTx is ApplyDiaryPass's transaction, at now.
func (s *Store) applyPassTx(ctx context.Context, tx *Tx, d DiaryDiff, now int64) (DiaryApplied, error) {
	var changes []SlotChange
	version := int64(-1)
	var moved bool
	err := func() error {
		if d.recordOnly() && !d.recordFirst() { // a record-only pass pruning days: the shorter write here
			v, ok, err := applyRecordOnlyTx(ctx, tx, d, now)
			if err != nil || ok {
				version = v
				return err
			}
		}
		// The pass's reads, and the prune that must come before its slots are read, go
		// together: one round trip on PostgreSQL, in the order of their locks (the fence,
		// then the diary version, locked until commit: between this read and the last one
		// below, only this transaction moves the version; SQLite's writer is alone anyway).
		reads := tx.newBatch()
		held := true
		if err := queueSyncFence(ctx, reads, d.PracticeID, d.Fence, now, &held); err != nil {
			return err
		}
		var before int64
		if err := queueDiaryVersion(ctx, reads, d.PracticeID, &before); err != nil {
			return err
		}
		var done int
		if err := reads.queryRow(ctx, func(r Row) error { return noRowIsZero(r.Scan(&done)) }, firstSyncDoneSQL, d.PracticeID); err != nil {
			return err
		}
		if d.PruneBefore != "" {
			if err := reads.exec(ctx, pruneSlotsSQL, d.PracticeID, d.PracticeID, d.PruneBefore); err != nil {
				return err
			}
			if err := reads.exec(ctx, pruneSessionsSQL, d.PracticeID, d.PruneBefore); err != nil {
				return err
			}
		}
		if err := reads.flush(ctx); err != nil {
			return err
		}
		if !held {
			return fmt.Errorf("practice %d: %w", d.PracticeID, ErrSyncLeaseLost)
		}
		d.wasFirst = done == 0
		for _, id := range d.Remove {
			old, err := slotsOfTx(ctx, tx, d.PracticeID, id)
			if err != nil {
				return err
			}
			for _, o := range old {
				changes = append(changes, SlotChange{SlotID: o.ID, SessionID: id, OldStatus: o.Status, OldPatient: o.PatientID, OldTypeID: o.TypeID})
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM diary_slots WHERE practice_id = ? AND session_id = ?`, d.PracticeID, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM diary_sessions WHERE practice_id = ? AND session_id = ?`, d.PracticeID, id); err != nil {
				return err
			}
		}
		// A first sync usually finds nothing stored, and writes what it read in bulk; one that
		// failed before may have stored some sessions, or their slots too, which are compared
		// as ever. Later passes do not ask.
		sessionsStored, slotsStored := true, true
		var err error
		if d.wasFirst {
			if sessionsStored, slotsStored, err = storedTx(ctx, tx, d.PracticeID); err != nil {
				return err
			}
		}
		copied := false
		if !sessionsStored && tx.pg != nil {
			if copied, err = copySessionsTx(ctx, tx, d, now); err != nil {
				return err
			}
		}
		// The pass's writes, and the version they leave, go together: one round trip on
		// PostgreSQL, then COMMIT.
		writes := tx.newBatch()
		if !copied {
			for _, r := range d.Upsert {
				if err := writes.exec(ctx, upsertSessionSQL, d.PracticeID, r.ID, r.Date, r.StartAt.UnixMilli(), r.EndAt.UnixMilli(),
					r.SlotLength, r.Name, r.SiteID, joinIDs(r.HolderIDs), r.Hash); err != nil {
					return err
				}
			}
		}
		if len(d.Slots) > 0 {
			// Copied sessions were written with their slots marked read.
			c, m, err := replaceSlotsTx(ctx, tx, writes, d.PracticeID, d.Slots, now, !slotsStored, !copied)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				changes = c // most passes remove no session: no copy of (in a first sync) every slot
			} else {
				changes = append(changes, c...)
			}
			moved = m
		}
		if len(d.Confirmed) > 0 && before == d.VersionRead {
			// Otherwise the proof may be stale: they stay due, and the next pass compares them.
			if err := queueSlotsRead(ctx, writes, d.PracticeID, d.Confirmed, now); err != nil {
				return err
			}
		}
		expire := len(changes) > 0 && !d.wasFirst && s.feedExpiryDue(now)
		if err := queueChanges(ctx, writes, d.PracticeID, changes, now, d.wasFirst, expire); err != nil {
			return err
		}
		if err := queueRecordPass(ctx, writes, d, now); err != nil {
			return err
		}
		if before == d.VersionRead {
			if err := queueDiaryVersion(ctx, writes, d.PracticeID, &version); err != nil {
				return err
			}
		}
		return writes.flush(ctx)
	}()
	if err != nil {
		return DiaryApplied{Version: -1}, err
	}
	return DiaryApplied{Changes: changes, Version: version, Moved: moved, At: time.UnixMilli(now)}, nil
}

// diaryVersionTx reads the practice's diary version in a transaction, locking its row.
func diaryVersionTx(ctx context.Context, tx *Tx, practiceID int64) (int64, error) {
	var v int64
	b := tx.newBatch()
	if err := queueDiaryVersion(ctx, b, practiceID, &v); err != nil {
		return 0, err
	}
	return v, b.flush(ctx)
}

// queueDiaryVersion reads the practice's diary version into v (0 when it has none) with b,
// locking its row.
func queueDiaryVersion(ctx context.Context, b *batch, practiceID int64, v *int64) error {
	return b.queryRow(ctx, func(r Row) error {
		*v = 0 // the answer when there is no row (the caller's -1 says "not read")
		return noRowIsZero(r.Scan(v))
	}, diaryVersionSQL+b.tx.forUpdate(), practiceID)
}

// noRowIsZero takes a missing row for the values the scan's destinations held before it: for
// a read whose destinations start at their zero values.
func noRowIsZero(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

type oldSlot struct {
	ID        int64
	Status    string
	PatientID int64
	TypeID    int
	StartAt   int64
}

// slotsOfSessionsTx reads the stored slots of each session of bySession, as slotsOfTx does, in
// one round trip on PostgreSQL.
func slotsOfSessionsTx(ctx context.Context, tx *Tx, practiceID int64, bySession map[int64][]SlotRow) (map[int64][]oldSlot, error) {
	stored := make(map[int64][]oldSlot, len(bySession))
	b := tx.newBatch()
	for sessionID := range bySession {
		if err := queueSlotsOf(ctx, b, practiceID, sessionID, func(o oldSlot) { stored[sessionID] = append(stored[sessionID], o) }); err != nil {
			return nil, err
		}
	}
	return stored, b.flush(ctx)
}

// queueSlotsOf reads a session's stored slots with b, as slotsOfTx does, handing each to add.
func queueSlotsOf(ctx context.Context, b *batch, practiceID, sessionID int64, add func(oldSlot)) error {
	return b.query(ctx, func(r Row) error {
		var o oldSlot
		if err := r.Scan(&o.ID, &o.Status, &o.PatientID, &o.TypeID, &o.StartAt); err != nil {
			return err
		}
		add(o)
		return nil
	}, slotsOfSQL+b.tx.forUpdate(), practiceID, sessionID)
}

// slotsOfTx reads a session's stored slots, locked: what differs from them is written and
// recorded in the feed, so a second pass of the practice at once on PostgreSQL waits and then
// compares with the first's result instead of recording the same change again.
func slotsOfTx(ctx context.Context, tx *Tx, practiceID, sessionID int64) ([]oldSlot, error) {
	var out []oldSlot
	b := tx.newBatch()
	if err := queueSlotsOf(ctx, b, practiceID, sessionID, func(o oldSlot) { out = append(out, o) }); err != nil {
		return nil, err
	}
	return out, b.flush(ctx)
}

// replaceSlotsTx makes each listed session's stored slots equal to the list, writing only what
// differs with w (which the caller flushes), and returns the differences.
//
// moved says whether a slot it wrote was stored under another session than its own before,
// or listed under two sessions of the pass: a session then holds less than EMIS listed in it.
// none says the practice has no slot stored (the caller asked): then nothing is compared and
// moved is not asked. markRead false leaves the sessions' slots_synced_at alone (the caller
// wrote it).
func replaceSlotsTx(ctx context.Context, tx *Tx, w *batch, practiceID int64, bySession map[int64][]SlotRow, now int64, none, markRead bool) (changes []SlotChange, moved bool, err error) {
	var stored map[int64][]oldSlot
	if !none {
		if stored, err = slotsOfSessionsTx(ctx, tx, practiceID, bySession); err != nil {
			return nil, false, err
		}
	}
	// Deletions run (SQLite) or are queued (PostgreSQL) as each session is compared; the
	// upserts go after all of them. A slot EMIS moved from one session to another is then
	// deleted (as gone from the first) before it is written under the second, never the other
	// way round, whatever order the sessions come in.
	// With nothing stored, every slot read is written, so what is written is sized once, not
	// grown by doubling (the growth was a tenth of the bytes a first sync of thousands of
	// practices allocated).
	n := 0
	if none {
		for _, slots := range bySession {
			n += len(slots)
		}
		changes = make([]SlotChange, 0, n)
	}
	fresh := make([]any, 0, n)        // slots not stored under their session
	ups := make([]any, 0, n*slotArgs) // upsertSlotsSQL's arguments, slotArgs a slot
	queued := make(map[int64]int, n)  // slot id → its arguments' offset in ups
	synced := make([]any, 0, len(bySession))
	pid := any(practiceID) // boxed once, not once a slot
	for sessionID, slots := range bySession {
		sid := any(sessionID)
		old := stored[sessionID]
		before := make(map[int64]oldSlot, len(old))
		for _, o := range old {
			before[o.ID] = o
		}
		for _, sl := range slots {
			o, had := before[sl.ID]
			delete(before, sl.ID)
			retimed := had && o.StartAt != sl.StartAt.UnixMilli()
			if had && !retimed && o.Status == sl.Status && o.PatientID == sl.PatientID && o.TypeID == sl.TypeID {
				continue // the slot is as stored
			}
			if !had {
				fresh = append(fresh, sl.ID)
			}
			changes = append(changes, SlotChange{SlotID: sl.ID, SessionID: sessionID, OldStatus: o.Status, NewStatus: sl.Status,
				OldPatient: o.PatientID, NewPatient: sl.PatientID, OldTypeID: o.TypeID, NewTypeID: sl.TypeID, Moved: retimed})
			var patient any
			if sl.PatientID != 0 {
				patient = sl.PatientID
			}
			row := []any{pid, sl.ID, sid, sl.StartAt.UnixMilli(), sl.LengthMin, sl.TypeID, boxedStatus(sl.Status), patient}
			if at, twice := queued[sl.ID]; twice {
				// EMIS listed the slot in two sessions as it moved: the later listing replaces
				// the earlier, as it would one statement a slot (PostgreSQL refuses a statement
				// that writes one row twice).
				copy(ups[at:at+slotArgs], row)
				moved = true // the other session holds less than its list says
				continue
			}
			queued[sl.ID] = len(ups)
			ups = append(ups, row...)
		}
		for _, o := range before {
			changes = append(changes, SlotChange{SlotID: o.ID, SessionID: sessionID, OldStatus: o.Status, OldPatient: o.PatientID, OldTypeID: o.TypeID})
			if err := w.exec(ctx, deleteSlotSQL, practiceID, o.ID); err != nil {
				return nil, false, err
			}
		}
		if markRead {
			synced = append(synced, sessionID)
		}
	}
	if len(fresh) > 0 && !moved && !none {
		if moved, err = storedElsewhereTx(ctx, tx, practiceID, fresh); err != nil {
			return nil, false, err
		}
	}
	if none && tx.pg != nil {
		// Nothing stored, and the fence keeps every other writer out until commit: the
		// slots are copied in, not upserted 64 a statement (PostgreSQL parsed and bound 512
		// arguments a statement and made a speculative insertion a row). COPY fires the
		// same triggers. What w holds (the sessions) goes first.
		if err := w.flush(ctx); err != nil {
			return nil, false, err
		}
		if err := copySlotsTx(ctx, tx, ups); err != nil {
			return nil, false, err
		}
	} else {
		if err := execChunked(ctx, w, upsertSlotsSQL, nil, ups, slotArgs); err != nil {
			return nil, false, err
		}
		// SQLite has no trigger on the slots inserted (migration 0035): the version moves here,
		// once for the pass. An upsert that only updated moves it twice, which is harmless.
		if len(ups) > 0 && tx.dialect == SQLite {
			if err := w.exec(ctx, bumpDiaryVersionSQL, practiceID); err != nil {
				return nil, false, err
			}
		}
	}
	if err := execChunked(ctx, w, slotsSyncedSQL, []any{now, practiceID}, synced, 1); err != nil {
		return nil, false, err
	}
	return changes, moved, nil
}

// statuses boxed once: a first sync passes one for each of millions of slots.
var statusesBoxed = map[string]any{"Available": "Available", "Booked": "Booked", "Blocked": "Blocked",
	"Embargoed": "Embargoed"}

func boxedStatus(s string) any {
	if v, ok := statusesBoxed[s]; ok {
		return v
	}
	return s
}

// copySlotsTx copies rows (slotArgs arguments a slot, as for upsertSlotsSQL) into diary_slots
// with PostgreSQL's COPY. A slot already stored fails the copy, and with it the pass.
func copySlotsTx(ctx context.Context, tx *Tx, rows []any) error {
	n := len(rows) / slotArgs
	if n == 0 {
		return nil
	}
	_, err := tx.pg.CopyFrom(ctx, pgx.Identifier{"diary_slots"}, slotColumns[:], pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		return rows[i*slotArgs : (i+1)*slotArgs], nil
	}))
	if err != nil {
		return fmt.Errorf("store: copy %d slots: %w", n, err)
	}
	return nil
}

// sessionColumns are the columns copySessionsTx writes of a session.
var sessionColumns = []string{"practice_id", "session_id", "date", "start_at", "end_at", "slot_length", "name",
	"site_id", "holder_ids", "summary_hash", "slots_synced_at"}

// copySessionsTx writes a first sync's sessions, none stored yet, with PostgreSQL's COPY, each
// whose slots the pass read marked read at now: one statement instead of an upsert a session
// and an update of each again once its slots are written (a fifth of the server's CPU in a
// first sync of 2,000 practices: 215,690 upserts and 4,700 updates of 46 rows each). It
// reports false, having written nothing, when a session is listed twice, which the upserts
// take in their stride. The fence keeps every other writer out until commit.
func copySessionsTx(ctx context.Context, tx *Tx, d DiaryDiff, now int64) (bool, error) {
	if len(d.Upsert) == 0 {
		return false, nil
	}
	listed := make(map[int64]bool, len(d.Upsert))
	for _, r := range d.Upsert {
		if listed[r.ID] {
			return false, nil
		}
		listed[r.ID] = true
	}
	pid, read := any(d.PracticeID), any(now)
	_, err := tx.pg.CopyFrom(ctx, pgx.Identifier{"diary_sessions"}, sessionColumns, pgx.CopyFromSlice(len(d.Upsert), func(i int) ([]any, error) {
		r := d.Upsert[i]
		var synced any
		if _, ok := d.Slots[r.ID]; ok {
			synced = read
		}
		return []any{pid, r.ID, r.Date, r.StartAt.UnixMilli(), r.EndAt.UnixMilli(), r.SlotLength, r.Name, r.SiteID,
			joinIDs(r.HolderIDs), r.Hash, synced}, nil
	}))
	if err != nil {
		return false, fmt.Errorf("store: copy %d sessions: %w", len(d.Upsert), err)
	}
	return true, nil
}

// storedTx says whether the practice has any session, and any slot, stored, in one query. Each
// is asked as a minimum, which both engines answer from the key's first entry for the
// practice: PostgreSQL planned the same question asked with LIMIT 1 as a scan of the whole
// table when it expected the practice to have rows (its statistics lag a first sync): 0.2 s a
// call in one run of 2,000 practices.
func storedTx(ctx context.Context, tx *Tx, practiceID int64) (sessions, slots bool, err error) {
	var session, slot sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT (SELECT MIN(session_id) FROM diary_sessions WHERE practice_id = ?),
		(SELECT MIN(slot_id) FROM diary_slots WHERE practice_id = ?)`, practiceID, practiceID).Scan(&session, &slot)
	return session.Valid, slot.Valid, err
}

// storedElsewhereTx says whether any of the slots is stored (under another session than the
// one about to be written: the caller lists only slots its session does not hold).
func storedElsewhereTx(ctx context.Context, tx *Tx, practiceID int64, ids []any) (bool, error) {
	var n int
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 64)]
		ids = ids[len(chunk):]
		q := `SELECT COUNT(*) FROM diary_slots WHERE practice_id = ? AND slot_id IN (` + marks(len(chunk)) + `)`
		if err := tx.QueryRowContext(ctx, q, append([]any{practiceID}, chunk...)...).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// RecordSyncFailure notes a failed pass; the copy of the diary is left as it was.
func (s *Store) RecordSyncFailure(ctx context.Context, practiceID int64, reason string) error {
	now := s.nowMS()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_state (practice_id, last_attempt_at, last_error, consecutive_failures)
		VALUES (?, ?, ?, 1) ON CONFLICT (practice_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
		last_error = excluded.last_error, consecutive_failures = sync_state.consecutive_failures + 1`, practiceID, now, reason)
	if err != nil {
		return fmt.Errorf("store: record sync failure: %w", err)
	}
	return nil
}

// RecordSyncProgress shows the first sync's progress on the admin page.
func (s *Store) RecordSyncProgress(ctx context.Context, practiceID int64, done, total int) error {
	// Prepared once: a first sync records progress every 20 slot lists, 35,000 times at 7,000
	// practices, and parsing the statement each time was 2 % of its CPU on SQLite.
	if _, err := s.db.ExecPrepared(ctx, recordSyncProgressSQL, practiceID, done, total); err != nil {
		return fmt.Errorf("store: record sync progress: %w", err)
	}
	return nil
}

const recordSyncProgressSQL = `INSERT INTO sync_state (practice_id, progress_done, progress_total) VALUES (?, ?, ?)
	ON CONFLICT (practice_id) DO UPDATE SET progress_done = excluded.progress_done, progress_total = excluded.progress_total`

// DiarySlot is a stored slot with its session, for answers about what herolink has.
type DiarySlot struct {
	SlotRow
	SessionName string
	SiteID      int64
	HolderIDs   []int64
}

// DiarySlotsBetween lists a practice's stored slots starting in [from, to), in time order.
func (s *Store) DiarySlotsBetween(ctx context.Context, practiceID int64, from, to time.Time) ([]DiarySlot, error) {
	rows, err := s.read.QueryPrepared(ctx, `SELECT sl.slot_id, sl.session_id, sl.start_at, sl.length_min, sl.type_id, sl.status,
		COALESCE(sl.patient_id, 0), se.name, se.site_id, se.holder_ids
		FROM diary_sessions se JOIN diary_slots sl ON sl.practice_id = se.practice_id AND sl.session_id = se.session_id
		WHERE se.practice_id = ? AND se.date >= ? AND se.date <= ? AND sl.start_at >= ? AND sl.start_at < ?
		ORDER BY sl.start_at, sl.slot_id`,
		// Through the sessions' dates: no index orders slots by time, since none is worth its
		// cost to every sync write (0028). A slot starts on its session's London date or, in a
		// session running past midnight, the day after; a session of a later date than the
		// window's end starts after it.
		practiceID, londonDate(from).AddDate(0, 0, -1).Format(time.DateOnly), londonDate(to).Format(time.DateOnly),
		from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: diary slots: %w", err)
	}
	defer rows.Close()
	var out []DiarySlot
	for rows.Next() {
		var d DiarySlot
		var start int64
		var holders string
		if err := rows.Scan(&d.ID, &d.SessionID, &start, &d.LengthMin, &d.TypeID, &d.Status, &d.PatientID, &d.SessionName, &d.SiteID, &holders); err != nil {
			return nil, err
		}
		d.StartAt = time.UnixMilli(start)
		d.HolderIDs = splitIDs(holders)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SyncablePractices lists the practices the sync should keep fresh: an active connection whose
// credentials EMIS has not refused.
func (s *Store) SyncablePractices(ctx context.Context) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.id FROM practices p WHERE p.credentials_rejected = 0 AND EXISTS
		(SELECT 1 FROM emis_connections c WHERE c.practice_id = p.id AND c.state = 'active') ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("store: syncable practices: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func int64sAsArgs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " ")
}

func splitIDs(s string) []int64 {
	var out []int64
	for _, f := range strings.Fields(s) {
		if id, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// london is the zone of the stored sessions' dates (EMIS's).
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("store: load Europe/London: " + err.Error())
	}
	return loc
}()

// londonDate is the London calendar day of t, at midnight UTC (only its date is used).
func londonDate(t time.Time) time.Time {
	y, m, d := t.In(london).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
