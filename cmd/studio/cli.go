package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"studio/db"
)

const usage = `studio: curate educational channels and publish them to Kolibri.

Usage:
  studio serve [--addr 127.0.0.1:8080] [--data-dir ./studio-data] [--database-url URL] [--debug] [--demo]
               [--blobs-url DIR|s3://…] [--max-upload-size BYTES] [--no-introspection]
               [--publish-timeout 30m] [--behind-proxy] [--public-url https://studio.example.org]
  studio bench [--nodes 10000] [--requests 100] [--clients 8] [--json FILE] [--check-budget]
               [--data-dir DIR] [--database-url URL]
  studio migrate [--data-dir DIR] [--database-url URL]
  studio import --from URL|DIR --channel ID|TOKEN [--as ID] [--email E] [--blobs-url DIR|s3://…]
               [--timeout D] [--data-dir DIR] [--database-url URL]
  studio user create --email E --password P [--admin] [--data-dir DIR] [--database-url URL]
  studio user password --email E --password P [--data-dir DIR] [--database-url URL]
  studio token create --email E [--name N] [--data-dir DIR] [--database-url URL]

Every flag also reads STUDIO_<NAME> from the environment (--database-url:
STUDIO_DATABASE_URL). With no database url, studio keeps an SQLite database
in the data directory; postgres://… switches to PostgreSQL.
`

// run dispatches a command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		err = serve(ctx, rest, stdout)
	case cmd == "migrate":
		err = migrateCmd(ctx, rest, stdout)
	case cmd == "user" && len(rest) > 0 && rest[0] == "create":
		err = userCreate(ctx, rest[1:], stdout)
	case cmd == "user" && len(rest) > 0 && rest[0] == "password":
		err = userPassword(ctx, rest[1:], stdout)
	case cmd == "token" && len(rest) > 0 && rest[0] == "create":
		err = tokenCreate(ctx, rest[1:], stdout)
	case cmd == "user" || cmd == "token":
		fmt.Fprintf(stderr, "studio: %s needs a subcommand: %s\n\n%s", cmd, map[string]string{"user": "create or password", "token": "create"}[cmd], usage)
		return 2
	case cmd == "bench":
		err = benchCmd(ctx, rest, stdout)
	case cmd == "import":
		err = importCmd(ctx, rest, stdout)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "studio: unknown command %q\n\n%s", strings.Join(args, " "), usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "studio: %v\n", err)
		return 1
	}
	return 0
}

// env is a flag's default: STUDIO_<NAME> when set, else def.
func env(name, def string) string {
	if v, ok := os.LookupEnv("STUDIO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); ok {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	v, err := strconv.ParseInt(env(name, ""), 10, 64)
	if err != nil {
		return def
	}
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(env(name, "")); err == nil {
		return v
	}
	return def
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(env(name, "false"))
	return b
}

// dbFlags are the flags that choose the database, shared by every command.
type dbFlags struct {
	dataDir     string
	databaseURL string
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", env("data-dir", "./studio-data"), "where the SQLite database and blobs live")
	fs.StringVar(&f.databaseURL, "database-url", env("database-url", ""), "postgres://… to use PostgreSQL; empty for SQLite in the data directory")
}

// open opens and migrates the database the flags name.
func (f *dbFlags) open(ctx context.Context) (*db.DB, error) {
	url := f.databaseURL
	if url == "" {
		url = db.SQLiteURL(f.dataDir)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("studio "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// tuneGC makes the garbage collector run a quarter as often as Go's default
// unless GOGC says otherwise: a server's live heap is small (tens of MB) and
// collection was a fifth of the CPU of large reads.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
