package slotsync_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"herolink/internal/emis"
	"herolink/internal/emis/sandbox"
	"herolink/internal/slotsync"
	"herolink/internal/store"
)

// The practice's active slot types are read again only when its diary version moves, and a
// change of slot type features, which moves it, is followed by the very next pass.
func TestSlotTypeFeaturesAreReadOnceAVersionAndAChangeIsFollowedAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, tuesday, 0)
	b.store.SetClock(b.clock.Now)
	ctx := context.Background()
	var reads atomic.Int32
	stored := slotsync.StoredActiveTypes(b.store)
	b.engine.ActiveTypes = func(ctx context.Context, id int64) ([]int, error) {
		reads.Add(1)
		return stored(ctx, id)
	}
	// EMIS's slot types, as the mapping page saves them; no features set yet: every type.
	typeIDs, audit := b.saveEMISSlotTypes(t)

	if res := b.sync(t); res.SlotsRead == 0 || reads.Load() != 1 {
		t.Fatalf("first sync: %+v, %d reads of the active types", res, reads.Load())
	}
	// Every session's slots fall due for a refresh; nothing else changed: the types read at
	// this version stand.
	b.clock.Advance(3 * time.Hour)
	if res := b.sync(t); res.Refreshed == 0 || reads.Load() != 1 {
		t.Fatalf("refresh pass: %+v, %d reads of the active types; want the first one only", res, reads.Load())
	}

	// Staff make every type Not Bookable, and reception books a slot: the next pass reads the
	// types again and, none being active, reads no slots.
	for _, id := range typeIDs {
		if err := b.store.SetSlotTypeFeature(ctx, b.practiceID, id, store.FeatureNotBookable, nil, audit); err != nil {
			t.Fatal(err)
		}
	}
	sl := b.firstSlot(t, free)
	if _, err := b.demo.ReceptionBook(sandbox.BookInput{SlotID: sl.DBID, PatientID: 9001}); err != nil {
		t.Fatal(err)
	}
	res := b.sync(t)
	if reads.Load() != 2 {
		t.Fatalf("after the features changed: %d reads of the active types, want 2", reads.Load())
	}
	if res.SlotsRead != 0 {
		t.Fatalf("no type is active, yet the pass read %d slot lists: %+v", res.SlotsRead, res)
	}
	if got, _ := b.storedSlot(t, sl.DBID); got.Status == emis.SlotBooked {
		t.Fatalf("a slot of a type no longer synced was read: %+v", got)
	}
}

// saveEMISSlotTypes saves the slot types EMIS's diary uses as the mapping page does, with no
// feature set yet (every type synced), and returns their ids in order and the audit entry
// staff changes are recorded under.
func (b *testBundle) saveEMISSlotTypes(t *testing.T) ([]int, store.AuditEntry) {
	t.Helper()
	var cfg store.EMISConfiguration
	var ids []int
	for _, s := range b.emisSessions(t) {
		for _, c := range s.SlotTypes {
			if !slices.Contains(ids, c.TypeID) {
				ids = append(ids, c.TypeID)
				cfg.SlotTypes = append(cfg.SlotTypes, store.EMISSlotType{EMISID: c.TypeID, Name: c.Description, EMISBookable: true})
			}
		}
	}
	slices.Sort(ids)
	audit := store.AuditEntry{At: b.clock.Now(), Actor: "test", Action: "mapping", PracticeID: b.practiceID}
	if _, err := b.store.SaveEMISConfiguration(context.Background(), b.practiceID, cfg, audit); err != nil {
		t.Fatal(err)
	}
	return ids, audit
}
