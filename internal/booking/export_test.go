package booking

import (
	"context"

	"herolink/internal/store"
)

// HasEMISWork exposes to tests whether the write-back has something to do for a row, so they
// can check the sweep's SQL (store.AppointmentsNeedingEMIS) selects exactly those rows.
func (s *Service) HasEMISWork(a store.AppointmentRow) bool { return s.goalOf(a) != goalNothingToDo }

// WithBeforeWrite makes the write-back run hook just before it fences each EMIS write.
func WithBeforeWrite(ctx context.Context, hook func()) context.Context {
	return context.WithValue(ctx, beforeFenceKey{}, hook)
}

// HoldRow is the row a hold on the request's slot would be (as Reserve builds it).
func (s *Service) HoldRow(ctx context.Context, group, owner string, r ReserveRequest) (store.AppointmentRow, error) {
	row, _, err := s.newHold(ctx, group, owner, r)
	return row, err
}

// HoldAgain writes a hold of a group that failed with groupErr alone, as the hold groups do.
func (s *Service) HoldAgain(ctx context.Context, row store.AppointmentRow, groupErr error) (store.AppointmentRow, error) {
	return s.holdAgain(ctx, row, groupErr)
}

// WithOwnHoldReadsFailing makes holdAgain's read of a hold's own row fail with err for
// requests of ctx.
func WithOwnHoldReadsFailing(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, ownHoldReadKey{}, err)
}

// WithHoldsCommitted makes every commit of holds for requests of ctx run hook with the number
// of holds committed together and the commit's error, and answer what hook answers.
func WithHoldsCommitted(ctx context.Context, hook func(n int, err error) error) context.Context {
	return context.WithValue(ctx, holdsCommittedKey{}, hook)
}

// HoldWritesQueued is how many holds wait for a group to write them.
func (s *Service) HoldWritesQueued() int {
	s.holdWrites.mu.Lock()
	defer s.holdWrites.mu.Unlock()
	return len(s.holdWrites.queue)
}
