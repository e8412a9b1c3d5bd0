package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/models"
)

// importCmd imports a published channel from a server or a content folder,
// as importChannel does, and waits for it: the import runs as a job here
// (or on a server that shares the database, whichever takes it first).
func importCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("import", stdout)
	var dbf dbFlags
	dbf.register(fs)
	from := fs.String("from", "", "the source: a server's base URL (a Kolibri, Kolibri Studio, studio) or a folder `kolibri manage exportchannel` wrote (required)")
	channel := fs.String("channel", "", "the channel's id, or a token the server resolves (required)")
	as := fs.String("as", "", "a channel id: import as the next version of that channel, as its staging tree to review")
	email := fs.String("email", "", "who imports (an editor of --as); default: the first admin")
	blobsURL := fs.String("blobs-url", env("blobs-url", ""), "where files are kept, as for serve (default: the data directory)")
	timeout := fs.Duration("timeout", 0, "give up waiting after this long (0: never); the import goes on in the background")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *channel == "" {
		return fmt.Errorf("import needs --from and --channel")
	}
	var asID *models.ID
	if *as != "" {
		id, err := models.ParseID(*as)
		if err != nil {
			return fmt.Errorf("--as: %w", err)
		}
		asID = &id
	}
	d, err := dbf.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := importUser(ctx, d, *email)
	if err != nil {
		return err
	}
	if *blobsURL == "" {
		if err := os.MkdirAll(dbf.dataDir, 0o700); err != nil {
			return fmt.Errorf("create the data directory: %w", err)
		}
		*blobsURL = dbf.dataDir
	}
	store, err := blobs.Open(ctx, *blobsURL)
	if err != nil {
		return err
	}
	defer store.Close()

	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.Import{DB: d, Blobs: store})
	queue, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	job, err := jobs.RequestImport(ctx, d, queue, u, jobs.ImportRequest{Source: *from, Channel: *channel, As: asID, Trusted: true})
	if err != nil {
		return err
	}
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = queue.Stop(stopCtx)
	}()
	fmt.Fprintf(stdout, "importing %s from %s (job %s)\n", *channel, *from, models.JobID(job))
	return waitImport(ctx, d, queue, job, *timeout, stdout)
}

// importUser is the user the flag names, or the first admin.
func importUser(ctx context.Context, d *db.DB, email string) (*models.User, error) {
	if email != "" {
		return d.UserByEmail(ctx, email)
	}
	u, err := d.FirstAdmin(ctx)
	if err != nil {
		return nil, fmt.Errorf("no --email, and no admin to import as: %w", err)
	}
	return u, nil
}

// waitImport prints job n's progress until it ends, then what it found.
func waitImport(ctx context.Context, d *db.DB, c *jobs.Client, n int64, timeout time.Duration, stdout io.Writer) error {
	wake, stop := d.SubscribeJob(n)
	defer stop()
	var deadline <-chan time.Time
	if timeout > 0 {
		deadline = time.After(timeout)
	}
	var after int64
	last := -1
	for {
		evs, err := d.JobEvents(ctx, n, after)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			after = ev.ID
			if ev.Progress != last && ev.State == models.JobRunning {
				fmt.Fprintf(stdout, "%3d%%\n", ev.Progress)
				last = ev.Progress
			}
			if ev.State == models.JobRetrying {
				fmt.Fprintf(stdout, "attempt failed, to be retried: %s\n", ev.Error)
			}
			if ev.State.Final() {
				return importDone(ctx, d, ev, stdout)
			}
		}
		// A job River ended without an event of ours (a dead worker's, out of attempts).
		if got, err := jobs.Get(ctx, d, c, []int64{n}); err == nil && got[n] != nil && got[n].State.Final() && len(evs) == 0 {
			return fmt.Errorf("import job %s ended %s: %s", models.JobID(n), got[n].State, deref(got[n].Error))
		}
		select {
		case <-wake:
		case <-time.After(2 * time.Second):
		case <-deadline:
			return fmt.Errorf("the import (job %s) is still running after %v; it goes on in the background of any server on this database", models.JobID(n), timeout)
		case <-ctx.Done():
			return errors.New("interrupted; the import goes on when a server (or studio import) runs on this database")
		}
	}
}

func importDone(ctx context.Context, d *db.DB, ev *models.JobEvent, stdout io.Writer) error {
	if ev.State != models.JobCompleted {
		return fmt.Errorf("import %s: %s", strings.ToLower(string(ev.State)), ev.Error)
	}
	rec, err := d.ImportByJob(ctx, ev.JobID)
	if err != nil || rec == nil {
		return err
	}
	where := "as a new channel"
	if rec.Staged {
		where = "as the channel's staging tree (deploy it with deployStagingTree)"
	}
	version := 0
	if rec.SourceVersion != nil {
		version = *rec.SourceVersion
	}
	fmt.Fprintf(stdout, "imported channel %s version %d into %s, %s\n", rec.SourceChannelID, version, rec.ChannelID, where)
	if c := rec.Changes; c != nil {
		fmt.Fprintf(stdout, "upstream since version %d: %d nodes added, %d removed, %d changed, %d unchanged\n",
			c.PreviousVersion, c.Added, c.Removed, c.Changed, c.Unchanged)
	}
	for _, w := range rec.Warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
