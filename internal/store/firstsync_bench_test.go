package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// firstSyncDiff is a practice's first sync as the sync writes it: 10 working days of 10
// sessions of 18 slots (1,800 slots), a third booked.
func firstSyncDiff(pid int64) store.DiaryDiff {
	d := store.DiaryDiff{PracticeID: pid, Full: true, FirstSyncDone: true, Slots: map[int64][]store.SlotRow{}}
	for day := range 10 {
		for s := range 10 {
			sid := int64(day*100 + s + 1)
			start := epoch.AddDate(0, 0, day).Add(time.Duration(8*60+s*3) * time.Minute)
			d.Upsert = append(d.Upsert, store.SessionRow{ID: sid, Date: start.Format(time.DateOnly), StartAt: start,
				EndAt: start.Add(180 * time.Minute), SlotLength: 10, Name: "Morning surgery", SiteID: 501,
				HolderIDs: []int64{int64(600 + s)}, Hash: fmt.Sprint("h", sid)})
			slots := make([]store.SlotRow, 18)
			for n := range slots {
				slots[n] = store.SlotRow{ID: sid*1000 + int64(n), SessionID: sid, StartAt: start.Add(time.Duration(n) * 10 * time.Minute),
					LengthMin: 10, TypeID: 1 + n%3, Status: "Available"}
				if n%3 == 0 {
					slots[n].Status, slots[n].PatientID = "Booked", int64(5000+n)
				}
			}
			d.Slots[sid] = slots
		}
	}
	return d
}

// BenchmarkFirstSyncOfAPractice writes one practice's first sync (1,800 slots) a loop: the
// write that bounds the first sync of thousands of practices on SQLite's one writer.
func BenchmarkFirstSyncOfAPractice(b *testing.B) {
	st := storetest.Open(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		p, err := st.EnsurePractice(ctx, fmt.Sprintf("B%05d", i), 100000+i, "Bench practice")
		if err != nil {
			b.Fatal(err)
		}
		d := firstSyncDiff(p.ID)
		b.StartTimer()
		if _, err := st.ApplyDiaryPass(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPassThatChangesASlot applies the pass that follows a reception booking: one
// session's summary and its 18 slots, one of them now booked, over a store of 50 practices.
// Reading the session's stored slots to compare was the largest part of such a pass on
// SQLite at 7,000 practices.
func BenchmarkAPassThatChangesASlot(b *testing.B) {
	st := storetest.Open(b)
	ctx := context.Background()
	const practices = 50
	var ids []int64
	for i := range practices {
		p, err := st.EnsurePractice(ctx, fmt.Sprintf("B%05d", i), 100000+i, "Bench practice")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.ApplyDiaryPass(ctx, firstSyncDiff(p.ID)); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	full := firstSyncDiff(0)
	i := 0
	for b.Loop() {
		b.StopTimer()
		pid := ids[i%practices]
		session := full.Upsert[(i/practices)%len(full.Upsert)]
		slots := append([]store.SlotRow(nil), full.Slots[session.ID]...)
		// Each visit of a session flips the same slot: booked one visit, back the next.
		if n := 1 + int(session.ID)%17; (i/practices/len(full.Upsert))%2 == 0 {
			if slots[n].Status == "Available" {
				slots[n].Status, slots[n].PatientID = "Booked", int64(9000+i)
			} else {
				slots[n].Status, slots[n].PatientID = "Available", 0
			}
		}
		version, err := st.DiaryVersion(ctx, pid)
		if err != nil {
			b.Fatal(err)
		}
		session.Hash = fmt.Sprint("h", session.ID, "-", i)
		d := store.DiaryDiff{PracticeID: pid, Upsert: []store.SessionRow{session},
			Slots: map[int64][]store.SlotRow{session.ID: slots}, VersionRead: version}
		b.StartTimer()
		applied, err := st.ApplyDiaryPass(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		if len(applied.Changes) != 1 {
			b.Fatalf("pass %d changed %d slots, want 1", i, len(applied.Changes))
		}
		i++
	}
}
