package booking

import "context"

type ownerKey struct{}

// WithOwner scopes the booking calls made with ctx to one partner: the owner of the API key
// (the first key's id, kept across rotations). Holds it places and patients it registers are
// its own, and another partner's appointments and patients are not found, even in the same
// practice group. Calls without an owner (staff pages, jobs) see the whole practice group.
func WithOwner(ctx context.Context, owner string) context.Context {
	return context.WithValue(ctx, ownerKey{}, owner)
}

func ownerOf(ctx context.Context) string {
	o, _ := ctx.Value(ownerKey{}).(string)
	return o
}

// visible says whether a row owned by owner may be seen by the caller of ctx.
func visible(ctx context.Context, owner string) bool {
	o := ownerOf(ctx)
	return o == "" || o == owner
}
