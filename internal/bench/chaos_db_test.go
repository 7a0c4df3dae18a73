package bench

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestAPostgreSQLBenchRunsOnAFreshDatabaseOfItsOwnDroppedAfterwards(t *testing.T) {
	server := os.Getenv("HEROLINK_TEST_POSTGRES_URL")
	if server == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HEROLINK_TEST_POSTGRES_URL is not set")
		}
		t.Skip("HEROLINK_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	dbURL, drop, err := prepareBenchDatabase(ctx, server, "herolink_chaos")
	if err != nil {
		t.Fatal(err)
	}
	name := dbURL[strings.LastIndexByte(dbURL, '/')+1:]
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if !strings.HasPrefix(name, "herolink_chaos_") {
		t.Fatalf("database %q is not named herolink_chaos_<random>", name)
	}
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		drop()
		t.Fatal(err)
	}
	var tables int
	err = c.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables)
	c.Close(ctx)
	if err != nil || tables != 0 {
		drop()
		t.Fatalf("the fresh database holds %d tables (err %v), want none", tables, err)
	}
	drop()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var left int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("database %s is still there after drop", name)
	}
}

func TestABenchDatabaseURLThatIsNotPostgreSQLIsRefused(t *testing.T) {
	if _, _, err := prepareBenchDatabase(context.Background(), "mysql://127.0.0.1/x", "herolink_chaos"); err == nil {
		t.Fatal("a mysql:// URL was accepted")
	}
}
