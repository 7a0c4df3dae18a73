package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// indexDiary is the diary the index tests start from: 24 slots on day 1 (slots 1000-1023).
const indexSlots = 24

func indexDiary(t *testing.T, st *store.Store, pid int64, booked map[int]bool) {
	t.Helper()
	slots := make([]store.SlotRow, indexSlots)
	for n := range slots {
		slots[n] = slot(1, n)
		if booked[n] {
			slots[n].Status = "Booked"
		}
	}
	diary(t, st, pid, 1, slots...)
}

// execUnlessTaken runs an update the database may refuse because another live appointment
// holds the slot now (appointments_one_live_per_slot): refused, it changed nothing.
func execUnlessTaken(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	_, err := st.DBQ().ExecContext(context.Background(), q, args...)
	if err != nil && !strings.Contains(err.Error(), "UNIQUE constraint failed") && !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("%s: %v", q, err)
	}
}

// freeIDs is the slot ids of an answer.
func freeIDs(fs []store.FreeSlot) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.SlotID
	}
	return out
}

// Whatever happens to a practice's slots, through either of two instances, a search answered
// from either instance's index is the answer the SQL gives at that moment: a slot held, booked
// or taken at reception is never offered once herolink knows it, and a slot freed is offered.
func TestTheFreeSlotIndexAlwaysAgreesWithTheDatabaseAcrossTwoInstances(t *testing.T) {
	ctx := context.Background()
	storetest.EachPair(t, func(t *testing.T, a, b *store.Store) {
		f := setUp(t, a, "A81001")
		p := f.practice
		instances := []*store.Store{a, b}
		n := 0
		rapid.Check(t, func(rt *rapid.T) {
			// Each run starts from a quiet practice: every slot free, the type bookable.
			exec(t, a, `DELETE FROM appointments WHERE practice_id = ?`, p.ID)
			indexDiary(t, a, p.ID, nil)
			must(t, a.SetSlotTypeFeature(ctx, p.ID, 1, store.FeatureBookable, nil, auditOf("feature")))
			now := epoch
			var live []string // appointment ids that may still hold a slot
			steps := rapid.IntRange(1, 25).Draw(rt, "steps")
			for range steps {
				st := instances[rapid.IntRange(0, 1).Draw(rt, "writer")]
				switch op := rapid.IntRange(0, 7).Draw(rt, "op"); op {
				case 0, 1: // a partner holds a slot (refused if it is taken: that is fine)
					n++
					h := hold(p, fmt.Sprintf("apt_%d", n), 1, rapid.IntRange(0, indexSlots-1).Draw(rt, "slot"))
					h.ReservedUntil = now.Add(time.Duration(rapid.IntRange(1, 20).Draw(rt, "minutes")) * time.Minute)
					if insertHold(t, st, h) == nil {
						live = append(live, h.ID)
					}
				case 2, 3: // a live appointment moves on: booked, placeholder, expired, cancelled...
					if len(live) == 0 {
						continue
					}
					id := live[rapid.IntRange(0, len(live)-1).Draw(rt, "appointment")]
					switch rapid.IntRange(0, 5).Draw(rt, "to") {
					case 0:
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'confirming' WHERE id = ?`, id)
					case 1:
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'booked', emis_written = 'appointment' WHERE id = ?`, id)
					case 2:
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'placeholder', emis_written = 'placeholder' WHERE id = ?`, id)
					case 3:
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'expired' WHERE id = ? AND state = 'reserved'`, id)
					case 4: // cancelled, EMIS not yet told: still occupies the slot
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'cancelled', emis_written = 'appointment' WHERE id = ?`, id)
					case 5: // cancelled and undone in EMIS
						execUnlessTaken(t, st, `UPDATE appointments SET state = 'cancelled', emis_written = '', write_unknown = 0 WHERE id = ?`, id)
					}
				case 4: // reception books or frees slots in EMIS; the sync brings it
					booked := map[int]bool{}
					for range rapid.IntRange(0, 4).Draw(rt, "reception") {
						booked[rapid.IntRange(0, indexSlots-1).Draw(rt, "booked")] = true
					}
					indexDiary(t, st, p.ID, booked)
				case 5: // staff stop offering the slot type online, or offer it again
					feature := rapid.SampledFrom([]string{store.FeatureBookable, store.FeatureNotBookable}).Draw(rt, "feature")
					must(t, st.SetSlotTypeFeature(ctx, p.ID, 1, feature, nil, auditOf("feature")))
				case 6: // time passes: holds run out, slots start
					now = now.Add(time.Duration(rapid.IntRange(1, 30).Draw(rt, "advance")) * time.Minute)
				case 7: // a write that does not decide anything (the write-back's bookkeeping)
					if len(live) > 0 {
						exec(t, st, `UPDATE appointments SET emis_calls = emis_calls + 1 WHERE id = ?`, live[0])
					}
				}
				q := store.FreeSlotQuery{GroupID: p.PracticeGroupID, From: epoch, To: epoch.AddDate(0, 0, 3), Now: now,
					Limit: rapid.IntRange(1, indexSlots+1).Draw(rt, "limit")}
				if rapid.Bool().Draw(rt, "one slot") {
					q.SlotID = int64(1000 + rapid.IntRange(0, indexSlots-1).Draw(rt, "slot id"))
				}
				reader := instances[rapid.IntRange(0, 1).Draw(rt, "reader")]
				got, err := reader.FreeSlots(ctx, q)
				must(t, err)
				want, err := reader.FreeSlotsBySQL(ctx, q)
				must(t, err)
				if diff := cmp.Diff(freeIDs(want), freeIDs(got)); diff != "" {
					rt.Fatalf("the index answers differently from the database (-sql +index):\n%s", diff)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					rt.Fatalf("the index describes the slots differently (-sql +index):\n%s", diff)
				}
			}
		})
	})
}

// Holds taken at the same time on two instances, while both answer searches: a search that
// starts after a hold committed, on either instance, never offers that slot.
func TestASlotHeldOnOneInstanceIsNeverOfferedByAnotherAfterwards(t *testing.T) {
	ctx := context.Background()
	storetest.EachPair(t, func(t *testing.T, a, b *store.Store) {
		f := setUp(t, a, "A81001")
		p := f.practice
		indexDiary(t, a, p.ID, nil)
		instances := []*store.Store{a, b}
		q := store.FreeSlotQuery{GroupID: p.PracticeGroupID, From: epoch, To: epoch.AddDate(0, 0, 3), Now: epoch, Limit: 100}
		for _, st := range instances { // both indexes warm before the holds
			fs, err := st.FreeSlots(ctx, q)
			must(t, err)
			if len(fs) != indexSlots {
				t.Fatalf("before any hold: %d slots free, want %d", len(fs), indexSlots)
			}
		}

		var mu sync.Mutex
		held := map[int64]bool{} // slots whose hold has committed
		var wg sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 64)
		for w := range 4 { // holders: each slot once, alternately on a and b
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := w; n < indexSlots; n += 4 {
					h := hold(p, fmt.Sprintf("apt_%d", n), 1, n)
					if err := insertHold(t, instances[n%2], h); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					held[h.SlotID] = true
					mu.Unlock()
				}
			}()
		}
		var readers sync.WaitGroup
		for r := range 4 { // searchers on both instances, all the while
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					known := make(map[int64]bool, len(held))
					for s := range held {
						known[s] = true
					}
					mu.Unlock()
					fs, err := instances[r%2].FreeSlots(ctx, q)
					if err != nil {
						errs <- err
						return
					}
					for _, f := range fs {
						if known[f.SlotID] {
							errs <- fmt.Errorf("instance %d offered slot %d after its hold had committed", r%2, f.SlotID)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i, st := range instances {
			fs, err := st.FreeSlots(ctx, q)
			must(t, err)
			if len(fs) != 0 {
				t.Errorf("instance %d still offers %v with every slot held", i, freeIDs(fs))
			}
		}
	})
}

// The index keeps within its budget by dropping the practices searched least recently, and a
// dropped practice is read again, right, when next searched.
func TestTheFreeSlotIndexDropsThePracticesSearchedLeastRecently(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	var fixtures []fixture
	for _, ods := range []string{"A81001", "B82002", "C83003"} {
		f := setUp(t, st, ods)
		indexDiary(t, st, f.practice.ID, nil)
		fixtures = append(fixtures, f)
	}
	st.SetSlotIndexBudget(2 * indexSlots)
	search := func(f fixture) []int64 {
		fs, err := st.FreeSlots(ctx, store.FreeSlotQuery{GroupID: f.practice.PracticeGroupID, From: epoch, To: epoch.AddDate(0, 0, 3), Now: epoch, Limit: 100})
		must(t, err)
		return freeIDs(fs)
	}
	for _, f := range fixtures {
		if got := search(f); len(got) != indexSlots {
			t.Fatalf("%s: %d free, want %d", f.practice.ODS, len(got), indexSlots)
		}
	}
	if got := st.SlotIndexPractices(); !slices.Equal(got, []int64{fixtures[1].practice.ID, fixtures[2].practice.ID}) {
		t.Errorf("practices in the index after searching three with room for two: %v, want the last two searched", got)
	}
	must(t, insertHold(t, st, hold(fixtures[0].practice, "apt_dropped", 1, 0)))
	if got := search(fixtures[0]); len(got) != indexSlots-1 || got[0] != 1001 {
		t.Errorf("the dropped practice searched again: %v, want every slot but the held 1000", got)
	}
}
