package store_test

import (
	"context"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// A sync pass that changes slots, under its lease, on PostgreSQL: its reads (the fence, the
// diary version, the first-sync flag) in one round trip, the stored slots of its sessions in a
// second, its writes and the version they leave in a third, then COMMIT. Each read and each
// kind of write on its own took eleven: at 7,000 practices, thousands of passes a minute each
// paid for every one of them in system calls and wake-ups.
func TestASyncPassThatChangesSlotsTakesFourRoundTripsOnPostgreSQL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := storetest.URL(t)
	migrated, err := store.OpenPostgres(ctx, url)
	must(t, err)
	must(t, migrated.Migrate(ctx)) // needs more than the one connection counted below
	migrated.Close()
	st, rt, err := store.OpenPostgresCounting(ctx, url)
	must(t, err)
	defer st.Close()
	p, fenceA, _ := firstSyncedByA(t, st)
	book := func(n int, patient int64) store.SlotRow {
		s := slot(1, n)
		if patient != 0 {
			s.Status, s.PatientID = "Booked", patient
		}
		return s
	}
	pass := func(slots map[int64][]store.SlotRow) store.DiaryApplied {
		t.Helper()
		v, err := st.DiaryVersion(ctx, p)
		must(t, err)
		rt.Reset()
		applied, err := st.ApplyDiaryPass(ctx, store.DiaryDiff{PracticeID: p, Full: true, VersionRead: v, Fence: fenceA, Slots: slots})
		must(t, err)
		return applied
	}
	// The first such pass prepares its statements on the connection.
	pass(map[int64][]store.SlotRow{901: {book(0, 0), book(1, 6001)}, 902: {}})
	// Then reception books 1000 and cancels 1001.
	applied := pass(map[int64][]store.SlotRow{901: {book(0, 6002), book(1, 0)}})
	if n := rt.Count(); n != 4 {
		t.Errorf("a pass changing two slots took %d round trips; want 4 (reads, stored slots, writes, COMMIT)", n)
	}
	if len(applied.Changes) != 2 || applied.Version < 0 {
		t.Errorf("the pass applied %+v; want two changes and the version it left", applied)
	}
}
