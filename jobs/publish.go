package jobs

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"studio/blobs"
	"studio/db"
	"studio/kolibri"
	"studio/models"
)

// PublishArgs asks for a channel's main tree to be published to Kolibri.
// One publish per channel at a time: River keeps the job unique by channel
// while it is queued, running or waiting to retry.
type PublishArgs struct {
	ChannelID    models.ID `json:"channel_id" river:"unique"`
	UserID       models.ID `json:"user_id"`
	VersionNotes string    `json:"version_notes,omitempty"`
	Draft        bool      `json:"draft,omitempty"`
}

// KindPublish is the publish job's kind.
const KindPublish = "publish_channel"

// Kind names the job for River.
func (PublishArgs) Kind() string { return KindPublish }

// InsertOpts keeps one publish of a channel queued or running at a time.
func (PublishArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// maxVersionNotes bounds a publish's notes.
const maxVersionNotes = 10000

// RequestPublish enqueues a publish of channelID by u, in the transaction
// that checks u may publish it and that it can be published. While a
// publish of the channel is pending it returns that job instead.
func RequestPublish(ctx context.Context, d *db.DB, c *Client, u *models.User, channelID models.ID, notes string, draft bool) (int64, error) {
	if u == nil {
		return 0, models.Errorf(models.CodeUnauthenticated, "sign in to publish a channel: send Authorization: Bearer <token> (the login mutation or `studio token create` gives one)")
	}
	if len([]rune(notes)) > maxVersionNotes {
		return 0, models.Errorf(models.CodeBadUserInput, "versionNotes has %d characters; at most %d are kept", len([]rune(notes)), maxVersionNotes)
	}
	return d.RequestPublish(ctx, u, channelID, func(ctx context.Context, tx *sql.Tx) (int64, bool, error) {
		res, err := c.InsertTx(ctx, tx, PublishArgs{ChannelID: channelID, UserID: u.ID, VersionNotes: notes, Draft: draft}, nil)
		if err != nil {
			return 0, false, fmt.Errorf("jobs: enqueue publish: %w", err)
		}
		return res.Job.ID, !res.UniqueSkippedAsDuplicate, nil
	})
}

// Publish is the publish job's worker: it writes the channel's Kolibri
// database, stores it, and records the new version.
type Publish struct {
	river.WorkerDefaults[PublishArgs]
	DB    *db.DB
	Blobs *blobs.Store
	// Limit is how long one attempt may run (0: DefaultPublishTimeout).
	Limit time.Duration
	// TempDir holds databases while they are written ("": the system's).
	TempDir string
}

// DefaultPublishTimeout bounds one attempt of a publish.
const DefaultPublishTimeout = 30 * time.Minute

// Timeout bounds one attempt: River's rescuer retries a publish past it.
func (w *Publish) Timeout(*river.Job[PublishArgs]) time.Duration {
	if w.Limit > 0 {
		return w.Limit
	}
	return DefaultPublishTimeout
}

// Work publishes, recording each step for subscribers. A mistake in the
// channel (no language, a broken question) fails the job at once; anything
// else is retried.
func (w *Publish) Work(ctx context.Context, job *river.Job[PublishArgs]) error {
	p := &publishRun{w: w, job: job, steps: newSteps(w.DB, "publish", job, job.Args.ChannelID)}
	if err := p.run(ctx); err != nil {
		return p.fail(ctx, err, job.MaxAttempts, models.CodeBadUserInput, models.CodeNotFound, models.CodeForbidden)
	}
	return nil
}

// publishRun is one attempt of a publish.
type publishRun struct {
	w   *Publish
	job *river.Job[PublishArgs]
	steps
}

func (p *publishRun) run(ctx context.Context) error {
	d, store, args := p.w.DB, p.w.Blobs, p.job.Args
	if err := p.event(ctx, models.JobRunning, 0, nil); err != nil {
		return err
	}
	if !args.Draft {
		// An attempt that committed its version and died before finishing
		// has only the unversioned copy left to write.
		done, err := d.ChannelVersionByJob(ctx, p.job.ID)
		if err != nil {
			return err
		}
		if done != nil {
			if err := store.Copy(ctx, DatabaseKey(args.ChannelID, fmt.Sprint(done.Version)), DatabaseKey(args.ChannelID, "")); err != nil {
				return err
			}
			if err := store.Delete(ctx, DatabaseKey(args.ChannelID, "next")); err != nil {
				return err
			}
			return p.finish(ctx)
		}
	}
	chs, err := d.ChannelsByID(ctx, nil, []models.ID{args.ChannelID})
	if err != nil {
		return err
	}
	ca, ok := chs[args.ChannelID]
	if !ok || ca.Deleted {
		return models.Errorf(models.CodeNotFound, "channel %s does not exist or is deleted", args.ChannelID)
	}
	ch := ca.Channel
	version := ch.Version + 1
	if args.Draft {
		version = 0 // Kolibri's number for a draft
	}
	snapshot := time.Now().UTC()
	tree, err := d.LoadTree(ctx, ch.RootID)
	if err != nil {
		return err
	}
	if err := p.event(ctx, models.JobRunning, 5, nil); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp(p.w.TempDir, "studio-publish-*")
	if err != nil {
		return fmt.Errorf("jobs: publish: %w", err)
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, ch.ID.String()+".sqlite3")
	var stepErr error
	stats, err := kolibri.Export(ctx, ch, tree, kolibri.Options{
		Version: version,
		Archive: func(n *models.ContentNode, items []*models.AssessmentItem) (*models.File, error) {
			return p.archive(ctx, n, items, tree.Files[n.ID])
		},
		Progress: func(done, total int) {
			if stepErr == nil {
				stepErr = p.step(ctx, 5+80*done/total)
			}
		},
	}, path)
	if err != nil {
		return err
	}
	if stepErr != nil {
		return stepErr
	}
	if err := p.event(ctx, models.JobRunning, 85, nil); err != nil {
		return err
	}
	if args.Draft {
		if err := store.PutFile(ctx, DatabaseKey(ch.ID, "next"), path, "application/vnd.sqlite3"); err != nil {
			return err
		}
		// Recorded once stored, so that its token imports what it describes.
		draft := db.Draft{JobID: p.job.ID, ChannelID: ch.ID, UserID: &args.UserID, VersionNotes: args.VersionNotes,
			ResourceCount: stats.Resources, KindCount: stats.KindCount, Size: stats.Size, Languages: stats.Languages,
			Token: kolibri.Proquint()}
		if err := d.MarkDraft(ctx, draft); err != nil {
			return err
		}
		return p.finish(ctx)
	}
	// The versioned file first; it is served only once the version commits.
	if err := store.PutFile(ctx, DatabaseKey(ch.ID, fmt.Sprint(version)), path, "application/vnd.sqlite3"); err != nil {
		return err
	}
	if err := p.event(ctx, models.JobRunning, 90, nil); err != nil {
		return err
	}
	published := db.Published{JobID: p.job.ID, ChannelID: ch.ID, UserID: &args.UserID, Version: version,
		VersionNotes: args.VersionNotes, Snapshot: snapshot, ResourceCount: stats.Resources, KindCount: stats.KindCount,
		Size: stats.Size, Languages: stats.Languages, Archives: stats.Archives, Token: kolibri.Proquint(), VersionToken: kolibri.Proquint()}
	if err := d.MarkPublished(ctx, published); err != nil {
		return err
	}
	if err := p.event(ctx, models.JobRunning, 95, nil); err != nil {
		return err
	}
	if err := store.PutFile(ctx, DatabaseKey(ch.ID, ""), path, "application/vnd.sqlite3"); err != nil {
		return err
	}
	// The publish ended the draft (MarkPublished), as on Studio.
	if err := store.Delete(ctx, DatabaseKey(ch.ID, "next")); err != nil {
		return err
	}
	return p.finish(ctx)
}

// finish records the job's success. River's row completes in the same
// transaction as the job's last event, so that whoever sees COMPLETED may
// publish again at once (a job stays unique until River's row completes).
func (p *publishRun) finish(ctx context.Context) error {
	d := p.w.DB
	ev := &models.JobEvent{JobID: p.job.ID, ChannelID: &p.channelID, State: models.JobCompleted, Progress: 100}
	err := d.FinishJob(ctx, ev, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if d.Kind == db.Postgres {
			_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, p.job)
		} else {
			_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, tx, p.job)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("jobs: publish: complete: %w", err)
	}
	p.progress = 100
	return nil
}

