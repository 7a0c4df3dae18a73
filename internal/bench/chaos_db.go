package bench

import (
	"context"
	"errors"
)

// errNoPostgresYet: PostgreSQL needs store.Open and serve's --database-url (the store seam of
// issue 10); until they are on this branch the benches run on SQLite only.
var errNoPostgresYet = errors.New("PostgreSQL is not wired into this build yet (store.Open and serve --database-url): run without --database-url")

// prepareChaosDatabase makes the database the chaos run uses. Empty: SQLite in the data
// directory, nothing to prepare. A PostgreSQL server URL: a fresh database named
// herolink_chaos_<random> on that server, dropped by drop.
func prepareChaosDatabase(_ context.Context, serverURL string) (dbURL string, drop func(), err error) {
	if serverURL == "" {
		return "", func() {}, nil
	}
	return "", func() {}, errNoPostgresYet
}
