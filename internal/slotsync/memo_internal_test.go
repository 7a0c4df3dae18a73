package slotsync

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"herolink/internal/emis"
	"herolink/internal/store"
)

// What a pass proved of a practice's slot lists is kept only when it is still what is stored.
func TestSlotListsAreRememberedOnlyAfterAPassThatLeftThemAsRead(t *testing.T) {
	const practice = 7
	read := map[int64]uint64{901: 11, 902: 12}
	for _, tc := range []struct {
		name       string
		applied    store.DiaryApplied
		remembered bool
		want       bool
	}{
		{"a remembered pass that only wrote the lists it read", store.DiaryApplied{Version: 5}, true, true},
		{"a pass that took a slot from a session it did not read", store.DiaryApplied{Version: 5, Moved: true}, true, false},
		{"a pass with a session skipped or disagreeing", store.DiaryApplied{Version: 5}, false, false},
		{"a pass during which someone else wrote the diary", store.DiaryApplied{Version: -1}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Engine{}
			e.memo.putSlots(practice, 3, 4, map[int64]uint64{903: 13}, nil) // an earlier pass's, at version 4
			e.rememberSlots(practice, store.DiaryDiff{VersionRead: 4}, tc.applied, tc.remembered, read, nil)
			got := e.memo.appliedSlots(practice, 5)
			if (len(got.sums) != 0) != tc.want {
				t.Fatalf("lists remembered at version 5: %v, want any: %v", got.sums, tc.want)
			}
			if tc.want && (sumOf(got, 901) != 11 || sumOf(got, 902) != 12 || sumOf(got, 903) != 13 || len(got.sums) != 3) {
				t.Fatalf("remembered %v: want the pass's two lists and the earlier pass's", got.sums)
			}
			if !tc.want && len(e.memo.appliedSlots(practice, 4).sums) != 0 {
				t.Fatal("the earlier pass's lists are still offered at the version they were made at")
			}
		})
	}
}

// A pass over the whole horizon drops what it remembered of sessions EMIS no longer lists.
func TestAFullPassForgetsTheListsOfSessionsEMISNoLongerLists(t *testing.T) {
	e := &Engine{}
	e.memo.putSlots(7, 3, 4, map[int64]uint64{901: 1, 902: 2}, nil)
	e.rememberSlots(7, store.DiaryDiff{VersionRead: 4, Full: true}, store.DiaryApplied{Version: 6}, true,
		map[int64]uint64{903: 3}, map[int64]bool{902: true, 903: true})
	if got := e.memo.appliedSlots(7, 6); len(got.sums) != 2 || sumOf(got, 902) != 2 || sumOf(got, 903) != 3 {
		t.Fatalf("after a full pass listing 902 and 903: %v", got.sums)
	}
}

// A session's sum is found whatever order the passes recorded it in, and a later pass's
// replaces an earlier one's.
func TestASessionsSlotListSumIsTheLastOneRecorded(t *testing.T) {
	var ms memos
	ms.putSlots(7, 0, 1, map[int64]uint64{905: 5, 901: 1, 903: 3}, nil)
	ms.putSlots(7, 1, 2, map[int64]uint64{902: 2, 903: 33}, nil)
	got := ms.appliedSlots(7, 2)
	for id, want := range map[int64]uint64{901: 1, 902: 2, 903: 33, 905: 5} {
		if sum, ok := got.get(id); !ok || sum != want {
			t.Errorf("session %d: sum %d (%v), want %d", id, sum, ok, want)
		}
	}
	if _, ok := got.get(904); ok || len(got.sums) != 4 {
		t.Errorf("sums %v: want exactly 901, 902, 903 and 905", got.sums)
	}
}

func sumOf(s slotSums, id int64) uint64 {
	sum, _ := s.get(id)
	return sum
}

// A known summary hash is only ever the hash of the same bytes: over passes whose elements
// change, repeat, reorder and go, every hash is the stored form (the first half of the
// element's SHA-256, in hex), and exactly the elements the window's previous pass did not see
// are hashed.
func TestSessionHashesKnownFromThePreviousPassAreThoseOfTheSameBytes(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ms memos
		k := memoKey{practice: 3, full: true}
		pool := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 12), 1, 8).Draw(t, "elements")
		seen := map[string]bool{} // the previous pass's elements
		for pass := range rapid.IntRange(1, 6).Draw(t, "passes") {
			picks := rapid.SliceOfN(rapid.IntRange(0, len(pool)-1), 0, 10).Draw(t, fmt.Sprintf("pass %d", pass))
			h := ms.hasher(k, len(picks))
			want := 0
			for _, i := range picks {
				raw := emis.RawSession(pool[i])
				full := sha256.Sum256(raw)
				if got, exp := h.hash(raw), hex.EncodeToString(full[:16]); got != exp {
					t.Fatalf("pass %d: element %q hashed %s, want %s", pass, pool[i], got, exp)
				}
				if !seen[string(pool[i])] {
					want++
				}
			}
			if h.computed != want {
				t.Fatalf("pass %d hashed %d elements, want the %d its previous pass did not see", pass, h.computed, want)
			}
			ms.keepHashes(k, h)
			clear(seen)
			for _, i := range picks {
				seen[string(pool[i])] = true
			}
		}
	})
}
