package booking

import (
	"context"

	"herolink/internal/store"
)

// MatchAsReadEarlier runs the write-back's patient search for a row as a worker read it
// before something else changed the booking: the interleaving a test cannot time.
func (s *Service) MatchAsReadEarlier(ctx context.Context, a store.AppointmentRow) error {
	conn, err := s.Conns.Conn(ctx, a.PracticeID)
	if err != nil {
		return err
	}
	return s.match(ctx, conn, a)
}
