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
