package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
)

type pingArgs struct{ N int }

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	done chan int
}

func (w *pingWorker) Work(_ context.Context, j *river.Job[pingArgs]) error {
	w.done <- j.Args.N
	return nil
}

// TestEnqueueInTransaction shows the property every job relies on: a job
// enqueued in a transaction that rolls back never runs; one that commits does.
func TestEnqueueInTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		w := &pingWorker{done: make(chan int, 2)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		c, err := jobs.New(d, jobs.Config{Workers: workers})
		require.NoError(t, err)
		require.NoError(t, c.Start(ctx))
		defer func() { _ = c.Stop(context.Background()) }()

		rollback := errors.New("roll back")
		err = d.ForTest(t).RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := c.InsertTx(ctx, tx.Tx, pingArgs{N: 1}, nil)
			require.NoError(t, err)
			return rollback
		})
		require.ErrorIs(t, err, rollback)
		require.NoError(t, d.ForTest(t).RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := c.InsertTx(ctx, tx.Tx, pingArgs{N: 2}, nil)
			return err
		}))
		select {
		case n := <-w.done:
			require.Equal(t, 2, n, "the rolled-back job ran")
		case <-ctx.Done():
			t.Fatal("the committed job did not run")
		}
		n, err := d.ForTest(t).NewSelect().TableExpr("river_job").Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}

func TestCollectBlobs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		defer store.Close()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Files")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "document Notes")
		files, err := d.FilesByNode(ctx, []models.ID{n["Notes"].ID})
		require.NoError(t, err)
		used := files[n["Notes"].ID][0]
		keep := blobs.Key(used.Checksum, used.Extension)
		orphan := blobs.Key("ffffffffffffffffffffffffffffffff", "pdf")
		for _, key := range []string{keep, orphan} {
			require.NoError(t, store.Put(ctx, key, []byte(key), "application/pdf"))
		}
		// Young blobs are kept: an upload stores its blob before its row commits.
		gc := &jobs.CollectBlobs{DB: d, Blobs: store, Grace: time.Hour}
		n0, err := gc.Collect(ctx)
		require.NoError(t, err)
		require.Zero(t, n0)
		gc.Grace = 0
		n1, err := gc.Collect(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n1)
		ok, err := store.Exists(ctx, orphan)
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = store.Exists(ctx, keep)
		require.NoError(t, err)
		require.True(t, ok)
	})
}
