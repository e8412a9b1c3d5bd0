package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

// editorAPI is a server with one editor, their token and a channel of theirs.
type editorAPI struct {
	*api
	t       testing.TB
	token   string
	channel string
	root    string
	trash   string
}

func newEditorAPI(t testing.TB, d *db.DB) *editorAPI {
	a := newAPI(t, d, server.Config{})
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
	data := a.OK(token, `mutation { createChannel(input: {name: "Maths", language: "en"}) { id root { id } trashRoot { id } } }`, nil)
	return &editorAPI{api: a, t: t, token: token,
		channel: get(data, "createChannel", "id").(string),
		root:    get(data, "createChannel", "root", "id").(string),
		trash:   get(data, "createChannel", "trashRoot", "id").(string)}
}

// create makes nodes through createContentNodes and returns their ids.
func (e *editorAPI) create(t testing.TB, inputs ...map[string]any) []string {
	t.Helper()
	list := make([]any, len(inputs))
	for i, in := range inputs {
		list[i] = in
	}
	data := e.OK(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": list})
	var ids []string
	for _, n := range get(data, "createContentNodes").([]any) {
		ids = append(ids, get(n, "id").(string))
	}
	return ids
}

func (e *editorAPI) childTitles(t *testing.T, parent string) []string {
	t.Helper()
	data := e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { children(first: 1000) { edges { node { title } } } } }`, map[string]any{"id": parent})
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
		e.OK(e.token, `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t, position: FIRST_CHILD) { id } }`, map[string]any{"ids": []any{ids[1]}, "t": ids[0]})
		require.Equal(t, []string{"Intro", "Practice"}, e.childTitles(t, ids[0]))
		e.OK(e.token, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id title } }`, map[string]any{"in": []any{map[string]any{"sourceId": ids[0], "target": e.root, "mods": map[string]any{"title": "Algebra 2"}}}})
		require.Equal(t, []string{"Algebra", "Algebra 2"}, e.childTitles(t, e.root))
		e.OK(e.token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": []any{ids[0]}})
		require.Equal(t, []string{"Algebra 2"}, e.childTitles(t, e.root))
		require.Equal(t, []string{"Algebra"}, e.childTitles(t, e.trash))
		dbtest.CheckTree(t, d)
	})
}

func TestNodeMutationsRefuseBadBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "A"})
		child := e.create(t, map[string]any{"parentId": ids[0], "kind": "topic", "title": "A1"})
		before := counts(t, d)

		// One bad item refuses the whole batch and is named by index.
		r := e.Do(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": []any{
			map[string]any{"parentId": e.root, "kind": "topic", "title": "fine"},
			map[string]any{"parentId": e.root, "kind": "topic", "title": "fine too", "tags": []any{"a tag much longer than thirty characters"}},
			map[string]any{"parentId": e.root, "kind": "exercise", "title": "no randomize"},
		}})
		require.Equal(t, "BAD_USER_INPUT", r.Code())
		items := r.Errors[0].Extensions["items"].([]any)
		require.Len(t, items, 2)
		require.EqualValues(t, 1, get(items[0], "index"))
		require.Equal(t, "tags", get(items[0], "field"))
		require.EqualValues(t, 2, get(items[1], "index"))
		require.Equal(t, "extraFields.randomize", get(items[1], "field"))
		require.Nil(t, r.Data["createContentNodes"])

		// A move into the node's own descendant.
		r = e.Do(e.token, `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`, map[string]any{"ids": []any{ids[0]}, "t": child[0]})
		require.Equal(t, "BAD_USER_INPUT", r.Code())
		require.Contains(t, r.Errors[0].Message, "descendants")

		// More than 1,000 items.
		many := make([]any, 1001)
		for i := range many {
			many[i] = map[string]any{"parentId": e.root, "kind": "topic", "title": "x"}
		}
		r = e.Do(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": many})
		require.Equal(t, "BAD_USER_INPUT", r.Code())

		// Unknown and malformed ids.
		r = e.Do(e.token, `mutation($in: [UpdateContentNodeInput!]!) { updateContentNodes(input: $in) { id } }`, map[string]any{"in": []any{map[string]any{"id": "0123456789abcdef0123456789abcdef", "title": "x"}}})
		require.Equal(t, "NOT_FOUND", r.Code())
		r = e.Do(e.token, `mutation { updateContentNodes(input: [{id: "nope", title: "x"}]) { id } }`, nil)
		require.Equal(t, "BAD_USER_INPUT", r.Code())
		require.Equal(t, before, counts(t, d), "a refused batch changed the database")
	})
}

func TestNodeMutationPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "A"})
		viewer := dbtest.Token(t, d, dbtest.User(t, d, "viewer@example.org", false))
		other := dbtest.Token(t, d, dbtest.User(t, d, "other@example.org", false))
		e.OK(e.token, `mutation($c: ID!) { addChannelViewer(channelId: $c, email: "viewer@example.org") { id } }`, map[string]any{"c": e.channel})
		before := counts(t, d)
		const q = `mutation($in: [UpdateContentNodeInput!]!) { updateContentNodes(input: $in) { id } }`
		vars := map[string]any{"in": []any{map[string]any{"id": ids[0], "title": "mine"}}}
		require.Equal(t, "UNAUTHENTICATED", e.Do("", q, vars).Code())
		require.Equal(t, "FORBIDDEN", e.Do(viewer, q, vars).Code())
		require.Equal(t, "NOT_FOUND", e.Do(other, q, vars).Code())
		require.Equal(t, before, counts(t, d))

		// A viewer may copy into a channel of their own; the copy is frozen.
		mine := e.OK(viewer, `mutation { createChannel(input: {name: "Mine"}) { root { id } } }`, nil)
		cp := e.OK(viewer, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { title freezeAuthoringData sourceChannelId } }`,
			map[string]any{"in": []any{map[string]any{"sourceId": ids[0], "target": get(mine, "createChannel", "root", "id")}}})
		require.Equal(t, true, get(cp, "copyContentNodes", 0, "freezeAuthoringData"))
		require.Equal(t, e.channel, get(cp, "copyContentNodes", 0, "sourceChannelId"))
		// A stranger may not copy from a private channel.
		theirs := e.OK(other, `mutation { createChannel(input: {name: "Theirs"}) { root { id } } }`, nil)
		r := e.Do(other, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
			map[string]any{"in": []any{map[string]any{"sourceId": ids[0], "target": get(theirs, "createChannel", "root", "id")}}})
		require.Equal(t, "NOT_FOUND", r.Code())
	})
}

func TestExercisesAndPrerequisites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t,
			map[string]any{"parentId": e.root, "kind": "exercise", "title": "Sums", "license": "CC BY", "copyrightHolder": "Me",
				"extraFields": map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}},
			map[string]any{"parentId": e.root, "kind": "video", "title": "Lesson"})
		ex := ids[0]
		r := e.OK(e.token, `mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { assessmentId type answers } }`, map[string]any{"in": []any{
			map[string]any{"nodeId": ex, "type": "single_selection", "question": "1+1?", "answers": []any{
				map[string]any{"answer": "2", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": false, "order": 2}}},
		}})
		aid := get(r, "createAssessmentItems", 0, "assessmentId").(string)
		node := e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { complete assessmentItems { question } } }`, map[string]any{"id": ex})
		require.Equal(t, true, get(node, "contentNode", "complete"), "an exercise with a mastery model and a good question is complete")
		require.Equal(t, "1+1?", get(node, "contentNode", "assessmentItems", 0, "question"))

		// Bad answers are refused.
		bad := e.Do(e.token, `mutation($in: [UpdateAssessmentItemInput!]!) { updateAssessmentItems(input: $in) { assessmentId } }`, map[string]any{"in": []any{
			map[string]any{"nodeId": ex, "assessmentId": aid, "answers": []any{map[string]any{"answer": 2}}}}})
		require.Equal(t, "BAD_USER_INPUT", bad.Code())
		e.OK(e.token, `mutation($in: [AssessmentItemKey!]!) { deleteAssessmentItems(input: $in) { assessmentId } }`, map[string]any{"in": []any{map[string]any{"nodeId": ex, "assessmentId": aid}}})
		node = e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { complete assessmentItems { question } } }`, map[string]any{"id": ex})
		require.Equal(t, false, get(node, "contentNode", "complete"))
		require.Empty(t, get(node, "contentNode", "assessmentItems"))

		p := e.OK(e.token, `mutation($in: [PrerequisiteInput!]!) { addPrerequisites(input: $in) { id prerequisites { title } } }`,
			map[string]any{"in": []any{map[string]any{"nodeId": ex, "prerequisiteId": ids[1]}}})
		require.Equal(t, "Lesson", get(p, "addPrerequisites", 0, "prerequisites", 0, "title"))
		self := e.Do(e.token, `mutation($in: [PrerequisiteInput!]!) { addPrerequisites(input: $in) { id } }`,
			map[string]any{"in": []any{map[string]any{"nodeId": ex, "prerequisiteId": ex}}})
		require.Equal(t, "BAD_USER_INPUT", self.Code())

		u := e.OK(e.token, `mutation($id: ID!) { updateDescendants(id: $id, mods: {language: "fr"}) { language { id } } }`, map[string]any{"id": e.root})
		require.Equal(t, "fr", get(u, "updateDescendants", "language", "id"))
		dbtest.CheckTree(t, d)
	})
}

// TestJSONFieldsWhenAsked: pages of nodes are read without their JSON
// columns unless the query asks for one; when it does, they are there.
func TestJSONFieldsWhenAsked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		ed := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, ed)
		ch := dbtest.Channel(t, d, ed, "Labels")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "video Intro")
		_, err := d.Apply(context.Background(), ed, []db.Change{{Type: models.ChangeUpdated, Table: db.TableContentNode,
			Key: n["Intro"].ID, Mods: map[string]any{"grade_levels.BkGYi3lD": true}}}, true)
		require.NoError(t, err)
		vars := map[string]any{"c": ch.ID.String()}
		for name, q := range map[string]string{
			"children": `query($c: ID!) { channel(id: $c) { root { children { edges { node { title %s } } } } } }`,
			"nodes":    `query($c: ID!) { channel(id: $c) { nodes(filter: {kinds: [video]}) { edges { node { title %s } } } } }`,
		} {
			path := []any{"channel", "root", "children", "edges", 0, "node"}
			if name == "nodes" {
				path = []any{"channel", "nodes", "edges", 0, "node"}
			}
			brief := a.OK(token, fmt.Sprintf(q, ""), vars)
			require.Equal(t, "Intro", get(brief, append(path, "title")...), name)
			full := a.OK(token, fmt.Sprintf(q, "gradeLevels"), vars)
			require.Equal(t, map[string]any{"BkGYi3lD": true}, get(full, append(path, "gradeLevels")...), name)
		}
	})
}

// TestIncompleteReasons: a node that will not be published says why.
func TestIncompleteReasons(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		ed := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, ed)
		ch := dbtest.Channel(t, d, ed, "Reasons")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "topic Unit\n  video Intro\n  exercise Quiz")
		// Writes recompute completeness (the fixture marks every node complete).
		_, err := d.Apply(context.Background(), ed, []db.Change{
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Intro"].ID, Mods: map[string]any{"license": ""}},
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Quiz"].ID, Mods: map[string]any{"title": "Quiz"}},
		}, true)
		require.NoError(t, err)
		r := a.OK(token, `query($c: ID!) { channel(id: $c) { root { children { edges { node { title complete incompleteReasons
			children { edges { node { title complete incompleteReasons } } } } } } } } }`, map[string]any{"c": ch.ID.String()})
		unit := get(r, "channel", "root", "children", "edges", 0, "node")
		require.Equal(t, []any{}, get(unit, "incompleteReasons"))
		for _, e := range get(unit, "children", "edges").([]any) {
			node := get(e, "node")
			reasons := get(node, "incompleteReasons").([]any)
			require.Equal(t, get(node, "complete") == true, len(reasons) == 0, "%v", node)
			switch get(node, "title") {
			case "Intro":
				require.Contains(t, reasons, "a license is required")
			case "Quiz":
				require.NotEmpty(t, reasons, "an exercise with no questions or mastery model is not complete")
			}
		}
	})
}
