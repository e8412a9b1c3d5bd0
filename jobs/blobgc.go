package jobs

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"studio/blobs"
	"studio/db"
)

// CollectBlobsArgs asks for the blobs that no file refers to any more to be
// deleted.
type CollectBlobsArgs struct{}

func (CollectBlobsArgs) Kind() string { return "collect_blobs" }

// CollectBlobs deletes unreferenced blobs. A blob younger than Grace is
// kept: an upload stores its blob just before its file row commits.
type CollectBlobs struct {
	river.WorkerDefaults[CollectBlobsArgs]
	DB    *db.DB
	Blobs *blobs.Store
	Grace time.Duration
}

// Work walks the store and deletes, batch by batch, what no file names.
func (w *CollectBlobs) Work(ctx context.Context, _ *river.Job[CollectBlobsArgs]) error {
	_, err := w.Collect(ctx)
	return err
}

// Collect does the work and returns how many blobs it deleted.
func (w *CollectBlobs) Collect(ctx context.Context) (int, error) {
	cutoff := time.Now().Add(-w.Grace)
	var batch []string
	deleted := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		checksums := make([]string, len(batch))
		for i, key := range batch {
			checksums[i] = strings.TrimSuffix(path.Base(key), path.Ext(key))
		}
		used, err := w.DB.ChecksumsInUse(ctx, checksums)
		if err != nil {
			return err
		}
		for i, key := range batch {
			if used[checksums[i]] {
				continue
			}
			if err := w.Blobs.Delete(ctx, key); err != nil {
				return err
			}
			deleted++
		}
		batch = batch[:0]
		return nil
	}
	err := w.Blobs.Keys(ctx, "storage/", func(key string, written time.Time) error {
		if written.After(cutoff) {
			return nil
		}
		batch = append(batch, key)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return deleted, fmt.Errorf("jobs: collect blobs: %w", err)
	}
	return deleted, nil
}
