package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
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
		err = d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := c.InsertTx(ctx, tx.Tx, pingArgs{N: 1}, nil)
			require.NoError(t, err)
			return rollback
		})
		require.ErrorIs(t, err, rollback)
		require.NoError(t, d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := c.InsertTx(ctx, tx.Tx, pingArgs{N: 2}, nil)
			return err
		}))
		select {
		case n := <-w.done:
			require.Equal(t, 2, n, "the rolled-back job ran")
		case <-ctx.Done():
			t.Fatal("the committed job did not run")
		}
		n, err := d.NewSelect().TableExpr("river_job").Count(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}
