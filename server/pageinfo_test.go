package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
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
