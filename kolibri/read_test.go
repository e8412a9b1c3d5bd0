package kolibri_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/kolibri"
	"studio/kolibri/kolibritest"
	"studio/models"
)

// TestReadSchemas: schema 6 (what studio writes) and 5 are read; older
// schemas are refused with their name and the Kolibri that wrote them;
// anything else is not a content database.
func TestReadSchemas(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		alter   []string
		schema  string
		message string
	}{
		{"schema 6", nil, "6", ""},
		{"schema 5", []string{"ALTER TABLE content_file DROP COLUMN included_presets", "ALTER TABLE content_localfile DROP COLUMN file_size_bigint"}, "5", ""},
		{"schema 4", dropColumns("grade_levels", "resource_types", "learning_activities", "accessibility_labels", "categories", "learner_needs", "duration"),
			"", `content schema "4" (Kolibri 0.14)`},
		{"schema 3", append(dropColumns("grade_levels", "resource_types", "learning_activities", "accessibility_labels", "categories", "learner_needs", "duration", "options"),
			"ALTER TABLE content_channelmetadata DROP COLUMN tagline"), "", `content schema "3" (Kolibri 0.13)`},
		{"no nodes table", []string{"DROP TABLE content_contentnode_tags", "DROP TABLE content_contentnode_has_prerequisite", "DROP TABLE content_contentnode_related",
			"DROP TABLE content_file", "DROP TABLE content_assessmentmetadata", "DROP TABLE content_channelmetadata", "DROP TABLE content_contentnode"}, "", "not a Kolibri content database"},
		{"no channel row", []string{"DELETE FROM content_channelmetadata"}, "", "content_channelmetadata is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := kolibritest.Write(ctx, t.TempDir(), kolibritest.Options{Topics: 2, Leaves: 2})
			require.NoError(t, err)
			db, err := sql.Open("sqlite", "file:"+src.Path+"?_pragma=foreign_keys(0)")
			require.NoError(t, err)
			for _, q := range tc.alter {
				_, err := db.Exec(q)
				require.NoError(t, err, q)
			}
			require.NoError(t, db.Close())
			got, err := kolibri.Read(ctx, src.Path, src.ID)
			if tc.message != "" {
				require.Equal(t, models.CodeBadUserInput, models.CodeOf(err), "%v", err)
				require.Contains(t, err.Error(), tc.message)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.schema, got.Schema)
			require.Len(t, got.Nodes, src.Nodes)
			require.Equal(t, src.ID.String(), got.Nodes[0].ID, "the root first")
			for i, n := range got.Nodes[1:] {
				require.Greater(t, n.Lft, got.Nodes[i].Lft, "in lft order")
			}
			require.Len(t, got.Nodes[2].Files, 1)
			require.EqualValues(t, 16, got.Nodes[2].Files[0].Size)

			_, err = kolibri.Read(ctx, src.Path, models.NewID())
			require.Contains(t, err.Error(), "holds channel "+src.ID.String())
		})
	}
}

func dropColumns(cols ...string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = "ALTER TABLE content_contentnode DROP COLUMN " + c
	}
	return out
}

