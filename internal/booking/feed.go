package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"herolink/internal/emis"
	"herolink/internal/store"
)

const (
	feedName  = "booking"
	feedBatch = 500
)

// FollowDiary reads the sync's change feed and reflects on herolink's bookings what
// happened to them in EMIS: cancelled by reception, moved, or the slot removed. A suspected
// cancellation is confirmed by reading the slot back first, because a sync pass can see a
// moment of herolink's own write (a placeholder being converted). A change that cannot be
// confirmed now (the practice's EMIS is down) becomes a job of its own, so one practice never
// holds up the feed for the others. It returns how many changes it read.
func (s *Service) FollowDiary(ctx context.Context) (int, error) {
	after, err := s.Store.FeedCursor(ctx, feedName)
	if err != nil {
		return 0, err
	}
	changes, err := s.Store.DiaryChangesAfter(ctx, after, feedBatch)
	if err != nil {
		return 0, err
	}
	for i, c := range changes {
		if err := s.reflect(ctx, c); err != nil {
			s.log().Warn("EMIS change on a booking not confirmed yet; retrying as a job", "practice", c.PracticeID, "slot", c.SlotID, "err", err)
			if _, ierr := s.River.Insert(ctx, ReflectArgs{Change: c}, nil); ierr != nil {
				// Keep the cursor before this change: it is read again next time.
				if i > 0 {
					_ = s.Store.SetFeedCursor(ctx, s.Store.DBQ(), feedName, changes[i-1].Seq)
				}
				return i, ierr
			}
		}
	}
	if len(changes) > 0 {
		return len(changes), s.Store.SetFeedCursor(ctx, s.Store.DBQ(), feedName, changes[len(changes)-1].Seq)
	}
	return 0, nil
}

// settled says whether herolink has finished writing a booking, so that a change EMIS shows
// on its slot is someone else's doing.
func settled(a store.AppointmentRow) bool {
	if a.WriteUnknown {
		return false
	}
	switch a.State {
	case string(StateBooked):
		return a.EMISWritten == "appointment" || a.MatchRule == RuleBookedInEMIS
	case string(StatePlaceholder):
		return a.EMISWritten == "placeholder" && a.EMISPatientID == 0 // no conversion under way
	}
	return false
}

func (s *Service) reflect(ctx context.Context, c store.DiaryChange) error {
	a, err := s.Store.LiveAppointmentOnSlot(ctx, s.Store.DBQ(), c.PracticeID, c.SlotID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !settled(a) || c.At.Before(a.WrittenAt) {
		return nil // herolink is still writing it, or the change predates our write
	}
	unreg, err := s.Store.UnregisteredSlotTypeID(ctx, a.PracticeID)
	if err != nil {
		return err
	}
	external := a.MatchRule == RuleBookedInEMIS
	stillOurs := c.NewStatus != "" && ((a.State == string(StateBooked) && c.NewStatus == emis.SlotBooked && (external || c.NewPatient == a.EMISPatientID)) ||
		(a.State == string(StatePlaceholder) && c.NewStatus == emis.SlotAvailable && c.NewTypeID == unreg))
	if stillOurs {
		if c.Moved {
			return s.followMove(ctx, a)
		}
		return nil
	}
	conn, err := s.Conns.Conn(ctx, a.PracticeID)
	if err != nil {
		return fmt.Errorf("booking: confirm EMIS change on %s: %w", a.Reference, err)
	}
	st, sl, err := s.readSlot(ctx, conn, a, unreg)
	if err != nil {
		return err
	}
	if !(st == seenOurAppointment || st == seenOurPlaceholder || stillStands(sl, a)) {
		// Reception may have moved the appointment to another slot: follow it there (moved.go).
		if moved, err := s.followReceptionMove(ctx, conn, a, sl, unreg); err != nil || moved {
			return err
		}
	}
	return s.reflectSeen(ctx, a, st, sl)
}

// reflectSeen acts on what EMIS was just read to hold in a settled booking's slot: nothing if
// it is still ours (or reception's own appointment on a booked-in-EMIS placeholder), booked
// if reception gave a placeholder's time to a patient, otherwise cancelled. The diary feed
// and the verifier (verify.go) both end here.
func (s *Service) reflectSeen(ctx context.Context, a store.AppointmentRow, st seen, sl emis.Slot) error {
	external := a.MatchRule == RuleBookedInEMIS
	switch {
	case st == seenOurAppointment || st == seenOurPlaceholder || stillStands(sl, a):
		return nil
	case external && sl.Status == emis.SlotBooked:
		return nil // reception's appointment is still there
	case a.State == string(StatePlaceholder) && sl.Status == emis.SlotBooked && len(sl.Patients) > 0:
		// Reception gave the time to a patient in EMIS itself: the reconciliation happened
		// there. Who that patient is stays EMIS's business: herolink does not adopt it as its
		// own patient's record.
		return s.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := s.Store.RecordBookedInEMIS(ctx, tx, a.ID, RuleBookedInEMIS); err != nil {
				return ignoreChanged(err)
			}
			if err := s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.booked_in_emis", ""); err != nil {
				return err
			}
			return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.reconciled", ReconciledBookedInEMIS)
		})
	}
	// Cancelled, removed, blocked, or given to someone else: the booking no longer stands.
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.RecordCancelledInEMIS(ctx, tx, a.ID, a.State,
			store.Cancellation{By: "emis", Reason: "cancelled, removed or blocked in EMIS", At: s.now()}); err != nil {
			return ignoreChanged(err)
		}
		if sl.DBID == a.SlotID {
			// What EMIS holds there now, read a moment ago, so the copy offers the slot if free.
			if err := s.recordRead(ctx, tx, a.PracticeID, sl); err != nil {
				return err
			}
		}
		return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.cancelled", "emis")
	})
}

// ReflectArgs is a change of the diary feed that could not be confirmed with EMIS when it was
// read; the job confirms it with retries.
type ReflectArgs struct {
	Change store.DiaryChange `json:"change"`
}

// Kind names the job in River's table.
func (ReflectArgs) Kind() string { return "booking_reflect_change" }

// InsertOpts puts it on the write-back queue with the usual retries.
func (ReflectArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WritebackQueue, MaxAttempts: 25}
}

// ReflectWorker runs ReflectArgs.
type ReflectWorker struct {
	river.WorkerDefaults[ReflectArgs]
	Service *Service
}

// Work confirms the change.
func (w *ReflectWorker) Work(ctx context.Context, job *river.Job[ReflectArgs]) error {
	return w.Service.reflect(ctx, job.Args.Change)
}

func ignoreChanged(err error) error {
	if errors.Is(err, store.ErrStateChanged) {
		return nil
	}
	return err
}

// followMove copies a slot's new time from the synced diary onto the booking.
func (s *Service) followMove(ctx context.Context, a store.AppointmentRow) error {
	d, err := s.Store.DiarySlotByID(ctx, a.PracticeID, a.SlotID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if d.StartAt.Equal(a.StartAt) && d.LengthMin == a.LengthMin {
		return nil
	}
	return s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.Store.MoveBookingTime(ctx, tx, a.ID, d.StartAt, d.LengthMin); err != nil {
			return err
		}
		return s.Store.AddAppointmentEvent(ctx, tx, a.ID, "appointment.moved_in_emis", d.StartAt.UTC().Format(time.RFC3339))
	})
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
