package kolibritest_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/kolibri/kolibritest"
)

// TestCompare: equal databases compare equal; a changed value, a missing
// row and an extra row are each reported, and version is not.
func TestCompare(t *testing.T) {
	ctx := context.Background()
	src, err := kolibritest.Write(ctx, t.TempDir(), kolibritest.Options{Topics: 2, Leaves: 2})
	require.NoError(t, err)
	copyPath := filepath.Join(t.TempDir(), "copy.sqlite3")
	data, err := os.ReadFile(src.Path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(copyPath, data, 0o644))
	diffs, err := kolibritest.Compare(ctx, src.Path, copyPath)
	require.NoError(t, err)
	require.Empty(t, diffs)

	c, err := sql.Open("sqlite", "file:"+copyPath)
	require.NoError(t, err)
	for _, q := range []string{
		"UPDATE content_channelmetadata SET version = 7",
		"UPDATE content_contentnode SET title = 'Changed' WHERE title = 'Topic 1'",
		"DELETE FROM content_file WHERE rowid = 1",
		"INSERT INTO content_contenttag (id, tag_name) VALUES ('00000000000000000000000000000001', 'extra')",
	} {
		_, err := c.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, c.Close())
	diffs, err = kolibritest.Compare(ctx, src.Path, copyPath)
	require.NoError(t, err)
	require.Len(t, diffs, 4, "%v", diffs) // the node twice (old and new row), the file, the tag
}
