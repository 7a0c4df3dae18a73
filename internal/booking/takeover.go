package booking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"herolink/internal/store"
)

// WatchOrphans resumes dead workers' write-backs every interval until ctx ends. Every
// instance runs it (app.Run), not only River's leader: the booking sweep is a periodic job that
// only the leader runs, and when the leader is the instance that died its bookings would wait
// for an election as well as for their leases.
func (s *Service) WatchOrphans(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.ResumeOrphans(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("resume write-backs of stopped workers", "err", err)
		}
	}
}

// ResumeOrphans gives a new job to every write-back whose worker died: River still lists the
// job as running (and so unique: the sweep's re-enqueue is skipped) until its rescuer gets to
// it, but the appointment's lease is free, which a live worker never lets happen for longer
// than orphanAfter. The new job, keyed by the dead one's id, takes the lease and reads back
// before writing, as any job after an unknown outcome does. When the dead job is rescued later
// it finds nothing left to do. Safety never rests on this guess: a worker that was alive after
// all is refused at its next write by the lease's token (lease.go).
func (s *Service) ResumeOrphans(ctx context.Context) error {
	res, err := s.River.JobList(ctx, river.NewJobListParams().Kinds(WritebackArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(1000))
	if err != nil {
		return fmt.Errorf("booking: list running write-backs: %w", err)
	}
	for _, j := range res.Jobs {
		// River stamps attempted_at with the real clock, whatever the service's clock says.
		if j.AttemptedAt == nil || time.Since(*j.AttemptedAt) < orphanAfter {
			continue
		}
		var args WritebackArgs
		if err := json.Unmarshal(j.EncodedArgs, &args); err != nil || args.AppointmentID == "" {
			continue
		}
		if resume, err := s.orphaned(ctx, args.AppointmentID); err != nil {
			return err
		} else if !resume {
			continue
		}
		ins, err := s.River.Insert(ctx, WritebackArgs{AppointmentID: args.AppointmentID, Takeover: j.ID}, nil)
		if err != nil {
			return fmt.Errorf("booking: resume write-back of %s: %w", args.AppointmentID, err)
		}
		if !ins.UniqueSkippedAsDuplicate {
			s.log().Info("resuming a write-back whose worker stopped", "appointment", args.AppointmentID, "dead_job", j.ID)
		}
	}
	return nil
}

// orphaned says whether an appointment still needs EMIS and nobody holds its lease.
func (s *Service) orphaned(ctx context.Context, id string) (bool, error) {
	free, err := s.Store.LeaseFree(ctx, id)
	if err != nil || !free {
		return false, err
	}
	a, err := s.Store.Appointment(ctx, s.Store.DBQ(), id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return s.goalOf(a) != goalNothingToDo, nil
}
