package kolibri_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/kolibri"
)

func TestNumber(t *testing.T) {
	got := kolibri.Number("root", map[string][]string{"root": {"a", "b"}, "a": {"a1", "a2"}})
	require.Equal(t, map[string]kolibri.Numbered{
		"root": {1, 10, 0}, "a": {2, 7, 1}, "a1": {3, 4, 2}, "a2": {5, 6, 2}, "b": {8, 9, 1},
	}, got)
}

// writeSample writes a small channel: a root topic with a video and an
// exercise that needs the video first.
func writeSample(t *testing.T, path string) {
	ctx := context.Background()
	w, err := kolibri.Create(ctx, path)
	require.NoError(t, err)
	const ch, root, video, ex = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0", "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
	nums := kolibri.Number(root, map[string][]string{root: {video, ex}})
	require.NoError(t, w.Language(ctx, kolibri.Language{ID: "en", Code: "en", Name: "English", Direction: "ltr"}))
	for _, n := range []kolibri.Node{
		{ID: root, ContentID: ch, ChannelID: ch, Title: "Maths", Kind: "topic", Available: true, Options: "{}", LangID: "en"},
		{ID: video, ParentID: root, ContentID: video, ChannelID: ch, Title: "Intro", Kind: "video", Available: true,
			LicenseName: "CC BY", LicenseOwner: "LE", Options: "{}", LearningActivities: "UD5UGM0z", LangID: "en", SortOrder: 1},
		{ID: ex, ParentID: root, ContentID: ex, ChannelID: ch, Title: "Sums", Kind: "exercise", Available: true,
			LicenseName: "CC BY", LicenseOwner: "LE", Options: `{"completion_criteria": {"model": "mastery"}}`, SortOrder: 2},
	} {
		num := nums[n.ID]
		n.Lft, n.Rght, n.Level = num.Lft, num.Rght, num.Level
		require.NoError(t, w.Node(ctx, n))
	}
	require.NoError(t, w.LocalFile(ctx, kolibri.LocalFile{Checksum: "0123456789abcdef0123456789abcdef", Extension: "mp4", Size: 3 << 30}))
	bit := int64(1)
	require.NoError(t, w.File(ctx, kolibri.File{ID: "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1", NodeID: video, Checksum: "0123456789abcdef0123456789abcdef",
		Preset: "high_res_video", Priority: 1, LangID: "en", IncludedPresets: &bit}))
	require.NoError(t, w.Tag(ctx, video, "7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a", "algebra"))
	require.NoError(t, w.Prerequisite(ctx, ex, video))
	require.NoError(t, w.AssessmentMetadata(ctx, kolibri.AssessmentMetadata{ID: "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3", NodeID: ex,
		AssessmentIDs: `["q1"]`, Count: 1, MasteryModel: `{"type": "do_all", "m": 1, "n": 1}`, Randomize: true}))
	require.NoError(t, w.ChannelMetadata(ctx, kolibri.ChannelMetadata{ID: ch, Name: "Maths", RootID: root, Version: 1}))
	require.NoError(t, w.Close(ctx))
}

func TestWriteChecksOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.sqlite3")
	writeSample(t, path)
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	var size sql.NullInt64
	var big int64
	require.NoError(t, db.QueryRow("SELECT file_size, file_size_bigint FROM content_localfile").Scan(&size, &big))
	require.False(t, size.Valid, "a size over 2^31-1 is NULL in file_size")
	require.EqualValues(t, 3<<30, big)
	var version string
	require.NoError(t, db.QueryRow("SELECT min_schema_version FROM content_channelmetadata").Scan(&version))
	require.Equal(t, "5", version, "a plain copy: Kolibri derives learning activities from kinds for 1 to 4")

	// A node whose parent is missing is refused.
	bad := filepath.Join(t.TempDir(), "bad.sqlite3")
	w, err := kolibri.Create(context.Background(), bad)
	require.NoError(t, err)
	defer w.Abort()
	require.Error(t, w.Node(context.Background(), kolibri.Node{ID: "x", ParentID: "missing", ContentID: "x", ChannelID: "c", Title: "x", Kind: "topic", Options: "{}", Lft: 1, Rght: 2}))
}

// TestSchemaMatchesReference compares the tables and columns written with
// the reference's CREATE TABLE statements (kolibri-import.md §1.2): Kolibri
// accepts a file when every table and column of a schema is there.
func TestSchemaMatchesReference(t *testing.T) {
	ref, err := os.ReadFile("../../shared/reference/kolibri-import.md")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has shared/ beside the repository, but: %v", err)
		}
		t.Skip("the reference notes are not beside this repository")
	}
	block := regexp.MustCompile("(?s)### 1\\.2.*?```sql\n(.*?)```").FindSubmatch(ref)
	require.NotNil(t, block)
	refDB, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "ref.sqlite3"))
	require.NoError(t, err)
	defer refDB.Close()
	_, err = refDB.Exec(string(block[1]))
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "c.sqlite3")
	writeSample(t, path)
	ours, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer ours.Close()

	want, got := columns(t, refDB), columns(t, ours)
	for table, cols := range want {
		require.Contains(t, got, table)
		for _, c := range cols {
			require.Contains(t, got[table], c, "%s.%s", table, c)
		}
	}
	// Beyond schema 5: the two additive columns of schema 6.
	require.Contains(t, got["content_file"], "included_presets INTEGER")
	require.Contains(t, got["content_localfile"], "file_size_bigint BIGINT")
	require.Len(t, got, len(want))
}

// columns lists each table's columns as "name TYPE" (NOT NULL marked).
func columns(t *testing.T, db *sql.DB) map[string][]string {
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		cols, err := db.Query("SELECT name, type, \"notnull\" FROM pragma_table_info(?)", table)
		require.NoError(t, err)
		for cols.Next() {
			var name, typ string
			var notnull bool
			require.NoError(t, cols.Scan(&name, &typ, &notnull))
			c := name + " " + strings.ToUpper(typ)
			if notnull {
				c += " NOT NULL"
			}
			out[table] = append(out[table], c)
		}
		require.NoError(t, cols.Err())
		cols.Close()
		sort.Strings(out[table])
	}
	return out
}
