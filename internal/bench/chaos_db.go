package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// prepareBenchDatabase makes the database a benchmark runs on. Empty: SQLite in the data
// directory, nothing to prepare. A PostgreSQL server URL: a fresh, empty database named
// <prefix>_<random> on that server (so a run never sees another's data and never empties a
// database someone else uses), dropped by drop.
func prepareBenchDatabase(ctx context.Context, serverURL, prefix string) (dbURL string, drop func(), err error) {
	if serverURL == "" {
		return "", func() {}, nil
	}
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("the database URL must be a postgres:// URL")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	name := prefix + "_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redactURL(u), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	// The name is ours (prefix and hex), so quoting it is enough.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	db := *u
	db.Path = "/" + name
	drop = func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, serverURL)
		if err != nil {
			return
		}
		defer c.Close(dctx)
		_, _ = c.Exec(dctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return db.String(), drop, nil
}

// redactURL is a database URL fit for an error message: no password.
func redactURL(u *url.URL) string {
	r := *u
	if r.User != nil {
		r.User = url.User(r.User.Username())
	}
	return strings.TrimSuffix(r.String(), "?")
}
