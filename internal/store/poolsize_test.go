package store_test

import (
	"context"
	"net/url"
	"runtime"
	"testing"

	"herolink/internal/store"
	"herolink/internal/store/storetest"
)

// The pool is sized to the instance's cores (twice them, at least 4), not to a fixed number
// that a burst would open all at once on a small machine; the URL's pool_max_conns wins.
func TestAPostgreSQLPoolIsSizedToTheInstancesCoresUnlessTheURLSays(t *testing.T) {
	for _, c := range []struct{ cores, want int }{{1, 4}, {2, 4}, {3, 6}, {8, 16}} {
		if got := store.PoolSizeFor(c.cores); int(got) != c.want {
			t.Errorf("on %d cores the pool is %d connections; want %d", c.cores, got, c.want)
		}
	}
	if got, want := store.DefaultPoolSize(), store.PoolSizeFor(runtime.GOMAXPROCS(0)); got != want {
		t.Errorf("this instance's pool is %d connections; want %d, for its %d cores", got, want, runtime.GOMAXPROCS(0))
	}

	dsn := storetest.URL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "3")
	u.RawQuery = q.Encode()
	for _, c := range []struct {
		url  string
		want int32
	}{{dsn, store.DefaultPoolSize()}, {u.String(), 3}} {
		st, err := store.OpenPostgres(context.Background(), c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.PoolSize(); got != c.want {
			t.Errorf("pool of %d connections; want %d", got, c.want)
		}
		st.Close()
	}
}
