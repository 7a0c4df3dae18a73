package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"herolink/internal/slotsync"
	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Steady operation has each session's slots last read at some point of its refresh age (up to
// three quarters of it, when nearly-due refreshes are brought forward); the benchmark's steady
// refreshes depend on the dates being spread that way, per session date.
func TestSteadyRefreshesDateEachSessionsLastSlotReadOverItsRefreshAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		p, err := st.EnsurePractice(ctx, "A81001", 90001, "Steady Practice")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		const nearEnd = "2026-12-09"
		insert := func(id int64, date string, read any) {
			t.Helper()
			_, err := st.DBQ().ExecContext(ctx, `INSERT INTO diary_sessions (practice_id, session_id, date, start_at, end_at,
				slot_length, name, site_id, holder_ids, summary_hash, slots_synced_at) VALUES (?, ?, ?, 0, 0, 10, 'Clinic', 1, '1', 'h', ?)`,
				p.ID, id, date, read)
			if err != nil {
				t.Fatal(err)
			}
		}
		const each = 400
		for i := range int64(each) {
			insert(i, "2026-12-0"+fmt.Sprint(5+i%5), now.UnixMilli()) // the near-term days, its last included
			insert(1000+i, "2026-12-1"+fmt.Sprint(i%10), now.UnixMilli())
		}
		for i := range int64(20) {
			insert(5000+i, "2026-12-07", nil) // slots never read: nothing to refresh
		}
		version, err := st.DiaryVersion(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}

		h := &herolinkUnderTest{store: st}
		n, err := h.spreadSlotReads(ctx, now, nearEnd)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2*each {
			t.Errorf("dated %d sessions, want the %d whose slots were read", n, 2*each)
		}
		if v, err := st.DiaryVersion(ctx, p.ID); err != nil || v != version {
			t.Errorf("the diary version moved from %d to %d (%v): an engine would read the dates again anyway, and the measurement would not be of what herolink does", version, v, err)
		}

		rows, err := st.DBQ().QueryContext(ctx, `SELECT date, slots_synced_at FROM diary_sessions WHERE practice_id = ?`, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var nearAges, laterAges []time.Duration
		var unread int
		for rows.Next() {
			var date string
			var read *int64
			if err := rows.Scan(&date, &read); err != nil {
				t.Fatal(err)
			}
			if read == nil {
				unread++
				continue
			}
			age := now.Sub(time.UnixMilli(*read))
			if date <= nearEnd {
				nearAges = append(nearAges, age)
			} else {
				laterAges = append(laterAges, age)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if unread != 20 {
			t.Errorf("%d sessions never read, want 20: a session whose slots were never read has nothing to refresh", unread)
		}
		check := func(what string, ages []time.Duration, refreshAge time.Duration) {
			t.Helper()
			refreshAge = slotsync.NearlyDue(refreshAge) // from there a pass reading slots anyway refreshes it
			if len(ages) != each {
				t.Fatalf("%d %s sessions, want %d", len(ages), what, each)
			}
			var sum time.Duration
			older := 0
			for _, a := range ages {
				if a < 0 || a >= refreshAge {
					t.Fatalf("a %s session's slots dated %s ago, want within three quarters of its refresh age, %s", what, a, refreshAge)
				}
				sum += a
				if a > refreshAge/2 {
					older++
				}
			}
			// Uniform over the age: mean half of it, half the sessions in each half (400 draws: the
			// bounds are over six standard deviations wide).
			if mean := sum / time.Duration(len(ages)); mean < refreshAge*4/10 || mean > refreshAge*6/10 {
				t.Errorf("%s sessions' slots dated %s ago on average, want about half their refresh age %s", what, mean, refreshAge)
			}
			if older < each*35/100 || older > each*65/100 {
				t.Errorf("%d of %d %s sessions older than half their refresh age, want about half", older, each, what)
			}
		}
		check("near-term", nearAges, slotsync.DefaultRefreshNear)
		check("later", laterAges, slotsync.DefaultRefreshFar)
	})
}

func TestRunSyncWithSteadyRefreshesRestartsTheSchedulerAndStillSeesTheChanges(t *testing.T) {
	exe := testExe(t)
	if testing.Short() {
		t.Skip("runs the sync against a sandbox child for about 10 seconds")
	}
	t.Setenv("TMPDIR", t.TempDir())
	opts := smallSync(exe)
	opts.Duration = 3 * time.Second
	res, err := RunSync(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Refreshes != RefreshesSteady || res.RefreshBackdateS != 0 {
		t.Errorf("refreshes %q, backdated %v s; want steady by default, nothing backdated", res.Refreshes, res.RefreshBackdateS)
	}
	if res.SpreadSessions == 0 || res.SettleS <= 0 {
		t.Errorf("no session dated (%d) or no settling after the restart (%v s)", res.SpreadSessions, res.SettleS)
	}
	// The dates moved no diary version: only an engine that forgot its copies and memos reads
	// them, with each practice's first pass after the restart.
	if res.SettleStoreReads < 3 {
		t.Errorf("%d passes of the settling read the stored sessions, want one a practice at least: the engine kept its copies and never saw the new dates", res.SettleStoreReads)
	}
	if res.FirstSyncDone != 3 || res.Changes < 2 || res.Unobserved != 0 || res.FullPasses == 0 || res.FailedPasses != 0 {
		t.Errorf("after the restart the sync did not keep up: %+v", res)
	}
	if _, err := RunSync(t.Context(), SyncOptions{Practices: 1, Duration: time.Second, Refreshes: "sometimes"}); err == nil || !strings.Contains(err.Error(), `not "sometimes"`) {
		t.Errorf("an unknown way of refreshing gave %v, want it refused by name", err)
	}
}
