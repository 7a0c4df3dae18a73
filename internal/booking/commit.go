package booking

import (
	"context"

	"herolink/internal/store"
)

// CommitHook runs inside the transaction that makes an operation's change (a hold, a
// confirmation, a reschedule, a registration), as its last statement, with the id of what the
// operation made or changed. An error from it rolls the whole operation back.
//
// The partner API uses it to record an Idempotency-Key's use in the same commit as the
// operation, so a process killed between the two can never make a retry run it again.
type CommitHook func(ctx context.Context, tx *store.Tx, ref string) error

type commitHookKey struct{}

// WithCommitHook returns a context whose operation runs h inside its transaction.
func WithCommitHook(ctx context.Context, h CommitHook) context.Context {
	return context.WithValue(ctx, commitHookKey{}, h)
}

// commit runs the context's hook, if any, in tx.
func commit(ctx context.Context, tx *store.Tx, ref string) error {
	if h, ok := ctx.Value(commitHookKey{}).(CommitHook); ok && h != nil {
		return h(ctx, tx, ref)
	}
	return nil
}
