package jobs

import (
	"context"
	"errors"
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

// Kind names the job to River.
func (CollectBlobsArgs) Kind() string { return "collect_blobs" }

// CollectBlobs deletes unreferenced blobs. A blob written less than Grace
// ago is kept: a publish writes exercises' archives (again, even when they
// are stored already) well before their file rows commit. An upload's row
// commits under the blob's lock, which the collector takes too (see
// db.DeleteUnusedBlob), so an upload that finds its bytes stored already is
// never left with a deleted blob.
type CollectBlobs struct {
	river.WorkerDefaults[CollectBlobsArgs]
	DB    *db.DB
	Blobs *blobs.Store
	Grace time.Duration

	// beforeDelete, for tests, runs between the check of a batch and the
	// deletion of one of its blobs.
	beforeDelete func(key string)
}

// Work walks the store and deletes, batch by batch, what no file names.
func (w *CollectBlobs) Work(ctx context.Context, _ *river.Job[CollectBlobsArgs]) error {
	_, err := w.Collect(ctx)
	return err
}

// Collect does the work and returns how many blobs it deleted.
func (w *CollectBlobs) Collect(ctx context.Context) (int, error) {
	// Trees that were replaced go first, so that their blobs can go too.
	if _, err := w.DB.CollectGarbageTrees(ctx); err != nil {
		return 0, err
	}
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
			if w.beforeDelete != nil {
				w.beforeDelete(key)
			}
			// The batch's check may be stale by now: check again, and
			// delete, under the blob's lock.
			ok, err := w.DB.DeleteUnusedBlob(ctx, checksums[i], func(ctx context.Context) (bool, error) {
				written, err := w.Blobs.Written(ctx, key)
				if errors.Is(err, blobs.ErrNotFound) || err == nil && written.After(cutoff) {
					return false, nil // gone, or written again since it was listed
				}
				if err != nil {
					return false, err
				}
				return true, w.Blobs.Delete(ctx, key)
			})
			if err != nil {
				return err
			}
			if ok {
				deleted++
			}
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
