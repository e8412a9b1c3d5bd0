package jobs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestFindingBlobGCRace: between the collector's check of a batch and its
// deletion of an old, unreferenced blob, a writer of the same bytes comes
// along. An upload that finds the blob stored and commits its file row keeps
// the blob; so does a publish that writes an archive again (its row commits
// later). With nobody in between, the blob is deleted.
func TestFindingBlobGCRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		store, err := blobs.Open(ctx, dir)
		require.NoError(t, err)
		defer store.Close()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Files")
		node := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "document Notes")["Notes"]

		// old stores data as a blob written two hours ago, named by no file.
		old := func(data string) (*blobs.Spooled, string) {
			sp, err := store.Spool(bytes.NewReader([]byte(data)), 1<<20)
			require.NoError(t, err)
			t.Cleanup(sp.Remove)
			key := blobs.Key(sp.Checksum, "pdf")
			require.NoError(t, store.Put(ctx, key, []byte(data), "application/pdf"))
			then := time.Now().Add(-2 * time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), then, then))
			return sp, key
		}
		upload := func(sp *blobs.Spooled, key string) {
			f := &models.File{ID: models.NewID(), NodeID: &node.ID, Checksum: sp.Checksum, Size: sp.Size,
				Extension: "pdf", PresetID: "document"}
			require.NoError(t, d.AddFile(ctx, u, f, func() error { return store.Store(ctx, key, sp, "application/pdf") }))
		}
		for _, tc := range []struct {
			name    string
			between func(sp *blobs.Spooled, key string)
			kept    bool
		}{
			{"nobody", func(*blobs.Spooled, string) {}, false},
			{"an upload of the same bytes", upload, true},
			{"a publish writing the same archive", func(sp *blobs.Spooled, key string) {
				require.NoError(t, d.WithBlob(ctx, sp.Checksum, func(ctx context.Context) error {
					data, err := os.ReadFile(sp.Path)
					if err != nil {
						return err
					}
					return store.Put(ctx, key, data, "application/pdf")
				}))
			}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sp, key := old("bytes for " + tc.name)
				calls := 0
				gc := &CollectBlobs{DB: d, Blobs: store, Grace: time.Hour, beforeDelete: func(k string) {
					if k == key {
						calls++
						tc.between(sp, key)
					}
				}}
				n, err := gc.Collect(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, calls, "the hook did not run between check and delete")
				ok, err := store.Exists(ctx, key)
				require.NoError(t, err)
				require.Equal(t, tc.kept, ok, "blob kept")
				require.Equal(t, tc.kept, n == 0)
			})
		}
	})
}
