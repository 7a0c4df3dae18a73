package store_test

import (
	"context"
	"errors"
	"testing"

	"herolink/internal/store"
)

// Practitioners and locations are one shape through one set of methods: each kind maps a
// herolink record to an EMIS id once, refuses an id taken or unknown, and renames, unmaps and
// deletes alike.
func TestConformanceMappedRecordsOfEitherKindBehaveAlike(t *testing.T) {
	ctx := context.Background()
	kinds := []struct {
		name        string
		kind        store.MappedKind
		taken, free int64 // the set-up maps the first, leaves the second free
		errTaken    error
	}{
		{"practitioners", store.PractitionerRecords, 601, 602, store.ErrHolderTaken},
		{"locations", store.LocationRecords, 501, 502, store.ErrSiteTaken},
	}
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		f := setUp(t, st, "A81001")
		pid := f.practice.ID
		for _, k := range kinds {
			mapped, err := st.MappedRecordByEMIS(ctx, k.kind, pid, k.taken)
			must(t, err)
			if _, err := st.MappedRecordByEMIS(ctx, k.kind, pid, k.free); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: free EMIS id %d found: %v", k.name, k.free, err)
			}
			if _, err := st.CreateMappedRecord(ctx, k.kind, store.MappedRecord{PracticeID: pid, Name: "Twice", EMISID: k.taken}, auditOf("x")); !errors.Is(err, k.errTaken) {
				t.Fatalf("%s: a second record on %d: %v, want %v", k.name, k.taken, err, k.errTaken)
			}
			if _, err := st.CreateMappedRecord(ctx, k.kind, store.MappedRecord{PracticeID: pid, Name: "Nowhere", EMISID: 999}, auditOf("x")); !errors.Is(err, store.ErrNotInEMIS) {
				t.Fatalf("%s: an EMIS id never listed: %v, want ErrNotInEMIS", k.name, err)
			}
			m, err := st.CreateMappedRecord(ctx, k.kind, store.MappedRecord{PracticeID: pid, Name: "a first by name"}, auditOf("x"))
			must(t, err)
			list, err := st.MappedRecords(ctx, k.kind, pid)
			must(t, err)
			if len(list) != 2 || list[0].ID != m.ID || list[1].ID != mapped.ID {
				t.Fatalf("%s by name: %+v", k.name, list)
			}
			m.Name, m.EMISID = "Renamed", k.free
			got, err := st.UpdateMappedRecord(ctx, k.kind, m, auditOf("x"))
			must(t, err)
			if got.Name != "Renamed" || got.EMISID != k.free {
				t.Fatalf("%s updated: %+v", k.name, got)
			}
			if again, _ := st.MappedRecord(ctx, k.kind, pid, m.ID); again != got {
				t.Fatalf("%s reads back as %+v, want %+v", k.name, again, got)
			}
			m.EMISID = k.taken
			if _, err := st.UpdateMappedRecord(ctx, k.kind, m, auditOf("x")); !errors.Is(err, k.errTaken) {
				t.Fatalf("%s: moving onto a taken id: %v", k.name, err)
			}
			must(t, st.DeleteMappedRecord(ctx, k.kind, pid, m.ID, auditOf("x")))
			if _, err := st.MappedRecord(ctx, k.kind, pid, m.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s deleted still found: %v", k.name, err)
			}
			if err := st.DeleteMappedRecord(ctx, k.kind, pid, m.ID, auditOf("x")); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s deleted twice: %v", k.name, err)
			}
		}
	})
}