// TestReadPerseusArchive: an archive read back gives the questions it was
// made from, which make the same archive again; an item no template made
// is a perseus_question with its JSON, references pointing at content
// storage again; an image not named by its md5 is renamed.
func TestReadPerseusArchive(t *testing.T) {
	sumOf := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
	imgs := map[string][]byte{}
	for _, data := range [][]byte{[]byte("first image"), []byte("second image")} {
		imgs[sumOf(data)+".png"] = data
	}
	var names []string
	for name := range imgs {
		names = append(names, name)
	}
	ref := func(name, size string) string { return "![pic](${☣ CONTENTSTORAGE}/" + name + size + ")" }
	single := item(models.QuestionSingleSelection, "Pick "+ref(names[0], " =100x50.5")+" $$x$$", answer("a "+ref(names[1], ""), true, 1), answer("b", false, 2))
	single.Randomize = true
	single.Hints = []any{hint("Think "+ref(names[1], " =2x3"), 1)}
	multi := item(models.QuestionMultipleSelection, "Both?", answer("x", true, 1), answer("y", true, 2))
	input := item(models.QuestionInput, "How much?", answer("1/2", true, 1), answer("3", true, 2))
	raw := item(models.QuestionPerseus, "")
	raw.RawData = `{"question":{"content":"` + ref(names[0], "") + `","images":{},"widgets":{}},"hints":[]}`
	items := []*models.AssessmentItem{single, multi, input, raw}
	ex := kolibri.Exercise{MasteryModel: models.MasteryDoAll, Randomize: true, Items: items}
	image := func(name string) ([]byte, error) { return imgs[name], nil }
	data, err := kolibri.PerseusArchive(ex, image)
	require.NoError(t, err)
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.AssessmentID.String()
	}

	got, err := kolibri.ReadPerseusArchive(data, ids)
	require.NoError(t, err)
	require.Equal(t, imgs, got.Images)
	require.Len(t, got.Items, 4)
	for i, it := range got.Items {
		require.Equal(t, items[i].AssessmentID, it.AssessmentID)
		require.Equal(t, i+1, it.Order)
	}
	require.Equal(t, models.QuestionSingleSelection, got.Items[0].Type)
	require.Equal(t, "Pick "+ref(names[0], " =100x50.5")+" $x$", got.Items[0].Question, "the size is back in the markdown; $$ was made $ by the export")
	require.True(t, got.Items[0].Randomize)
	require.Equal(t, []any{map[string]any{"answer": "a " + ref(names[1], ""), "correct": true, "order": 1},
		map[string]any{"answer": "b", "correct": false, "order": 2}}, got.Items[0].Answers)
	require.Equal(t, []any{map[string]any{"hint": "Think " + ref(names[1], " =2x3"), "order": 1}}, got.Items[0].Hints)
	require.Equal(t, models.QuestionMultipleSelection, got.Items[1].Type)
	require.Equal(t, models.QuestionInput, got.Items[2].Type)
	require.Equal(t, []any{map[string]any{"answer": "0.5", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": true, "order": 2}}, got.Items[2].Answers)
	require.Equal(t, models.QuestionPerseus, got.Items[3].Type)
	require.Equal(t, raw.RawData, got.Items[3].RawData)
	require.ElementsMatch(t, names, got.ItemImages[0])
	require.Equal(t, []string{names[0]}, got.ItemImages[3])
	require.Equal(t, models.MasteryDoAll, got.Exercise["legacy_mastery_model"])

	again, err := kolibri.PerseusArchive(kolibri.Exercise{MasteryModel: models.MasteryDoAll, Randomize: true, Items: got.Items}, image)
	require.NoError(t, err)
	require.Equal(t, data, again, "the questions read make the same archive, byte for byte")

	// A radio item that no template made (an extra key) stays as it is.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	odd := models.NewID()
	oddJSON := `{"question":{"content":"![](${☣ LOCALPATH}/images/cat.png)\n\n[[☃ radio 1]]","images":{},"widgets":{"radio 1":{"type":"radio","options":{"choices":[{"content":"a","correct":true}]}}}},"extra":1}`
	for name, body := range map[string]string{odd.String() + ".json": oddJSON, "images/cat.png": "meow"} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	got, err = kolibri.ReadPerseusArchive(buf.Bytes(), []string{odd.String()})
	require.NoError(t, err)
	cat := sumOf([]byte("meow")) + ".png"
	require.Equal(t, map[string][]byte{cat: []byte("meow")}, got.Images, "named by its md5")
	require.Equal(t, models.QuestionPerseus, got.Items[0].Type)
	require.Equal(t, strings.ReplaceAll(oddJSON, "${☣ LOCALPATH}/images/cat.png", "${☣ CONTENTSTORAGE}/"+cat), got.Items[0].RawData)
	require.Equal(t, []string{cat}, got.ItemImages[0])

	_, err = kolibri.ReadPerseusArchive(buf.Bytes(), []string{models.NewID().String()})
	require.Equal(t, models.CodeBadUserInput, models.CodeOf(err), "a question the archive lacks")
	_, err = kolibri.ReadPerseusArchive([]byte("not a zip"), nil)
	require.Equal(t, models.CodeBadUserInput, models.CodeOf(err))
}

// TestMapper: what studio would refuse is left out and said; the rest maps
// as the export wrote it.
func TestMapper(t *testing.T) {
	n := &kolibri.SourceNode{Node: kolibri.Node{ID: models.NewID().String(), ContentID: models.NewID().String(), Kind: models.KindVideo,
		Title: strings.Repeat("t", 250), LicenseName: "CC BY-SA", LicenseOwner: "Owner", LangID: "klingon", Level: 2,
		GradeLevels: "wnarlxKo,notALabel", LearningActivities: "UD5UGM0z", CoachContent: true, Duration: ptr(42),
		Options: `{"completion_criteria":{"model":"no such model"},"modality":"QUIZ"}`},
		Tags: []string{"ok", strings.Repeat("long", 10)}}
	n.Files = []kolibri.SourceFile{
		{File: kolibri.File{ID: models.NewID().String(), Checksum: strings.Repeat("a", 32), Preset: "high_res_video"}, Extension: "mp4", Size: 10},
		{File: kolibri.File{ID: models.NewID().String(), Checksum: strings.Repeat("b", 32), Preset: "document"}, Extension: "pdf", Size: 10},
		{File: kolibri.File{ID: models.NewID().String(), Checksum: strings.Repeat("c", 32), Preset: "video_subtitle", LangID: "zul"}, Extension: "vtt", Size: 1},
	}
	m := &kolibri.Mapper{Src: &kolibri.Source{Channel: kolibri.ChannelMetadata{ID: models.NewID().String()}}}
	cn := m.Node(n, nil)
	require.Len(t, []rune(cn.Title), 200)
	require.Equal(t, "CC BY-SA", cn.License)
	require.Empty(t, cn.Language)
	require.Equal(t, map[string][]string{"grade_levels": {"wnarlxKo"}, "learning_activities": {"UD5UGM0z"}}, cn.Labels)
	require.Equal(t, models.RoleCoach, cn.Role)
	require.Equal(t, 42, *cn.SuggestedDuration)
	require.Equal(t, []string{"ok"}, cn.Tags)
	require.Equal(t, map[string]any{"options": map[string]any{"modality": "QUIZ"}}, cn.ExtraFields)
	require.Len(t, cn.Files, 2, "a document preset on a video is left out")
	require.Equal(t, 42, *cn.Files[0].Duration, "publishing takes a video's duration from its file")
	require.Nil(t, cn.Files[1].Duration)
	require.Equal(t, "zul", cn.Files[1].Language)
	require.Len(t, m.Warnings, 6, "%q", m.Warnings)
}

func ptr[T any](v T) *T { return &v }
