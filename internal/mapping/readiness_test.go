package mapping_test

import (
	"context"
	"strings"
	"testing"

	"herolink/internal/mapping"
	"herolink/internal/store"
)

func item(t *testing.T, r mapping.Readiness, key string) mapping.Item {
	t.Helper()
	for _, it := range r.Items {
		if it.Key == key {
			return it
		}
	}
	t.Fatalf("no readiness item %q in %+v", key, r.Items)
	return mapping.Item{}
}

func keys(items []mapping.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

func TestReadinessListsWhatIsMissingUntilBookingsCanFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	r, err := b.svc.Readiness(ctx, b.practiceID)
	must(t, err)
	if r.Ready || len(r.Items) != 6 {
		t.Fatalf("fresh practice: %+v", r)
	}
	want := []string{mapping.ItemPractitioners, mapping.ItemLocations, mapping.ItemUnregistered, mapping.ItemBookable, mapping.ItemFirstSync}
	if got := keys(r.Missing()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("missing %v, want %v (the practice is connected)", got, want)
	}
	for _, it := range r.Items {
		if it.Done != (it.ToDo == "") || it.Title == "" {
			t.Fatalf("item %+v: a title always, and something to do exactly when not done", it)
		}
	}
	if it := item(t, r, mapping.ItemPractitioners); !strings.Contains(it.ToDo, "Refresh from EMIS") {
		t.Fatalf("before any refresh: %+v", it)
	}

	_, err = b.svc.ImportFromEMIS(ctx, who, b.practiceID)
	must(t, err)
	r, _ = b.svc.Readiness(ctx, b.practiceID)
	if got := keys(r.Missing()); strings.Join(got, ",") != "unregistered_slot_type,bookable_slot_type,first_sync" {
		t.Fatalf("after import, missing %v", got)
	}
	if it := item(t, r, mapping.ItemBookable); !strings.Contains(it.ToDo, "Bookable") {
		t.Fatalf("bookable item: %+v", it)
	}

	_, err = b.svc.SetFeature(ctx, who, b.practiceID, heroType, store.FeatureUnregistered)
	must(t, err)
	_, err = b.svc.SetFeature(ctx, who, b.practiceID, 1, store.FeatureBookable)
	must(t, err)
	r, _ = b.svc.Readiness(ctx, b.practiceID)
	if got := keys(r.Missing()); strings.Join(got, ",") != "first_sync" {
		t.Fatalf("after features, missing %v", got)
	}

	// The first sync in progress, then done.
	_, err = b.store.DBQ().ExecContext(ctx, `INSERT INTO sync_state (practice_id, progress_done, progress_total) VALUES (?, 12, 80)`, b.practiceID)
	must(t, err)
	r, _ = b.svc.Readiness(ctx, b.practiceID)
	if it := item(t, r, mapping.ItemFirstSync); it.Done || !strings.Contains(it.ToDo, "12 of 80 sessions") {
		t.Fatalf("first sync running: %+v", it)
	}
	_, err = b.store.DBQ().ExecContext(ctx, `UPDATE sync_state SET first_sync_done = 1 WHERE practice_id = ?`, b.practiceID)
	must(t, err)
	r, _ = b.svc.Readiness(ctx, b.practiceID)
	if !r.Ready || len(r.Missing()) != 0 {
		t.Fatalf("not ready: %+v", r.Missing())
	}

	// The connection fails: not ready, and the item says why.
	must(t, b.store.RecordHealth(ctx, store.HealthUpdate{PracticeID: b.practiceID, Status: store.HealthFailing,
		Reason: "EMIS says the user has no access to Hero Health"}))
	r, _ = b.svc.Readiness(ctx, b.practiceID)
	if it := item(t, r, mapping.ItemConnection); r.Ready || it.Done || !strings.Contains(it.ToDo, "no access to Hero Health") {
		t.Fatalf("failing connection: ready %v, %+v", r.Ready, it)
	}
}

func TestReadinessOfAPracticeNeverConnectedSaysConnectFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, err := b.store.EnsurePractice(context.Background(), "B82099", 99, "Unconnected Surgery")
	must(t, err)
	r, err := b.svc.Readiness(context.Background(), p.ID)
	must(t, err)
	if it := item(t, r, mapping.ItemConnection); it.Done || !strings.Contains(it.ToDo, "connection form") {
		t.Fatalf("connection item: %+v", it)
	}
	_, err = b.svc.Readiness(context.Background(), 4242)
	mustRefuse(t, err, mapping.ErrNotFound, "")
}
