package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/uptrace/bun/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

// RiverDriver is River's driver for this database. Both work on *sql.Tx, so a
// job is enqueued in the same transaction as the write that asks for it.
func (d *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if d.Kind == Postgres {
		return riverdatabasesql.NewWithPgxListener(d.sql.DB, d.pool)
	}
	return riversqlite.New(d.sql.DB)
}

// Migrate brings River's tables, then studio's, up to date.
func (d *DB) Migrate(ctx context.Context) error {
	ctx = throughDoor(ctx) // a migration changes the schema; it logs no change
	rm, err := rivermigrate.New(d.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("db: migrate river: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("db: migrate river: %w", err)
	}
	m, err := d.migrator()
	if err != nil {
		return err
	}
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("db: migrate: lock: %w", err)
	}
	defer m.Unlock(ctx) //nolint:errcheck // the lock row goes with the process otherwise
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// Pending lists studio migrations not yet applied.
func (d *DB) Pending(ctx context.Context) ([]string, error) {
	ctx = throughDoor(ctx) // Init creates bun's tables if missing: schema, not data
	m, err := d.migrator()
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	var names []string
	for _, mg := range ms.Unapplied() {
		names = append(names, mg.Name)
	}
	return names, nil
}

func (d *DB) migrator() (*migrate.Migrator, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(d.Kind))
	if err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	d.addRepairMigration(ms)
	return migrate.NewMigrator(d.sql, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// JobCount is how many of River's jobs of a kind are in a state.
type JobCount struct {
	Kind  string `bun:"kind"`
	State string `bun:"state"`
	Count int64  `bun:"n"`
}

// JobCounts counts River's jobs by kind and state, for metrics.
func (d *DB) JobCounts(ctx context.Context) ([]JobCount, error) {
	var out []JobCount
	err := d.sql.NewRaw("SELECT kind, state, count(*) AS n FROM river_job GROUP BY kind, state").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("db: job counts: %w", err)
	}
	return out, nil
}
