package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Guarantees under concurrency, where PostgreSQL runs transactions at once (SQLite's single
// writer serialises them): each test here has a deterministic sibling that runs on both engines.

// Two requests with one Idempotency-Key arriving together: exactly one runs, the other is told
// the first is under way; neither fails.
func TestConcurrentRequestsWithOneIdempotencyKeyRunOnce(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	p := newPractice(t, st, "A81001")
	must(t, st.CreateAPIKey(ctx, apiKey(p.PracticeGroupID, "key1"), auditOf("k")))
	for round := range 5 {
		key := "idem-" + string(rune('a'+round))
		const n = 8
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		started, errs := 0, []error{}
		for range n {
			wg.Go(func() {
				<-start
				_, ok, err := st.BeginIdempotent(ctx, "key1", key, "req", time.Minute, time.Hour)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					started++
				}
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if started != 1 || len(errs) != 0 {
			t.Fatalf("%d concurrent requests with one key: %d ran, errors %v; want exactly one run, no error", n, started, errs)
		}
	}
}

// waitForLockWait returns once n sessions of the database wait for a lock: the signal that
// the transactions under test are where the test put them, instead of a sleep.
func waitForLockWait(t *testing.T, st *store.Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); lockWaiters(t, st) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d sessions wait for a lock after 20 s", n)
		}
	}
}

