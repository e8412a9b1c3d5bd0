package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// editorAPI is a server with one editor, their token and a channel of theirs.
type editorAPI struct {
	*api
	token   string
	channel string
	root    string
	trash   string
}

func newEditorAPI(t *testing.T, d *db.DB) *editorAPI {
	a := newAPI(t, d, server.Config{})
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
	data := a.ok(token, `mutation { createChannel(input: {name: "Maths", language: "en"}) { id root { id } trashRoot { id } } }`, nil)
	return &editorAPI{api: a, token: token,
		channel: get(data, "createChannel", "id").(string),
		root:    get(data, "createChannel", "root", "id").(string),
		trash:   get(data, "createChannel", "trashRoot", "id").(string)}
}

// create makes nodes through createContentNodes and returns their ids.
func (e *editorAPI) create(t *testing.T, inputs ...map[string]any) []string {
	t.Helper()
	list := make([]any, len(inputs))
	for i, in := range inputs {
		list[i] = in
	}
	data := e.ok(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": list})
	var ids []string
	for _, n := range get(data, "createContentNodes").([]any) {
		ids = append(ids, get(n, "id").(string))
	}
	return ids
}

func (e *editorAPI) childTitles(t *testing.T, parent string) []string {
	t.Helper()
	data := e.ok(e.token, `query($id: ID!) { contentNode(id: $id) { children(first: 1000) { edges { node { title } } } } }`, map[string]any{"id": parent})
	var out []string
	for _, edge := range get(data, "contentNode", "children", "edges").([]any) {
		out = append(out, get(edge, "node", "title").(string))
	}
	return out
}

func TestNodeMutationsSmoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t,
			map[string]any{"parentId": e.root, "kind": "topic", "title": "Algebra"},
			map[string]any{"parentId": e.root, "kind": "video", "title": "Intro", "license": "CC BY", "copyrightHolder": "Me", "tags": []any{"maths", "intro"}},
		)
		require.Len(t, ids, 2)
		require.Equal(t, []string{"Algebra", "Intro"}, e.childTitles(t, e.root))
		e.create(t, map[string]any{"parentId": ids[0], "kind": "exercise", "title": "Practice", "extraFields": map[string]any{"randomize": true}})
		e.ok(e.token, `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t, position: FIRST_CHILD) { id } }`, map[string]any{"ids": []any{ids[1]}, "t": ids[0]})
		require.Equal(t, []string{"Intro", "Practice"}, e.childTitles(t, ids[0]))
		e.ok(e.token, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id title } }`, map[string]any{"in": []any{map[string]any{"sourceId": ids[0], "target": e.root, "mods": map[string]any{"title": "Algebra 2"}}}})
		require.Equal(t, []string{"Algebra", "Algebra 2"}, e.childTitles(t, e.root))
		e.ok(e.token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": []any{ids[0]}})
		require.Equal(t, []string{"Algebra 2"}, e.childTitles(t, e.root))
		require.Equal(t, []string{"Algebra"}, e.childTitles(t, e.trash))
		dbtest.CheckTree(t, d)
	})
}
