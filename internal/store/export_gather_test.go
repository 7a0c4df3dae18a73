package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// GatherFor makes the store's batched calls (diary versions, unchanged passes, writes) wait d
// for others to join, every batch, so that a test's concurrent calls surely meet.
func (s *Store) GatherFor(d time.Duration) {
	s.versions.waitEvery(d)
	s.unchanged.waitEvery(d)
	s.writes.waitEvery(d)
}

func (g *gatherer[In, Out]) waitEvery(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.window, g.lonely, g.skip = d, 0, 0
}

// CountCommits counts, from now on, the transactions SQLite's writing connection commits (its
// commit hook), statements outside a transaction included.
func (s *Store) CountCommits(t testing.TB) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	c, err := s.db.sql.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Raw(func(dc any) error {
		h, ok := dc.(sqlite.HookRegisterer)
		if !ok {
			return fmt.Errorf("%T registers no hooks", dc)
		}
		h.RegisterCommitHook(func() int32 { n.Add(1); return 0 })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}
