package kolibri_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/kolibri"
	"studio/models"
)

func TestExport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Maths")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Algebra
  video Intro
  exercise Sums
  document Draft
topic Empty
topic Nothing finished
  audio Unfinished`)
		item := models.NewID()
		mastery := map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{
			"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}
		_, err := d.Apply(ctx, u, []db.Change{
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Sums"].ID, Mods: map[string]any{"extra_fields": mastery, "tags.arithmetic": true}},
			{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Sums"].ID, item},
				Obj: map[string]any{"type": "input_question", "question": "1+1", "answers": []any{map[string]any{"answer": "2", "correct": true, "order": 1}}}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Draft"].ID, Mods: map[string]any{"license": ""}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Unfinished"].ID, Mods: map[string]any{"license": ""}},
			{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []models.ID{n["Sums"].ID, n["Intro"].ID}},
			// The server computes completeness: topics with a title are complete.
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Algebra"].ID, Mods: map[string]any{"title": "Algebra"}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Empty"].ID, Mods: map[string]any{"title": "Empty"}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Nothing finished"].ID, Mods: map[string]any{"title": "Nothing finished"}},
		}, true)
		require.NoError(t, err)
		ch, err = reload(ctx, d, ch.ID)
		require.NoError(t, err)

		path := filepath.Join(t.TempDir(), ch.ID.String()+"-1.sqlite3")
		stats, err := export(ctx, d, ch, path)
		require.NoError(t, err)
		require.Equal(t, 2, stats.Resources, "the incomplete document and audio stay out")
		require.Equal(t, map[string]int{"topic": 2, "video": 1, "exercise": 1}, stats.KindCount)
		require.Equal(t, []string{"en"}, stats.Languages)

		out, err := sql.Open("sqlite", "file:"+path)
		require.NoError(t, err)
		defer out.Close()
		var titles []string
		rows, err := out.Query("SELECT title FROM content_contentnode ORDER BY lft")
		require.NoError(t, err)
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			titles = append(titles, s)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, []string{"Maths", "Algebra", "Intro", "Sums"}, titles, "empty topics and incomplete nodes are left out")
		var lft, rght, level int
		require.NoError(t, out.QueryRow("SELECT lft, rght, level FROM content_contentnode WHERE parent_id IS NULL").Scan(&lft, &rght, &level))
		require.Equal(t, []int{1, 8, 0}, []int{lft, rght, level})
		var rootID, minVersion string
		require.NoError(t, out.QueryRow("SELECT root_id, min_schema_version FROM content_channelmetadata").Scan(&rootID, &minVersion))
		require.Equal(t, ch.ID.String(), rootID, "the root's node_id is the channel's id")
		require.Equal(t, kolibri.MinSchemaVersion, minVersion)
		var model string
		require.NoError(t, out.QueryRow("SELECT mastery_model FROM content_assessmentmetadata").Scan(&model))
		require.JSONEq(t, `{"type": "do_all", "m": 1, "n": 1}`, model)
		var count int
		require.NoError(t, out.QueryRow("SELECT count(*) FROM content_contentnode_has_prerequisite").Scan(&count))
		require.Equal(t, 1, count)
		require.NoError(t, out.QueryRow("SELECT count(*) FROM content_file f JOIN content_localfile l ON l.id = f.local_file_id").Scan(&count))
		require.Equal(t, 2, count, "the video's and the exercise's files")
		require.NoError(t, out.QueryRow("SELECT count(*) FROM content_contentnode_tags").Scan(&count))
		require.Equal(t, 1, count)

		// No language, or nothing complete: a clear error, no file.
		ch.LanguageCode = ""
		_, err = export(ctx, d, ch, filepath.Join(t.TempDir(), "x.sqlite3"))
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err))
		empty := dbtest.Channel(t, d, u, "Empty")
		_, err = export(ctx, d, empty, filepath.Join(t.TempDir(), "y.sqlite3"))
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err))
	})
}

func reload(ctx context.Context, d *db.DB, id models.ID) (*models.Channel, error) {
	got, err := d.ChannelsByID(ctx, nil, []models.ID{id})
	if err != nil {
		return nil, err
	}
	return got[id].Channel, nil
}

// export exports ch's main tree as version 1, without exercise archives.
func export(ctx context.Context, d *db.DB, ch *models.Channel, path string) (*kolibri.Stats, error) {
	tree, err := d.LoadTree(ctx, ch.RootID)
	if err != nil {
		return nil, err
	}
	return kolibri.Export(ctx, ch, tree, kolibri.Options{Version: 1}, path)
}

// TestExportLanguageCodes: languages and label ids reach the content
// database exactly as le-utils spells them, since Kolibri's getlang and
// label filters know only those: "zul" stays three letters, "sr-LATN" keeps
// its upper-case subtag and splits into lang_code "sr" and lang_subcode
// "LATN" as le-utils splits it, "und" is a language like any other, and
// every code a node or file uses has its content_language row. The channel
// metadata asks Kolibri for a plain copy, so that it keeps the learning
// activities instead of deriving them from the kinds.
func TestExportLanguageCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Izilimi")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Isihloko
  video Video
  document Srpski`)
		tree, err := d.LoadTree(ctx, ch.RootID)
		require.NoError(t, err)
		require.Len(t, tree.Files[n["Video"].ID], 1)
		videoFile := tree.Files[n["Video"].ID][0]
		on := func(ids ...string) map[string]any {
			m := map[string]any{}
			for _, id := range ids {
				m[id] = true
			}
			return m
		}
		_, err = d.Apply(ctx, u, []db.Change{
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Isihloko"].ID, Mods: map[string]any{
				"title": "Isihloko", "language": "zul",
				"grade_levels": on("Z#97dvst"), "categories": on("d&WXdXWF.qs0Xlaxq", "BCG3&slG.HLo9TbNq"),
				"learner_needs": on("lsoCk5Uy.H&MVs7S#"), "resource_types": on("xgFjFhrA")}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Video"].ID, Mods: map[string]any{
				"language": "und", "grade_levels": on("eLt0Mbu4"), "resource_types": on("WtHeUU1", "rReY3LOO"),
				"learning_activities": on("UD5UGM0z", "3dSeJhqs"), "accessibility_labels": on("WnIhbgkY", "Dr4cVXkc"),
				"categories": on("d&WXdXWF.i1IdaNwr.#r5ocgid"), "learner_needs": on("Hsw9k7Bz.#lLv#LB7")}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Srpski"].ID, Mods: map[string]any{
				"language": "sr-LATN", "learning_activities": on("wA01urpi", "3dSeJhqs"), "accessibility_labels": on("Kxx#meDW")}},
			{Type: models.ChangeUpdated, Table: db.TableFile, Key: videoFile.ID, Mods: map[string]any{"language": "sr-LATN"}},
		}, true)
		require.NoError(t, err)
		ch, err = reload(ctx, d, ch.ID)
		require.NoError(t, err)

		path := filepath.Join(t.TempDir(), ch.ID.String()+"-1.sqlite3")
		stats, err := export(ctx, d, ch, path)
		require.NoError(t, err)
		require.Equal(t, []string{"en", "sr-LATN", "und", "zul"}, stats.Languages, "the channel's and every node's and file's language")

		out, err := sql.Open("sqlite", "file:"+path)
		require.NoError(t, err)
		defer out.Close()
		type language struct{ Code, Subcode, Name, Direction string }
		languages := map[string]language{}
		rows, err := out.Query("SELECT id, lang_code, coalesce(lang_subcode, '<null>'), lang_name, lang_direction FROM content_language")
		require.NoError(t, err)
		for rows.Next() {
			var id string
			var l language
			require.NoError(t, rows.Scan(&id, &l.Code, &l.Subcode, &l.Name, &l.Direction))
			languages[id] = l
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, map[string]language{
			"en":      {"en", "<null>", "English", "ltr"},
			"sr-LATN": {"sr", "LATN", "српски језик", "ltr"},
			"und":     {"und", "<null>", "Undetermined", "ltr"},
			"zul":     {"zul", "<null>", "isiZulu", "ltr"},
		}, languages, "le-utils' code, its split (le-utils' primary_code and subcode) and native name")

		type node struct{ Lang, Grades, Types, Activities, Access, Categories, Needs string }
		nodes := map[string]node{}
		rows, err = out.Query(`SELECT title, coalesce(lang_id, ''), coalesce(grade_levels, ''), coalesce(resource_types, ''),
			coalesce(learning_activities, ''), coalesce(accessibility_labels, ''), coalesce(categories, ''), coalesce(learner_needs, '')
			FROM content_contentnode WHERE parent_id IS NOT NULL`)
		require.NoError(t, err)
		for rows.Next() {
			var title string
			var n node
			require.NoError(t, rows.Scan(&title, &n.Lang, &n.Grades, &n.Types, &n.Activities, &n.Access, &n.Categories, &n.Needs))
			nodes[title] = n
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, map[string]node{
			"Isihloko": {Lang: "zul", Grades: "Z#97dvst", Types: "xgFjFhrA", Categories: "BCG3&slG.HLo9TbNq,d&WXdXWF.qs0Xlaxq", Needs: "lsoCk5Uy.H&MVs7S#"},
			"Video": {Lang: "und", Grades: "eLt0Mbu4", Types: "WtHeUU1,rReY3LOO", Activities: "3dSeJhqs,UD5UGM0z", Access: "Dr4cVXkc,WnIhbgkY",
				Categories: "d&WXdXWF.i1IdaNwr.#r5ocgid", Needs: "Hsw9k7Bz.#lLv#LB7"},
			"Srpski": {Lang: "sr-LATN", Activities: "3dSeJhqs,wA01urpi", Access: "Kxx#meDW"},
		}, nodes, "label ids comma-separated, exactly as le-utils spells them")

		var fileLang string
		require.NoError(t, out.QueryRow("SELECT lang_id FROM content_file WHERE id = ?", videoFile.ID.String()).Scan(&fileLang))
		require.Equal(t, "sr-LATN", fileLang)

		var minVersion string
		require.NoError(t, out.QueryRow("SELECT min_schema_version FROM content_channelmetadata").Scan(&minVersion))
		require.Equal(t, "5", minVersion, "Kolibri sets learning_activities from the kind when it reads 1 to 4")
		var violations int
		require.NoError(t, out.QueryRow("SELECT count(*) FROM pragma_foreign_key_check").Scan(&violations))
		require.Zero(t, violations, "every lang_id has its content_language row")
	})
}
