package server_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestFindingJSONNumberPoison: poison_victim.py. A number that does not fit
// a float64 is refused where any JSON input takes it, so nobody can make a
// channel or node that no longer loads, for its members or for admins.
func TestFindingJSONNumberPoison(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d) // the attacker, with channel Maths
		victim := dbtest.Token(t, d, dbtest.User(t, d, "victim@example.org", false))
		admin := dbtest.Token(t, d, dbtest.User(t, d, "admin@example.org", true))
		e.OK(e.token, `mutation($c: ID!) { addChannelViewer(channelId: $c, email: "victim@example.org") { id } }`, map[string]any{"c": e.channel})
		node := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "T"})[0]
		poison := json.RawMessage(`{"author":1e400}`)
		deep := json.RawMessage(`{"a":[1,{"b":-1e400}]}`)

		for _, tc := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"updateChannel contentDefaults", `mutation($c: ID!, $cd: JSON) { updateChannel(id: $c, input: {contentDefaults: $cd}) { id } }`,
				map[string]any{"c": e.channel, "cd": poison}},
			{"createChannel contentDefaults", `mutation($cd: JSON) { createChannel(input: {name: "P", contentDefaults: $cd}) { id } }`,
				map[string]any{"cd": deep}},
			{"createContentNodes extraFields", `mutation($p: ID!, $x: JSON) { createContentNodes(input: [{parentId: $p, kind: topic, title: "X", extraFields: $x}]) { id } }`,
				map[string]any{"p": e.root, "x": poison}},
			{"updateContentNodes mods", `mutation($n: ID!, $m: JSON) { updateContentNodes(input: [{id: $n, mods: $m}]) { id } }`,
				map[string]any{"n": node, "m": json.RawMessage(`{"extra_fields.author":1e400}`)}},
			{"applyChanges obj", applyChanges, map[string]any{"c": json.RawMessage(`[{"type":"UPDATED","table":"contentnode","key":"` + node + `","mods":{"extra_fields":{"x":1e400}}}]`)}},
			{"a literal inside a document", `mutation($n: ID!) { updateContentNodes(input: [{id: $n, mods: {extra_fields: {x: 1e400}}}]) { id } }`,
				map[string]any{"n": node}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(e.token, tc.query, tc.vars)
				// A literal is refused by validation already (gqlparser reads it as a float64).
				require.Contains(t, []string{"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, r.Code(), "%+v", r.Errors)
			})
		}

		// Nothing was poisoned: the victim's and the admin's lists load, and the node reads and updates.
		for _, tok := range []string{victim, admin} {
			data := e.OK(tok, `{ channels { edges { node { id contentDefaults } } } }`, nil)
			found := false
			for _, edge := range get(data, "channels", "edges").([]any) {
				if get(edge, "node", "id") == e.channel {
					found = true
				}
			}
			require.True(t, found)
		}
		e.OK(e.token, `mutation($n: ID!) { updateContentNodes(input: [{id: $n, title: "Still fine", extraFields: {n: 1e300}}]) { id } }`, map[string]any{"n": node})
		data := e.OK(e.token, `query($n: ID!) { contentNode(id: $n) { title extraFields } }`, map[string]any{"n": node})
		require.Equal(t, "Still fine", get(data, "contentNode", "title"))
		require.Equal(t, 1e300, get(data, "contentNode", "extraFields", "n"))
	})
}

// TestFindingNULRefusedOverHTTP: a NUL in a typed text input is
// BAD_USER_INPUT, not an SQL syntax error and a 500.
func TestFindingNULRefusedOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		for _, in := range []map[string]any{
			{"parentId": e.root, "kind": "topic", "title": "a\x00b"},
			{"parentId": e.root, "kind": "topic", "title": "T", "tags": []string{"x\x00"}},
			{"parentId": e.root, "kind": "topic", "title": "T", "extraFields": map[string]any{"k\x00": "v"}},
		} {
			r := e.Do(e.token, `mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { id } }`, map[string]any{"in": []any{in}})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%+v", r.Errors)
		}
		data := e.OK(e.token, `query($r: ID!) { contentNode(id: $r) { childCount } }`, map[string]any{"r": e.root})
		require.EqualValues(t, 0, get(data, "contentNode", "childCount"))

		// Read arguments too: a filter, a login, an email, in variables and
		// in the document, are refused before any SQL (bun wrote the NUL into
		// the statement as an error string: a syntax error and a 500).
		for _, c := range []struct {
			query string
			vars  map[string]any
		}{
			{`query($k: String) { channels(filter: {keyword: $k}) { totalCount } }`, map[string]any{"k": "a\u0000"}},
			{`query { channels(filter: {keyword: "a\u0000"}) { totalCount } }`, nil},
			{`mutation($e: String!) { login(email: $e, password: "x") { token } }`, map[string]any{"e": "a\u0000@example.org"}},
			{`mutation($c: ID!, $e: String!) { addChannelViewer(channelId: $c, email: $e) { id } }`, map[string]any{"c": e.channel, "e": "v\u0000@example.org"}},
		} {
			r := e.Do(e.token, c.query, c.vars, "X-Studio-Debug", "1")
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s: %+v", c.query, r.Errors)
		}
	})
}

// TestFindingApplyChangesBadMods: small_checks.py. A change whose mods or
// obj is not an object is reported on its own; the others apply, unless
// the batch is atomic.
func TestFindingApplyChangesBadMods(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		good, good2 := models.NewID().String(), models.NewID().String()
		topic := map[string]any{"kind": "topic", "title": "T"}
		bad := map[string]any{"type": "UPDATED", "table": "contentnode", "key": good, "clientRev": 2, "mods": 5}
		badObj := map[string]any{"type": "CREATED", "table": "contentnode", "key": models.NewID().String(), "clientRev": 3, "obj": "x"}

		r := e.sync(e.token, false, nodeCreate(1, good, e.root, topic), bad, badObj, nodeCreate(4, good2, e.root, topic))
		require.Len(t, r["allowed"], 2)
		require.EqualValues(t, 0, get(r, "allowed", 0, "index"))
		require.EqualValues(t, 3, get(r, "allowed", 1, "index"))
		require.EqualValues(t, 4, get(r, "allowed", 1, "clientRev"))
		require.Len(t, r["errors"], 2)
		for i, rev := range []int{2, 3} {
			require.EqualValues(t, rev-1, get(r, "errors", i, "index"))
			require.EqualValues(t, rev, get(r, "errors", i, "clientRev"))
			require.Equal(t, "BAD_USER_INPUT", get(r, "errors", i, "code"))
		}
		data := e.OK(e.token, `query($r: ID!) { contentNode(id: $r) { childCount } }`, map[string]any{"r": e.root})
		require.EqualValues(t, 2, get(data, "contentNode", "childCount"))

		// Atomic: the whole batch is refused.
		resp := e.Do(e.token, applyChanges, map[string]any{"atomic": true,
			"c": []any{nodeCreate(5, models.NewID().String(), e.root, topic), bad}})
		require.Equal(t, "BAD_USER_INPUT", resp.Code())
		data = e.OK(e.token, `query($r: ID!) { contentNode(id: $r) { childCount } }`, map[string]any{"r": e.root})
		require.EqualValues(t, 2, get(data, "contentNode", "childCount"))
	})
}