// archive builds an exercise's .perseus archive and stores it, content
// addressed (an unchanged exercise makes the same bytes, stored once). Its
// file keeps the id of the node's archive with the same checksum, if any.
func (p *publishRun) archive(ctx context.Context, n *models.ContentNode, items []*models.AssessmentItem, files []*models.File) (*models.File, error) {
	store := p.w.Blobs
	data, err := kolibri.PerseusArchive(kolibri.ExerciseOf(n, items), func(name string) ([]byte, error) {
		sum, ext, _ := strings.Cut(name, ".")
		r, err := store.Open(ctx, blobs.Key(sum, ext))
		if errors.Is(err, blobs.ErrNotFound) {
			return nil, models.Errorf(models.CodeBadUserInput, "exercise %s (%s) shows image %s, which is not stored: upload it again", n.ID, n.Title, name)
		}
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	})
	if err != nil {
		return nil, err
	}
	h := md5.Sum(data)
	sum := hex.EncodeToString(h[:])
	key := blobs.Key(sum, "perseus")
	// Written even when it is stored already, under the blob's lock: its row
	// commits only at the end of the publish, and the blob collector keeps
	// what was written within its grace period (CollectBlobs).
	err = p.w.DB.WithBlob(ctx, sum, func(ctx context.Context) error {
		return store.Put(ctx, key, data, "application/perseus+zip")
	})
	if err != nil {
		return nil, err
	}
	t := time.Now().UTC()
	f := &models.File{ID: models.NewID(), NodeID: &n.ID, Checksum: sum, Size: int64(len(data)), Extension: "perseus",
		PresetID: models.KindExercise, OriginalFilename: n.Title + ".perseus", UploadedByID: &p.job.Args.UserID, CreatedAt: t, ModifiedAt: t}
	for _, old := range files {
		if old.PresetID == models.KindExercise && old.Checksum == sum {
			f.ID, f.CreatedAt = old.ID, old.CreatedAt
		}
	}
	return f, nil
}

// DatabaseKey is where a channel's content database is kept:
// databases/<id>.sqlite3, or databases/<id>-<suffix>.sqlite3 for a version
// or "next" (a draft).
func DatabaseKey(channelID models.ID, suffix string) string {
	if suffix == "" {
		return "databases/" + channelID.String() + ".sqlite3"
	}
	return "databases/" + channelID.String() + "-" + suffix + ".sqlite3"
}
