// Package db opens either database and holds every SQL statement studio runs.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Kind names a database engine.
type Kind string

// The database engines studio runs on.
const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// DB is a Bun handle on PostgreSQL or SQLite. Code above this package never
// needs to know which, except through Kind where SQL must differ.
type DB struct {
	// sql is the Bun handle. It is private: every statement studio runs is
	// in this package, and every write goes through the door (door.go).
	sql     *bun.DB
	Kind    Kind
	dialect dialect // the SQL the two databases write differently
	// pool is the pgx pool under PostgreSQL's handle (nil on SQLite); River's
	// listener borrows connections from it for LISTEN.
	pool *pgxpool.Pool

	// writer serialises this process's write transactions on SQLite, which
	// allows one writer at a time anyway: waiting here is a handoff, where
	// waiting in SQLite's busy handler is a sleep of up to 100 ms.
	writer sync.Mutex

	feed    feed
	tokens  tokenCache
	closing context.Context // done when Close is called
	close   context.CancelFunc

	strays   *strays
	testOnce sync.Once
	test     *bun.DB // ForTest's handle

	// Logins throttles failed password logins.
	Logins LoginGuard
}

// Open connects to url: postgres://… or postgresql://… for PostgreSQL,
// sqlite:PATH (or a plain file path) for SQLite.
func Open(ctx context.Context, url string) (*DB, error) {
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return openPostgres(ctx, url)
	case url == "":
		return nil, fmt.Errorf("db: open: no database url")
	default:
		return openSQLite(strings.TrimPrefix(url, "sqlite:"))
	}
}

// SQLiteURL is the url of the embedded database under dataDir.
func SQLiteURL(dataDir string) string { return "sqlite:" + filepath.Join(dataDir, "studio.db") }

func openPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse postgres url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	// PostgreSQL's default prices a random page read at four sequential
	// ones, as on a spinning disk; then the files of a thousand nodes are
	// found by reading the whole files table once it has some hundred
	// thousand rows (22 ms instead of 5). Our pages are in memory or on SSD.
	if _, set := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !set {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: connect to postgres: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	d := newDB(bun.NewDB(sqldb, pgDialect{pgdialect.New()}), Postgres)
	d.pool = pool
	return d, nil
}

func openSQLite(path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("db: create %s: %w", dir, err)
		}
	}
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	// busy_timeout before journal_mode, so switching to WAL waits for other
	// openers; _txlock=immediate takes the write lock at BEGIN, because a
	// deferred transaction that later writes fails with SQLITE_BUSY whatever
	// the timeout. A 64 MB page cache a connection (SQLite's default is 2 MB)
	// keeps a large channel's indexes in memory: writes on a 100,000-node
	// channel cost 1.5× those on a 10,000-node one without it. No commit
	// checkpoints the log: the server does, in the background (checkpoints).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	// Several connections let reads run beside a writer (WAL); writes
	// serialise on the immediate lock.
	sqldb.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	sqldb.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("db: open sqlite %s: %w", path, err)
	}
	d := newDB(bun.NewDB(sqldb, sqliteDialect{sqlitedialect.New()}), SQLite)
	go d.checkpoints(checkpointInterval)
	return d, nil
}

// newDB wraps a Bun handle with the hooks every statement passes: the
// statement counter and the door's check (door.go).
func newDB(b *bun.DB, kind Kind) *DB {
	d := &DB{Kind: kind, strays: new(strays), dialect: sqliteSQL}
	if kind == Postgres {
		d.dialect = postgresSQL
	}
	d.sql = b.WithQueryHook(countHook{}).WithQueryHook(strayHook{d.strays})
	d.closing, d.close = context.WithCancel(context.Background())
	return d
}

// privateFiles makes the SQLite database at path readable by its owner only.
// SQLite would create it 0644 (less the umask), and it gives the -wal and
// -shm files the database's mode: so the database is made 0600 before SQLite
// opens it, and files of an older start lose group and other access.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("db: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // no -wal or -shm yet
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			if err := os.Chmod(p, m&^0o077); err != nil {
				return fmt.Errorf("db: make %s private: %w", p, err)
			}
		}
	}
	return nil
}

// Close closes the handle and, on PostgreSQL, the pool under it.
func (d *DB) Close() error {
	d.close()
	err := d.sql.Close()
	if d.pool != nil {
		d.pool.Close()
	}
	return err
}

// inTx runs fn in a transaction, committed when fn returns nil. Only the
// door (writes) and migrations open one.
func (d *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if d.Kind == SQLite {
		d.writer.Lock()
		defer d.writer.Unlock()
		return d.sql.RunInTx(ctx, nil, fn)
	}
	// On PostgreSQL the transaction runs on a connection whose pgx handle is
	// kept beside it, so that bulk inserts can use COPY in the same
	// transaction (see copyRows).
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer conn.Close()
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error { pc = dc.(*stdlib.Conn).Conn(); return nil }); err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(context.WithValue(ctx, pgxConnKey{}, pc), tx)
	})
}

type pgxConnKey struct{}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.sql.PingContext(ctx) }
