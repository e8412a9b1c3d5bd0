// Package jobs runs background work (publishing, blob collection) on River,
// on either database. Its client works on *sql.Tx on both, so a job is
// enqueued in the same transaction as the write that asks for it.
package jobs

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"studio/blobs"
	"studio/db"
)

// Client is River's client on studio's database.
type Client = river.Client[*sql.Tx]

// Config configures New.
type Config struct {
	// Workers run jobs; nil makes a client that only enqueues.
	Workers *river.Workers
	// MaxWorkers is how many jobs run at once on this instance.
	MaxWorkers int
	Logger     *slog.Logger
	// Periodic jobs are enqueued on schedule by the elected leader instance.
	Periodic []*river.PeriodicJob
	// RescueAfter is how long a job may run before it is taken for dead
	// (its worker killed) and retried; a kind's own timeout lengthens it.
	RescueAfter time.Duration
}

// New makes a River client on d. It does not start it.
func New(d *db.DB, cfg Config) (*Client, error) {
	rc := &river.Config{Logger: cfg.Logger, PeriodicJobs: cfg.Periodic, RescueStuckJobsAfter: cfg.RescueAfter}
	if cfg.RescueAfter > 0 && cfg.RescueAfter < time.Minute {
		rc.JobTimeout = cfg.RescueAfter // River wants jobs to time out before they are rescued
	}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(1, cfg.MaxWorkers)}}
	}
	c, err := river.NewClient(d.RiverDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	return c, nil
}

// Timeouts bound one attempt of each kind of job (0: its default). River
// takes a job whose worker died for dead, and retries it, once it is over.
type Timeouts struct {
	Publish, Import time.Duration
}

// Standard returns the workers and periodic jobs every studio server runs,
// each kind of job bounded by its timeout in t.
func Standard(d *db.DB, store *blobs.Store, t Timeouts) (*river.Workers, []*river.PeriodicJob) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &CollectBlobs{DB: d, Blobs: store, Grace: time.Hour})
	river.AddWorker(workers, &Publish{DB: d, Blobs: store, Limit: t.Publish})
	river.AddWorker(workers, &Import{DB: d, Blobs: store, Limit: t.Import})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CollectBlobsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "collect_blobs"}),
	}
	return workers, periodic
}
