package store

import (
	"context"
	"slices"
)

// FreeSlotsBySQL is FreeSlots as the SQL alone answers it: what the index must agree with.
func (s *Store) FreeSlotsBySQL(ctx context.Context, q FreeSlotQuery) ([]FreeSlot, error) {
	return s.freeSlots(ctx, q, nil)
}

// SetSlotIndexBudget changes how many candidate slots the index may hold.
func (s *Store) SetSlotIndexBudget(n int) {
	s.slots.mu.Lock()
	defer s.slots.mu.Unlock()
	s.slots.budget = n
}

// SlotIndexPractices lists the practices the index holds, in id order.
func (s *Store) SlotIndexPractices() []int64 {
	s.slots.mu.Lock()
	defer s.slots.mu.Unlock()
	var out []int64
	for id := range s.slots.practices {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
