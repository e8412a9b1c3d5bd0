package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/studiotest"
)

// items is a refused call's extensions.items.
func items(t *testing.T, r studiotest.Response) []any {
	t.Helper()
	require.NotEmpty(t, r.Errors, "refused: %s", r.Body)
	list, _ := r.Errors[0].Extensions["items"].([]any)
	require.NotEmpty(t, list, "extensions.items: %s", r.Body)
	return list
}

// TestErrorItems: every refused input names its items in extensions.items
// ({index, field, code, message}), for one item as for many, with field the
// name the client sent: the GraphQL input's in typed mutations, Studio's in
// applyChanges.
func TestErrorItems(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		create := `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`

		one := items(t, e.Do(e.token, create, map[string]any{"in": []any{
			map[string]any{"parentId": e.root, "kind": "exercise", "title": "No randomize"}}}))
		require.Len(t, one, 1, "one item gets items too")
		require.Equal(t, map[string]any{"index": float64(0), "field": "extraFields.randomize", "code": "BAD_USER_INPUT",
			"message": "extraFields.randomize: this field is required for exercise content (true or false)"}, one[0])

		many := items(t, e.Do(e.token, create, map[string]any{"in": []any{
			map[string]any{"parentId": e.root, "kind": "document", "title": "Fine"},
			map[string]any{"parentId": e.root, "kind": "document", "title": "Bad", "license": "nope"},
			map[string]any{"parentId": e.root, "kind": "document", "title": "Bad holder", "license": "CC BY", "copyrightHolder": longText(300)},
		}}))
		require.Len(t, many, 2)
		require.Equal(t, float64(1), get(many[0], "index"))
		require.Equal(t, "license", get(many[0], "field"))
		require.Equal(t, float64(2), get(many[1], "index"))
		require.Equal(t, "copyrightHolder", get(many[1], "field"))
		require.Regexp(t, "^copyrightHolder: ", get(many[1], "message"))

		ch := items(t, e.Do(e.token, `mutation($c: ID!) { updateChannel(id: $c, input: {name: ""}) { id } }`, map[string]any{"c": e.channel}))
		require.Equal(t, "name", get(ch[0], "field"), "channel mutations likewise")

		gone := items(t, e.Do(e.token, `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`,
			map[string]any{"ids": []string{e.root}, "t": e.trash}))
		require.NotEmpty(t, get(gone[0], "code"), "each item has its code")

		// applyChanges speaks Studio's names, as its clients do, in its own errors list.
		res := e.sync(e.token, true, map[string]any{"type": "CREATED", "table": "contentnode", "key": "0123456789abcdef0123456789abcdef",
			"obj": map[string]any{"parent": e.root, "kind": "exercise", "title": "No randomize"}})
		require.Equal(t, "extra_fields.randomize", get(res, "errors", 0, "field"))
	})
}

// TestMutationFieldsFailAlone: a failing mutation field is null with its
// error, and the others of the operation keep the data of what they did
// (it committed), so that a client's cache learns of it.
func TestMutationFieldsFailAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		id := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "Halves"})[0]
		r := e.Do(e.token, `mutation($id: ID!) {
			a: updateContentNodes(input: [{id: $id, title: "Halves (2)"}]) { id title }
			b: moveContentNodes(ids: [$id], target: "00000000000000000000000000000000") { id } }`, map[string]any{"id": id})
		require.Len(t, r.Errors, 1, "%s", r.Body)
		require.Equal(t, "Halves (2)", get(r.Data, "a", 0, "title"), "the committed edit is in the answer")
		require.Nil(t, r.Data["b"])
		require.Equal(t, []any{"b"}, r.Errors[0].Path)
	})
}

func longText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}
