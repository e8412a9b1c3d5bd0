package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/studiotest"
)

// TestPageInfo: every connection's PageInfo has Relay's four fields, over
// the direct reader (children) and gqlgen's (channels, Channel.nodes).
func TestPageInfo(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "A"},
			map[string]any{"parentId": e.root, "kind": "topic", "title": "B"},
			map[string]any{"parentId": e.root, "kind": "topic", "title": "C"})
		e.OK(e.token, `mutation { createChannel(input: {name: "Second", language: "en"}) { id } }`, nil)
		for name, c := range map[string]struct{ first, next string }{
			"children": {`query($r: ID!) { contentNode(id: $r) { children(first: 2) { pageInfo { ...P } } } }`,
				`query($r: ID!, $a: String) { contentNode(id: $r) { children(first: 2, after: $a) { edges { cursor } pageInfo { ...P } } } }`},
			"channels": {`{ channels(first: 1) { pageInfo { ...P } } }`,
				`query($a: String) { channels(first: 1, after: $a) { edges { cursor } pageInfo { ...P } } }`},
		} {
			const frag = ` fragment P on PageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
			at := func(data map[string]any) map[string]any {
				if name == "children" {
					return get(data, "contentNode", "children").(map[string]any)
				}
				return data["channels"].(map[string]any)
			}
			first := at(e.OK(e.token, c.first+frag, map[string]any{"r": e.root}))["pageInfo"].(map[string]any)
			require.Equal(t, true, first["hasNextPage"], name)
			require.Equal(t, false, first["hasPreviousPage"], name)
			require.NotNil(t, first["startCursor"], name)
			next := at(e.OK(e.token, c.next+frag, map[string]any{"r": e.root, "a": first["endCursor"]}))
			info := next["pageInfo"].(map[string]any)
			require.Equal(t, true, info["hasPreviousPage"], "%s: a page after a cursor", name)
			require.Equal(t, get(next, "edges", 0, "cursor"), info["startCursor"], name)
		}
	})
}

// TestLinks: a file and a question link to their node, so that a client's
// cache updates the node (its files, its completeness) from the mutation's
// answer; a file of no node has none.
func TestLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t, map[string]any{"parentId": e.root, "kind": "document", "title": "Notes"},
			map[string]any{"parentId": e.root, "kind": "exercise", "title": "Quiz", "extraFields": map[string]any{"randomize": true}})
		r := e.Upload(e.token, `mutation($in: UploadFileInput!) { uploadFile(input: $in) { id node { id complete files { id } } } }`,
			map[string]any{"in": map[string]any{"preset": "document", "nodeId": ids[0]}},
			studiotest.File{Path: "variables.in.file", Name: "notes.pdf", Data: []byte("%PDF-1.4 notes")})
		require.Empty(t, r.Errors, "%s", r.Body)
		require.Equal(t, ids[0], get(r.Data, "uploadFile", "node", "id"))
		require.Equal(t, get(r.Data, "uploadFile", "id"), get(r.Data, "uploadFile", "node", "files", 0, "id"), "the node as it is after the upload")

		data := e.OK(e.token, `mutation($n: ID!) { createAssessmentItems(input: [{nodeId: $n, type: input_question, question: "2+2?"}]) { id assessmentId node { id title } } }`,
			map[string]any{"n": ids[1]})
		require.Equal(t, "Quiz", get(data, "createAssessmentItems", 0, "node", "title"))
		// A deleted question's own id comes back, for a cache to evict it.
		gone := e.OK(e.token, `mutation($k: [AssessmentItemKey!]!) { deleteAssessmentItems(input: $k) { id nodeId } }`,
			map[string]any{"k": []any{map[string]any{"nodeId": ids[1], "assessmentId": get(data, "createAssessmentItems", 0, "assessmentId")}}})
		require.Equal(t, get(data, "createAssessmentItems", 0, "id"), get(gone, "deleteAssessmentItems", 0, "id"))

		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		r = e.Upload(stranger, `mutation($in: UploadFileInput!) { uploadFile(input: $in) { id node { id } } }`,
			map[string]any{"in": map[string]any{"preset": "document"}},
			studiotest.File{Path: "variables.in.file", Name: "loose.pdf", Data: []byte("%PDF-1.4 loose")})
		require.Empty(t, r.Errors, "%s", r.Body)
		require.Nil(t, get(r.Data, "uploadFile", "node"), "a file of no node")
	})
}
