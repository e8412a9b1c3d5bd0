package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
)

// TestCheckpointsInBackground: on SQLite no commit copies the write-ahead log
// into the database file (which would make that request slow); the server
// does it within a few seconds on its own.
func TestCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "studio.db")
	d, err := db.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })

	var pages int
	require.NoError(t, d.ForTest(t).QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages))
	require.Zero(t, pages, "no commit checkpoints")

	size := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	before := size()
	_, err = d.ForTest(t).ExecContext(ctx, "CREATE TABLE big (b BLOB)")
	require.NoError(t, err)
	for range 8 {
		_, err = d.ForTest(t).ExecContext(ctx, "INSERT INTO big VALUES (randomblob(1 << 20))")
		require.NoError(t, err)
	}
	require.Less(t, size(), before+8<<20, "the 8 MB are in the log, not yet in the file")
	require.Eventually(t, func() bool { return size() >= before+8<<20 }, 10*time.Second, 50*time.Millisecond,
		"the log is copied into the file in the background")
}
