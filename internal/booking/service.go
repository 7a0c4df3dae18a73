package booking

import (
	"context"
	"log/slog"
	"time"

	"herolink/internal/emis"
	"herolink/internal/jobs"
	"herolink/internal/store"
)

// ConnSource gives the live EMIS connection of a practice.
type ConnSource interface {
	Conn(ctx context.Context, practiceID int64) (*emis.Conn, error)
}

// Service is the booking core the partner API and the admin pages call: holds, confirmation,
// cancellation and rescheduling, patients and matching. Writing into EMIS is the write-back
// worker's job (writeback.go), enqueued in the transaction that confirms.
type Service struct {
	Store *store.Store
	// River enqueues write-back jobs in the caller's transaction. Set after the River client
	// is built (the client's workers need the Service first).
	River jobs.Queue
	Conns ConnSource
	Log   *slog.Logger
	// HoldDuration overrides every practice's hold length when non-zero (benchmarks, tests).
	HoldDuration time.Duration
	// MatchDeadline is how long after confirmation the worker keeps trying to match the
	// patient through EMIS before it writes a placeholder instead (default 1 minute).
	MatchDeadline time.Duration
	// AlertAfter is how long a booking may stay confirming because EMIS does not answer
	// before staff are alerted (default 5 minutes).
	AlertAfter time.Duration
	// PlaceholderAlertAfter is how long a placeholder may wait for its patient to be linked
	// before the unregistered patient alert is raised for staff (default 10 minutes).
	PlaceholderAlertAfter time.Duration
	// RematchEvery is how often a placeholder's patient is searched for again in EMIS, so a
	// patient reception registers later is booked without staff (default 15 minutes).
	RematchEvery time.Duration
	// SyncHorizonDays is how many days of diary the sync keeps fresh (14 if zero): slot
	// searches wholly outside that window are refused with the window named.
	SyncHorizonDays int
	// BookedBy is the name EMIS shows as the booker.
	BookedBy string
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	cache   caches
	answers slotAnswers // slot search answers, encoded (slotscache.go)
	claims  slotClaims  // concurrent holds of one slot on this instance (slotclaims.go)
	// Holds arriving together read their slots in one query and commit in one transaction
	// (groups.go).
	holdReads  groups[store.SlotKey, store.Holdable]
	holdWrites groups[store.AppointmentRow, store.AppointmentRow]
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) matchDeadline() time.Duration {
	if s.MatchDeadline > 0 {
		return s.MatchDeadline
	}
	return time.Minute
}

func (s *Service) rematchEvery() time.Duration {
	if s.RematchEvery > 0 {
		return s.RematchEvery
	}
	return 15 * time.Minute
}

func (s *Service) alertAfter() time.Duration {
	if s.AlertAfter > 0 {
		return s.AlertAfter
	}
	return 5 * time.Minute
}
