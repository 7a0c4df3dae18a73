package store

import "context"

// On SQLite each pass that writes slots was a transaction of its own: about a hundred a second
// at 7,000 practices, each paying BEGIN, COMMIT and the pages of the practices' shared rows
// (sync state, the change feed, the versions) written again to the log, about 8 % of
// herolink's CPU in the steady stream. Small passes ending together now share one
// transaction, one after another in the order they asked, each exactly as alone: each reads
// what the ones before it wrote, as it would have after their commits.
//
// When any of them fails (a lost lease, a stale version is no failure), the whole batch is
// rolled back and each pass runs alone, in its own transaction at its own time: the one that
// failed is answered its own error, the others are written, and none is answered before its
// write is committed or refused. PostgreSQL's writers run side by side and take no part.

// writeWindow is gatherWindow for passes writing slots. A pass waits it, holding a sync worker,
// before its write: a change from EMIS reaches searches that much later, against the tens of
// seconds between passes.
const writeWindow = recordWindow

// writeGatherMax is the most rows (sessions upserted or removed, slots, sessions confirmed) a
// pass writes and still joins others: a first sync's thousands go alone, so that the passes
// of a batch do not wait behind one.
const writeGatherMax = 256

// writeGatherer gathers SQLite's passes writing slots (writeWindow).
func writeGatherer() gatherer[DiaryDiff, passWritten] {
	return gatherer[DiaryDiff, passWritten]{window: writeWindow, lonely: lonelyBatches}
}

// passWritten is what a gathered pass was answered.
type passWritten struct {
	applied DiaryApplied
	err     error
}

// joinsWrites says whether d's write is small enough to share a transaction (writeGatherMax).
// A pass pruning past days goes alone: how many rows its prune deletes is not known before
// (after days without a pass, many), and it comes once a day a practice.
func (d DiaryDiff) joinsWrites() bool {
	if d.PruneBefore != "" {
		return false
	}
	n := len(d.Upsert) + len(d.Remove) + len(d.Confirmed)
	for _, rows := range d.Slots {
		if n += len(rows); n > writeGatherMax {
			return false
		}
	}
	return n <= writeGatherMax
}

// applyPassesTogether applies ds in one transaction at one time, or, when one of them fails,
// each alone: in its own transaction, at its own time and under its own bound (the batch it
// fell back from may have used up most of the batch's).
func (s *Store) applyPassesTogether(ctx context.Context, ds []DiaryDiff) ([]passWritten, error) {
	out := make([]passWritten, len(ds))
	if len(ds) > 1 {
		now := s.nowMS()
		err := s.inTx(ctx, func(tx *Tx) error {
			for i, d := range ds {
				a, err := s.applyPassTx(ctx, tx, d, now)
				if err != nil {
					return err
				}
				out[i] = passWritten{applied: a}
			}
			return nil
		})
		if err == nil {
			return out, nil
		}
	}
	for i, d := range ds {
		alone, cancel := context.WithTimeout(context.WithoutCancel(ctx), gatherTimeout)
		a, err := s.applyPassOwnTx(alone, d)
		cancel()
		out[i] = passWritten{applied: a, err: err}
	}
	return out, nil
}
