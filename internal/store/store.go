// Package store owns the database: opening it, migrating it, and every SQL statement of
// herolink, a file per entity. Other packages never write SQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is herolink's database.
type Store struct {
	dialect Dialect
	db      *conn
	// read is a pool for the partner API's hottest reads (slot search). On SQLite it is a
	// pool of read-only connections: in WAL mode they read the last commit in parallel, on
	// every core, instead of queueing behind writes on db's one connection. On PostgreSQL it
	// is db itself.
	read *conn
	now  func() time.Time
	// slots answers FreeSlots from memory (freeslotindex.go); nil: from SQL every time.
	slots *slotIndex
	// counters shares reads of the slot change counters between concurrent searches.
	counters counterReads
	// versions reads the diary versions of sync passes starting together in one query;
	// unchanged records the passes that found nothing new and end together in one write.
	versions  gatherer[int64, int64]
	unchanged gatherer[unchangedPass, error]
	// writes applies SQLite's small passes writing slots ending together in one transaction
	// (diarywrites.go).
	writes gatherer[DiaryDiff, passWritten]
	// feedExpiredAt is when this instance last deleted the change feed's expired rows (Unix
	// ms; feedExpiryDue).
	feedExpiredAt atomic.Int64
}

// Options says which database to open.
type Options struct {
	// DatabaseURL is a postgres:// URL; empty means SQLite in DataDir.
	DatabaseURL string
	// DataDir holds herolink.db when DatabaseURL is empty.
	DataDir string
}

// Open opens the database the options name: SQLite in the data directory when no URL is
// given, PostgreSQL for a postgres:// URL.
func Open(ctx context.Context, o Options) (*Store, error) {
	switch {
	case o.DatabaseURL == "":
		if o.DataDir == "" {
			return nil, errors.New("store: a data directory is required for SQLite")
		}
		return OpenSQLite(ctx, filepath.Join(o.DataDir, "herolink.db"))
	case strings.HasPrefix(o.DatabaseURL, "postgres://"), strings.HasPrefix(o.DatabaseURL, "postgresql://"):
		return OpenPostgres(ctx, o.DatabaseURL)
	default:
		return nil, errDatabaseURL(o.DatabaseURL)
	}
}

// sqliteCache sets each connection's page cache to 32 MiB (SQLite's default is 2 MiB): at
// 7,000 practices the diary is about 1.4 GB, and the sync's reads went to the disk (pread)
// for pages a bigger cache keeps. Five connections: at most 160 MiB. Temporary storage is in
// memory: a statement that fires a trigger (the slot counters of migration 0027) or resolves
// a conflict keeps a statement journal, and in a file that was a pwrite per page: a fifth of
// all CPU during a first sync.
const sqliteCache = "&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)"

// OpenSQLite opens (creating if needed) the SQLite database at path with WAL and a busy
// timeout. SQLite allows one writer; River's driver needs the pool limited to one connection,
// so every statement queues on it: keep transactions short and never call EMIS inside one.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.ToSlash(path) +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
		sqliteCache
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := makePrivate(path); err != nil {
		db.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)"+sqliteCache)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	return &Store{dialect: SQLite, db: &conn{dialect: SQLite, sql: db}, read: &conn{dialect: SQLite, sql: read}, now: time.Now, slots: newSlotIndex(), unchanged: recordGatherer(), writes: writeGatherer()}, nil
}

// DefaultPoolSize is how many PostgreSQL connections an instance keeps unless its URL says
// pool_max_conns: twice its cores, and at least 4. More is slower, not faster, when the
// server shares or lacks cores: each connection is a server process, and a burst that opens
// them all makes them compete for the cores with herolink and each other (on two cores, a
// burst of 1,000 holds had p99 0.31-0.36 s on 4 connections, 0.40-0.48 s on 8, 0.66-0.98 s on
// 16 and 1.3-1.5 s on 32: docs/benchmarks.md).
func DefaultPoolSize() int32 { return poolSizeFor(runtime.GOMAXPROCS(0)) }

func poolSizeFor(cores int) int32 { return int32(max(4, 2*cores)) }

// OpenPostgres connects to the PostgreSQL database at url (pgx's pool; pool_max_conns and
// the other pgxpool settings may be given in the URL).
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	return openPostgres(ctx, url, nil)
}

// openPostgres is OpenPostgres with a last word on the pool's configuration (tests trace it).
func openPostgres(ctx context.Context, url string, configure func(*pgxpool.Config)) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, password included: say only what kind of problem.
		return nil, errors.New("store: the PostgreSQL URL cannot be parsed: check its form (postgres://user:password@host:port/database)")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultPoolSize()
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s: %w", cfg.ConnConfig.Host, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, redactPg(err))
	}
	c := &conn{dialect: Postgres, pool: pool}
	return &Store{dialect: Postgres, db: c, read: c, now: time.Now, slots: newSlotIndex(), unchanged: recordGatherer()}, nil
}

// redactPg keeps a connection error's kind without the connection string it may quote.
func redactPg(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New("cannot connect (is the server running and the address right?)")
	}
	return err
}

// Dialect says which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the SQLite pool, for River's riversqlite driver; nil on PostgreSQL.
func (s *Store) DB() *sql.DB { return s.db.sql }

// Pool is the PostgreSQL pool, for River's riverpgxv5 driver; nil on SQLite.
func (s *Store) Pool() *pgxpool.Pool { return s.db.pool }

// Close closes the pool.
func (s *Store) Close() error {
	if s.read != s.db {
		return errors.Join(s.read.Close(), s.db.Close())
	}
	return s.db.Close()
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.rollback(context.WithoutCancel(ctx))
		return err
	}
	return tx.commit(ctx)
}

func msTime(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return time.UnixMilli(ms.Int64)
}
