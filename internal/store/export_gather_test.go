package store

import "time"

// GatherFor makes the store's batched calls (diary versions, unchanged passes) wait d for
// others to join, so that a test's concurrent calls surely meet.
func (s *Store) GatherFor(d time.Duration) { s.versions.window, s.unchanged.window = d, d }
