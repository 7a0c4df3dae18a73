package storetest_test

import (
	"context"
	"testing"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

func TestEachEngineMigratesAndAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if err := st.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Migrating twice finds nothing left to do.
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
