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
