package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

const (
	mathematics = "d&WXdXWF.qs0Xlaxq" // le-utils subjects.MATHEMATICS
	lowerPrim   = "wnarlxKo"          // le-utils levels.LOWER_PRIMARY
)

// TestLabelsValidated checks that label ids are le-utils' on every way a
// client writes them: typed mutations and applyChanges, whole maps and dot
// paths. An unknown id is BAD_USER_INPUT naming the label set and the
// closest ids; removing one is always allowed.
func TestLabelsValidated(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		create := `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id categories gradeLevels } }`
		update := `mutation($in: [UpdateContentNodeInput!]!) { updateContentNodes(input: $in) { id categories gradeLevels } }`

		// Typed mutations: known ids are stored as given.
		data := e.OK(e.token, create, map[string]any{"in": []any{map[string]any{"parentId": e.root, "kind": "topic", "title": "T",
			"categories": []any{mathematics}, "gradeLevels": []any{lowerPrim}}}})
		id := get(data, "createContentNodes", 0, "id").(string)
		require.Equal(t, map[string]any{mathematics: true}, get(data, "createContentNodes", 0, "categories"))

		for _, tc := range []struct {
			name, query string
			in          map[string]any
			set, hint   string
		}{
			{"create", create, map[string]any{"parentId": e.root, "kind": "topic", "title": "U", "categories": []any{"MATHEMATICS"}}, "subjects", mathematics},
			{"update", update, map[string]any{"id": id, "mods": map[string]any{"grade_levels": map[string]any{"wnarlxko": true}}}, "levels", lowerPrim},
			{"update mods", update, map[string]any{"id": id, "mods": map[string]any{"categories.d&WXdXWF.qs0Xlax": true}}, "subjects", mathematics},
			{"another set's id", create, map[string]any{"parentId": e.root, "kind": "topic", "title": "W", "learnerNeeds": []any{mathematics}}, "needs", ""},
		} {
			r := e.Do(e.token, tc.query, map[string]any{"in": []any{tc.in}})
			require.Equal(t, string(models.CodeBadUserInput), r.Code(), tc.name)
			require.Contains(t, r.Errors[0].Message, "le-utils' "+tc.set, tc.name)
			if tc.hint != "" {
				require.Contains(t, r.Errors[0].Message, `did you mean "`+tc.hint+`"`, tc.name)
			}
		}

		// applyChanges: a whole map and a dot path, each refused on its own.
		bad := models.NewID().String()
		r := e.sync(e.token, false,
			nodeCreate(1, bad, e.root, map[string]any{"kind": "topic", "title": "V", "grade_levels": map[string]any{"nope": true}}),
			map[string]any{"type": "UPDATED", "table": "contentnode", "key": id, "clientRev": 2,
				"mods": map[string]any{"accessibility_labels.Kxx#meDX": true}},
			map[string]any{"type": "UPDATED", "table": "contentnode", "key": id, "clientRev": 3,
				"mods": map[string]any{"learning_activities": map[string]any{"UD5UGM0z": true}}})
		require.Len(t, r["errors"], 2)
		require.Equal(t, "grade_levels.nope", get(r, "errors", 0, "field"))
		require.Contains(t, get(r, "errors", 0, "message"), "le-utils' levels")
		require.Equal(t, "accessibility_labels.Kxx#meDX", get(r, "errors", 1, "field"))
		require.Contains(t, get(r, "errors", 1, "message"), `did you mean "Kxx#meDW" (Tagged Pdf)`)
		require.Len(t, r["allowed"], 1)

		// Nothing unknown was stored; a stale id can still be removed.
		n := dbtest.Node(t, d, models.MustParseID(id))
		require.Equal(t, map[string]any{mathematics: true}, n.Categories)
		require.Equal(t, map[string]any{"UD5UGM0z": true}, n.LearningActivities)
		_, err := d.ForTest(t).NewRaw(`UPDATE content_nodes SET categories = '{"stale": true}' WHERE id = ?`, n.ID).Exec(t.Context())
		require.NoError(t, err)
		e.OK(e.token, update, map[string]any{"in": []any{map[string]any{"id": id, "mods": map[string]any{"categories.stale": nil}}}})
		require.Empty(t, dbtest.Node(t, d, n.ID).Categories)
	})
}

// TestLanguageCodesKeptAsGiven checks that le-utils' codes are stored and
// shown exactly as le-utils spells them, on channels, nodes and files, and
// that a code le-utils lacks is refused with the closest ones.
func TestLanguageCodesKeptAsGiven(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		for _, tc := range []struct{ in, want, name string }{
			{"zul", "zul", "Zulu"},
			{"sr-LATN", "sr-LATN", "Serbian, Latin"},
			{"und", "und", "Undetermined"},
			{"aka", "aka", "Akan"},
			{"sr_latn", "sr-LATN", "Serbian, Latin"}, // case and "_" forgiven, le-utils' spelling kept
		} {
			ch := e.OK(e.token, `mutation($l: String) { createChannel(input: {name: "L", language: $l}) { language { id name } } }`, map[string]any{"l": tc.in})
			require.Equal(t, tc.want, get(ch, "createChannel", "language", "id"), tc.in)
			require.Equal(t, tc.name, get(ch, "createChannel", "language", "name"), tc.in)

			n := e.OK(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { language { id } } }`,
				map[string]any{"in": []any{map[string]any{"parentId": e.root, "kind": "topic", "title": "T", "language": tc.in}}})
			require.Equal(t, tc.want, get(n, "createContentNodes", 0, "language", "id"), tc.in)
		}

		for _, code := range []string{"zu", "es-419"} {
			r := e.Do(e.token, `mutation($l: String) { createChannel(input: {name: "L", language: $l}) { id } }`, map[string]any{"l": code})
			require.Equal(t, string(models.CodeBadUserInput), r.Code(), code)
			require.Contains(t, r.Errors[0].Message, "did you mean", code)
		}
		r := e.sync(e.token, false, map[string]any{"type": "UPDATED", "table": "contentnode", "key": e.root, "clientRev": 1,
			"mods": map[string]any{"language": "zu"}})
		require.Len(t, r["errors"], 1)
		require.Contains(t, get(r, "errors", 0, "message"), `did you mean "zul"`)

		// The languages query lists exactly le-utils' codes.
		data := e.OK(e.token, `{ languages { id } }`, nil)
		var ids []string
		for _, l := range get(data, "languages").([]any) {
			ids = append(ids, get(l, "id").(string))
		}
		require.Len(t, ids, len(models.Languages()))
		require.Contains(t, ids, "zul")
		require.Contains(t, ids, "sr-LATN")
		require.Contains(t, ids, "und")
		require.NotContains(t, ids, "zu")
		require.NotContains(t, ids, "sr-Latn")
	})
}
