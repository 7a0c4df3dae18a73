package booking

import "herolink/internal/store"

// HasEMISWork exposes to tests whether the write-back has something to do for a row, so they
// can check the sweep's SQL (store.AppointmentsNeedingEMIS) selects exactly those rows.
func (s *Service) HasEMISWork(a store.AppointmentRow) bool { return s.goalOf(a) != goalNothingToDo }