// The diary change feed is read by id with a cursor. On PostgreSQL ids come from a sequence
// when a row is inserted, not when it commits: a pass that took its ids first and commits last
// must not be skipped by a reader that already moved its cursor past a later pass's ids.
// Practice 1's pass is held just before it commits (the test holds its sync_state row), with its
// changes written; practice 2's pass runs meanwhile; a reader reads the feed as booking's
// FollowDiary does; then practice 1's pass commits and the reader reads again.
func TestTheDiaryFeedSkipsNoChangeCommittedLate(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	st.SetClock(func() time.Time { return epoch })
	p1, p2 := setUp(t, st, "A81001"), setUp(t, st, "B82002")
	diary(t, st, p1.practice.ID, 1, slot(1, 0), slot(1, 1))
	diary(t, st, p2.practice.ID, 1, slot(1, 0), slot(1, 1))
	booked := func(d, n int) store.SlotRow { s := slot(d, n); s.Status, s.PatientID = "Booked", 77; return s }

	// The blocker: a transaction holding practice 1's sync_state row, which its pass writes last.
	blockerHeld, releaseBlocker, blockerDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release := func() { once.Do(func() { close(releaseBlocker) }) }
	t.Cleanup(release) // before the store closes, even when the test fails
	go func() {
		blockerDone <- st.InTx(ctx, func(tx *store.Tx) error {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT first_sync_done FROM sync_state WHERE practice_id = ? FOR UPDATE`, p1.practice.ID).Scan(&x); err != nil {
				return err
			}
			close(blockerHeld)
			<-releaseBlocker
			return nil
		})
	}()
	<-blockerHeld
	pass1 := make(chan error, 1)
	go func() {
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p1.practice.ID,
			Slots: map[int64][]store.SlotRow{901: {booked(1, 0), booked(1, 1)}}})
		pass1 <- err
	}()
	waitForLockWait(t, st, 1) // practice 1's pass has written its changes and waits to finish
	pass2 := make(chan error, 1)
	go func() {
		_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: p2.practice.ID,
			Slots: map[int64][]store.SlotRow{901: {booked(1, 0)}}})
		pass2 <- err
	}()
	// Practice 2's pass either commits, or waits behind practice 1's (the feed's order).
	for deadline := time.Now().Add(20 * time.Second); pass2 != nil; time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-pass2:
			must(t, err)
			pass2 = nil
			continue
		default:
		}
		if lockWaiters(t, st) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("practice 2's pass neither finished nor waited")
		}
	}
	var seen []store.DiaryChange
	read := func() {
		after, err := st.FeedCursor(ctx, "test")
		must(t, err)
		got, err := st.DiaryChangesAfter(ctx, after, 100)
		must(t, err)
		if len(got) > 0 {
			seen = append(seen, got...)
			must(t, st.SetFeedCursor(ctx, st.DBQ(), "test", got[len(got)-1].Seq))
		}
	}
	read()
	release()
	must(t, <-blockerDone)
	must(t, <-pass1)
	if pass2 != nil {
		must(t, <-pass2)
	}
	read()
	all, err := st.DiaryChangesAfter(ctx, 0, 100)
	must(t, err)
	if len(all) != 4 || len(seen) != len(all) {
		t.Fatalf("the feed holds %d changes; a reader following it with a cursor saw %d: %+v", len(all), len(seen), seen)
	}
}

func lockWaiters(t *testing.T, st *store.Store) int {
	t.Helper()
	var waiting int
	must(t, st.DBQ().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
	return waiting
}

// One live appointment per slot with two transactions open at once: the second hold waits for
// the first's commit and is then refused; no code before the insert decides it.
func TestTwoOpenTransactionsCannotBothHoldASlot(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	st.SetClock(func() time.Time { return epoch })
	f := setUp(t, st, "A81001")
	inserted, commit, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release := func() { once.Do(func() { close(commit) }) }
	t.Cleanup(release)
	go func() {
		firstDone <- st.InTx(ctx, func(tx *store.Tx) error {
			if err := st.InsertHold(ctx, tx, hold(f.practice, "apt_1", 1, 0)); err != nil {
				return err
			}
			close(inserted)
			<-commit
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-firstDone:
		t.Fatalf("the first hold: %v", err)
	}
	second := make(chan error, 1)
	go func() { second <- insertHold(t, st, hold(f.practice, "apt_2", 1, 0)) }()
	// The second insert must wait on the first's uncommitted row.
	for deadline := time.Now().Add(20 * time.Second); lockWaiters(t, st) < 1; time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-second:
			t.Fatalf("a second hold on the slot of an uncommitted one did not wait: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second hold neither waited nor finished in 20 s")
		}
	}
	release()
	must(t, <-firstDone)
	if err := <-second; !errors.Is(err, store.ErrSlotHeld) {
		t.Fatalf("a second hold while the first was uncommitted: %v, want ErrSlotHeld", err)
	}
}

// holdRow holds a row lock in an open transaction (lock is a SELECT ... FOR UPDATE) until the
// returned release is called, or the test ends.
func holdRow(t *testing.T, st *store.Store, lock string, args ...any) (release func(), done <-chan error) {
	t.Helper()
	ctx := context.Background()
	held, stop, out := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release = func() { once.Do(func() { close(stop) }) }
	t.Cleanup(release)
	go func() {
		out <- st.InTx(ctx, func(tx *store.Tx) error {
			rows, err := tx.QueryContext(ctx, lock, args...)
			if err != nil {
				return err
			}
			rows.Close()
			close(held)
			<-stop
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-out:
		t.Fatalf("%s: %v", lock, err)
	}
	return release, out
}

// Two people replace one practice's credentials at once, each having seen the same connection:
// one wins, the other is told the connection changed meanwhile (and must look again), never
// a database error.
func TestTwoReplacementsOfOneConnectionAtOnceOneIsToldItChanged(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	p := newPractice(t, st, "A81001")
	first := connect(t, st, p)
	release, blocker := holdRow(t, st, `SELECT id FROM emis_connections WHERE id = ? FOR UPDATE`, first.ID)
	results := make(chan error, 2)
	for _, who := range []string{"alice", "bob"} {
		go func() {
			_, err := st.ActivateConnection(ctx, store.NewConnection{PracticeID: p.ID, Username: who, ConnectedBy: who, Checklist: "[]",
				Replaces: first.ID}, auditOf("connect"))
			results <- err
		}()
	}
	waitForLockWait(t, st, 2)
	release()
	must(t, <-blocker)
	var ok, changed int
	var other []error
	for range 2 {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConnectionChanged):
			changed++
		default:
			other = append(other, err)
		}
	}
	if ok != 1 || changed != 1 {
		t.Fatalf("two replacements at once: %d succeeded, %d told it changed, other errors %v; want 1, 1, none", ok, changed, other)
	}
}

// Two health checks with one outcome recorded at once add one health event, not two.
func TestTwoHealthChecksAtOnceRecordOneChange(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	p := newPractice(t, st, "A81001")
	connect(t, st, p)
	release, blocker := holdRow(t, st, `SELECT id FROM practices WHERE id = ? FOR UPDATE`, p.ID)
	results := make(chan error, 2)
	for range 2 {
		go func() {
			results <- st.RecordHealth(ctx, store.HealthUpdate{PracticeID: p.ID, Status: store.HealthDegraded, Reason: "EMIS slow"})
		}()
	}
	waitForLockWait(t, st, 2)
	release()
	must(t, <-blocker)
	must(t, <-results)
	must(t, <-results)
	hist, err := st.HealthHistory(ctx, p.ID, 10)
	must(t, err)
	degraded := 0
	for _, h := range hist {
		if h.Status == store.HealthDegraded {
			degraded++
		}
	}
	if degraded != 1 {
		t.Fatalf("two identical checks at once left %d 'degraded' events, want 1: %+v", degraded, hist)
	}
}

// Two sync passes of one practice at once (two instances before the per-practice sync lease,
// or a pass that outlived its lease): a change EMIS made once reaches the feed once.
func TestTwoSyncPassesOfOnePracticeRecordAChangeOnce(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	st.SetClock(func() time.Time { return epoch })
	f := setUp(t, st, "A81001")
	diary(t, st, f.practice.ID, 1, slot(1, 0), slot(1, 1))
	release, blocker := holdRow(t, st, `SELECT slot_id FROM diary_slots WHERE practice_id = ? AND slot_id = 1000 FOR UPDATE`, f.practice.ID)
	booked := slot(1, 0)
	booked.Status, booked.PatientID = "Booked", 77
	results := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := st.ApplyDiary(ctx, store.DiaryDiff{PracticeID: f.practice.ID, Slots: map[int64][]store.SlotRow{901: {booked, slot(1, 1)}}})
			results <- err
		}()
	}
	waitForLockWait(t, st, 2)
	release()
	must(t, <-blocker)
	must(t, <-results)
	must(t, <-results)
	feed, err := st.DiaryChangesAfter(ctx, 0, 10)
	must(t, err)
	if len(feed) != 1 {
		t.Fatalf("reception's one booking reached the feed %d times: %+v", len(feed), feed)
	}
}

// Two write-back workers asking for one booking's lease at once: exactly one gets it.
func TestTwoWorkersAskingForOneLeaseAtOnceOneGetsIt(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	st.SetClock(func() time.Time { return epoch })
	f := setUp(t, st, "A81001")
	must(t, insertHold(t, st, hold(f.practice, "apt_1", 1, 0)))
	release, blocker := holdRow(t, st, `SELECT id FROM appointments WHERE id = ? FOR UPDATE`, "apt_1")
	results := make(chan bool, 2)
	for _, token := range []string{"worker-a", "worker-b"} {
		go func() {
			ok, err := st.LeaseAppointment(ctx, "apt_1", token, time.Minute)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		}()
	}
	waitForLockWait(t, st, 2)
	release()
	must(t, <-blocker)
	if a, b := <-results, <-results; a == b {
		t.Fatalf("two workers asking at once: got %v and %v, want exactly one lease", a, b)
	}
}

// The deterministic sibling: a claim of the key is in flight (the test's own uncommitted row)
// when two requests with it arrive; when it goes away, exactly one of them runs.
func TestTwoRequestsWaitingOnOneIdempotencyKeyRunOnce(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenPostgres(t)
	st.SetClock(func() time.Time { return epoch })
	p := newPractice(t, st, "A81001")
	must(t, st.CreateAPIKey(ctx, apiKey(p.PracticeGroupID, "key1"), auditOf("k")))
	held, stop, blocker := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	release := func() { once.Do(func() { close(stop) }) }
	t.Cleanup(release)
	go func() {
		blocker <- st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (api_key_id, idem_key, request_hash, lease_until, created_at, expires_at)
				VALUES ('key1', 'idem-1', 'other', 0, 0, ?)`, epoch.Add(time.Hour).UnixMilli()); err != nil {
				return err
			}
			close(held)
			<-stop
			return errors.New("the in-flight claim goes away")
		})
	}()
	<-held
	type result struct {
		started bool
		err     error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			_, started, err := st.BeginIdempotent(ctx, "key1", "idem-1", "req", time.Minute, time.Hour)
			results <- result{started, err}
		}()
	}
	waitForLockWait(t, st, 2)
	release()
	<-blocker
	a, b := <-results, <-results
	if a.err != nil || b.err != nil || a.started == b.started {
		t.Fatalf("two requests with one key once the claim went away: started %v (%v) and %v (%v); want exactly one run, no error",
			a.started, a.err, b.started, b.err)
	}
}
