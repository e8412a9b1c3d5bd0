package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestLanguageCodesMigrated stores what older versions wrote (CLDR's "zu"
// for "zul" and "sr-Latn" for "sr-LATN", question type "qti") and runs the
// migration again, as an upgrade does: both rewrites are put back on every
// language column, le-utils codes that CLDR produced ("ak" from "aka") stay.
func TestLanguageCodesMigrated(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ed := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, ed, "Maths")
		root := dbtest.Node(t, d, ch.RootID)
		nodes := dbtest.Tree(t, d, root, "topic T\n  video V\n  exercise E\n  document D")
		jsonb := ""
		if d.Kind == db.Postgres {
			jsonb = "::jsonb"
		}
		item := models.NewID()
		now := time.Now().UTC()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE channels SET language = 'zu', included_languages = '["en","zu","sr-Latn","ak"]'` + jsonb + ` WHERE id = ?`, []any{ch.ID}},
			{`UPDATE content_nodes SET language = 'sr-Latn' WHERE id = ?`, []any{nodes["T"].ID}},
			{`UPDATE content_nodes SET language = 'zu' WHERE id = ?`, []any{nodes["V"].ID}},
			{`UPDATE content_nodes SET language = 'ak' WHERE id = ?`, []any{nodes["D"].ID}},
			{`UPDATE files SET language = 'zu' WHERE node_id = ?`, []any{nodes["V"].ID}},
			{`UPDATE files SET language = 'sr-Latn' WHERE node_id = ?`, []any{nodes["E"].ID}},
			{`INSERT INTO channel_versions (channel_id, version, job_id, resource_count, size, included_languages, created_at)
				VALUES (?, 1, 1, 3, 300, '["zu","fr"]'` + jsonb + `, ?)`, []any{ch.ID, now}},
			{`INSERT INTO assessment_items (id, node_id, assessment_id, type, created_at, modified_at) VALUES (?, ?, ?, 'qti', ?, ?)`,
				[]any{item, nodes["E"].ID, models.NewID(), now, now}},
		} {
			_, err := d.ForTest(t).NewRaw(q.sql, q.args...).Exec(ctx)
			require.NoError(t, err, q.sql)
		}

		_, err := d.ForTest(t).NewRaw("DELETE FROM bun_migrations WHERE name = '20261204000002'").Exec(ctx)
		require.NoError(t, err)
		require.NoError(t, d.Migrate(ctx))

		var got struct {
			Channel, Topic, Video, Document, VideoFile, ExerciseFile, ItemType string
			Included, VersionIncluded                                          string
		}
		for _, q := range []struct {
			dst  *string
			sql  string
			args []any
		}{
			{&got.Channel, `SELECT language FROM channels WHERE id = ?`, []any{ch.ID}},
			{&got.Included, `SELECT included_languages FROM channels WHERE id = ?`, []any{ch.ID}},
			{&got.VersionIncluded, `SELECT included_languages FROM channel_versions WHERE channel_id = ?`, []any{ch.ID}},
			{&got.Topic, `SELECT language FROM content_nodes WHERE id = ?`, []any{nodes["T"].ID}},
			{&got.Video, `SELECT language FROM content_nodes WHERE id = ?`, []any{nodes["V"].ID}},
			{&got.Document, `SELECT language FROM content_nodes WHERE id = ?`, []any{nodes["D"].ID}},
			{&got.VideoFile, `SELECT language FROM files WHERE node_id = ?`, []any{nodes["V"].ID}},
			{&got.ExerciseFile, `SELECT language FROM files WHERE node_id = ?`, []any{nodes["E"].ID}},
			{&got.ItemType, `SELECT type FROM assessment_items WHERE id = ?`, []any{item}},
		} {
			require.NoError(t, d.ForTest(t).NewRaw(q.sql, q.args...).Scan(ctx, q.dst), q.sql)
		}
		require.Equal(t, "zul", got.Channel)
		require.JSONEq(t, `["en","zul","sr-LATN","ak"]`, got.Included, "order kept")
		require.JSONEq(t, `["zul","fr"]`, got.VersionIncluded)
		require.Equal(t, "sr-LATN", got.Topic)
		require.Equal(t, "zul", got.Video)
		require.Equal(t, "ak", got.Document, "a le-utils code stays")
		require.Equal(t, "zul", got.VideoFile)
		require.Equal(t, "sr-LATN", got.ExerciseFile)
		require.Equal(t, models.QuestionQTI, got.ItemType)
		for _, code := range []string{got.Channel, got.Topic, got.Video, got.Document, got.VideoFile} {
			_, err := models.LanguageByCode(code)
			require.NoError(t, err, code)
		}
	})
}
