package sandbox

import (
	"hash/fnv"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"herolink/internal/emis"
)

// heapSessionView is what a session list answers for d, made the plain way: each day on the
// heap (dayLocked), sorted by start and index.
func heapSessionViews(o *Org, from, to emis.Date) []SessionView {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []SessionView
	for d := from; !to.Before(d); d = d.AddDays(1) {
		ss := slices.Clone(o.dayLocked(d).Sessions)
		slices.SortStableFunc(ss, func(x, y *DiarySession) int {
			if x.Start != y.Start {
				return x.Start - y.Start
			}
			return x.Index - y.Index
		})
		for _, s := range ss {
			out = append(out, SessionView{Session: o.wireSessionLocked(d, s), Slots: o.wireSlotsLocked(d, s)})
		}
	}
	return out
}

// Session lists make generated days in a pooled arena: a list read after lists of other
// practices, with days changed at reception (partial days) and a session added (a stored
// day), must be exactly what the days made on the heap say, slot by slot.
func TestASessionListIsTheSameAfterListsOfOtherPractices(t *testing.T) {
	w := New(Options{Seed: 11, Practices: 4, NoDemo: true})
	orgs := w.Orgs()
	from, to := w.Today().AddDays(-3), w.Today().AddDays(17)

	// Practice 0: two reception bookings on its next weekday and a session added the day after.
	o := orgs[0]
	d, ids := firstFreeSlots(t, o, 2)
	for i, id := range ids {
		if _, err := o.ReceptionBook(BookInput{SlotID: id, PatientID: emisNumber(i + 1), Reason: "Review", BookedBy: "Reception"}); err != nil {
			t.Fatal(err)
		}
	}
	o.mu.Lock()
	h := o.Holders[0]
	o.mu.Unlock()
	if _, err := o.AddSession(SessionInput{Date: d.AddDays(1).String(), StartTime: "18:00", EndTime: "19:00",
		SlotLength: 10, SiteID: h.SiteID, HolderID: h.ID, SlotTypeID: 1, Name: "Evening extra"}); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		for _, o := range append(slices.Clone(orgs), orgs[0]) {
			got, err := o.ListSessions(from, to, true)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(heapSessionViews(o, from, to), got); diff != "" {
				t.Fatalf("round %d, %s: the list differs from its days made on the heap (-heap +list):\n%s", round, o.ODS, diff)
			}
		}
	}
}

// seedFor is FNV-1a written out; it must be hash/fnv's, or every generated diary would change.
func TestGeneratedSeedsAreFNV1aOfTheirParts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		parts := rapid.SliceOfN(rapid.Uint64(), 0, 6).Draw(t, "parts")
		h := fnv.New64a()
		for _, p := range append([]uint64{seed}, parts...) {
			var b [8]byte
			for i := range b {
				b[i] = byte(p >> (8 * i))
			}
			h.Write(b[:])
		}
		if got, want := seedFor(seed, parts), h.Sum64(); got != want {
			t.Fatalf("seedFor(%d, %v) = %x; FNV-1a is %x", seed, parts, got, want)
		}
	})
}
