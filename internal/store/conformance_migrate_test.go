package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// Several instances starting at once on one fresh PostgreSQL database all migrate it without
// error (the advisory lock makes them take turns), and every migration runs exactly once.
func TestInstancesStartingTogetherMigrateOnePostgreSQLDatabase(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t)
	const n = 4
	stores := make([]*store.Store, n)
	for i := range stores {
		st, err := store.OpenPostgres(ctx, url)
		must(t, err)
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			<-start
			errs[i] = st.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	must(t, err)
	var applied int
	must(t, stores[0].DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied))
	if want := migrationVersions(files); applied != want {
		t.Fatalf("%d migrations recorded, want %d", applied, want)
	}
	// And the schema works.
	if _, err := stores[1].EnsurePractice(ctx, "A81001", 1, "Riverside"); err != nil {
		t.Fatal(err)
	}
}

// Migrating twice (an instance restarting) finds nothing left to do, on either engine.
func TestMigratingAgainChangesNothing(t *testing.T) {
	ctx := context.Background()
	each(t, func(t *testing.T, st *store.Store, c *clock) {
		var before, after int
		must(t, st.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&before))
		must(t, st.Migrate(ctx))
		must(t, st.DBQ().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&after))
		entries, err := fs.Glob(os.DirFS("."), "migrations/*.sql")
		must(t, err)
		if want := migrationVersions(entries); before != want || after != before {
			t.Fatalf("migrations recorded: %d, then %d; want %d", before, after, want)
		}
	})
}

// migrationVersions counts migrations: an engine-specific pair (NNNN.sqlite.sql and
// NNNN.postgres.sql) is one.
func migrationVersions(files []string) int {
	seen := map[string]bool{}
	for _, f := range files {
		v := strings.TrimSuffix(filepath.Base(f), ".sql")
		v = strings.TrimSuffix(strings.TrimSuffix(v, ".sqlite"), ".postgres")
		seen[v] = true
	}
	return len(seen)
}
