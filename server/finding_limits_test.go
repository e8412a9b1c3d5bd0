package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// ids makes n distinct ids (of nodes that do not exist).
func ids(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("%032x", i+1)
	}
	return out
}

// TestFindingHugeListArguments: lists past their maximum are refused before
// any SQL runs (anonymous callers got 100,000 statements before "log in
// first"): deleteContentNodes with 100,000 ids, anonymous or not,
// excludedDescendants with 200,000 ids, 1,001 changes, 1,001 tags.
func TestFindingHugeListArguments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{Debug: true})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		ch := dbtest.Channel(t, d, u, "C")
		root := ch.RootID.String()
		stopped := time.Now()
		d.SetTokenClock(func() time.Time { return stopped })
		a.OK(token, `{ me { id } }`, nil) // looks the token up, once

		changes := make([]any, 1001)
		for i := range changes {
			changes[i] = map[string]any{"type": "UPDATED", "table": "contentnode", "key": root, "mods": map[string]any{"title": "x"}}
		}
		for _, tc := range []struct {
			name, token, query string
			vars               map[string]any
			code, names        string
		}{
			{"anonymous delete", "", `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`,
				map[string]any{"ids": ids(100_000)}, "BAD_USER_INPUT", "$ids"},
			{"delete", token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`,
				map[string]any{"ids": ids(100_000)}, "BAD_USER_INPUT", "$ids"},
			{"permanent delete", token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids, permanent: true) }`,
				map[string]any{"ids": ids(1001)}, "BAD_USER_INPUT", "$ids"},
			{"excluded descendants", token, `mutation($x: [ID!]) { copyContentNodes(input: [{sourceId: "` + root + `", target: "` + root + `", excludedDescendants: $x}]) { id } }`,
				map[string]any{"x": ids(200_000)}, "BAD_USER_INPUT", "$x"},
			{"excluded descendants in a variable input", token, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
				map[string]any{"in": []any{map[string]any{"sourceId": root, "target": root, "excludedDescendants": ids(200_000)}}}, "BAD_USER_INPUT", "$in.excludedDescendants"},
			{"1,001 changes", token, `mutation($c: [ChangeInput!]!) { applyChanges(changes: $c) { allowed { clientRev } } }`,
				map[string]any{"c": changes}, "BAD_USER_INPUT", "$c"},
			{"1,001 tags in the document", token, `mutation { createContentNodes(input: [{parentId: "` + root + `", kind: topic, title: "T", tags: [` +
				strings.Repeat(`"t", `, 1001) + `]}]) { id } }`, nil, "BAD_USER_INPUT", "createContentNodes(input:).tags"},
			{"100 lists of 1,000", token, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
				map[string]any{"in": func() []any {
					out := make([]any, 100)
					for i := range out {
						out[i] = map[string]any{"sourceId": root, "target": root, "excludedDescendants": ids(1000)}
					}
					return out
				}()}, "TOO_COMPLEX", "$in.excludedDescendants"},
		} {
			r := a.Do(tc.token, tc.query, tc.vars)
			require.Equal(t, tc.code, r.Code(), "%s: %+v", tc.name, r.Errors)
			require.Contains(t, r.Errors[0].Message, tc.names, tc.name)
			require.EqualValues(t, 0, r.Extensions["sqlQueries"], "%s ran SQL", tc.name)
		}

		// Anonymous callers are refused before any node is read, whatever
		// the count.
		r := a.Do("", `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": ids(1000)})
		require.Equal(t, "UNAUTHENTICATED", r.Code())
		require.EqualValues(t, 0, r.Extensions["sqlQueries"])
		// Within the limits, a delete still works.
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "topic T\nvideo V")
		got := a.OK(token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": []any{n["T"].ID, n["V"].ID}})
		require.Len(t, got["deleteContentNodes"], 2)
		require.EqualValues(t, 0, get(a.OK(token, `query($id: ID!) { contentNode(id: $id) { childCount } }`, map[string]any{"id": root}), "contentNode", "childCount"))
	})
}

// TestFindingContentNodesStatements: contentNodes(ids:) runs as many
// statements for 100 ids as for one (it ran one an id).
func TestFindingContentNodesStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{Debug: true})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		var lit strings.Builder
		for i := range 100 {
			fmt.Fprintf(&lit, "video V%d\n", i)
		}
		// Nodes in several channels, one of them private to someone else.
		nodes := dbtest.Tree(t, d, dbtest.Node(t, d, dbtest.Channel(t, d, u, "C").RootID), lit.String())
		other := dbtest.User(t, d, "other@example.org", false)
		hidden := dbtest.Tree(t, d, dbtest.Node(t, d, dbtest.Channel(t, d, other, "P").RootID), "video H")["H"]
		stopped := time.Now()
		d.SetTokenClock(func() time.Time { return stopped })
		a.OK(token, `{ me { id } }`, nil)

		statements := map[int]any{}
		for _, n := range []int{1, 10, 100} {
			want := make([]any, n)
			for i := range want {
				want[i] = nodes[fmt.Sprintf("V%d", i)].ID.String()
			}
			asked := append(append([]any{}, want...), hidden.ID.String(), fmt.Sprintf("%032x", 7))
			r := a.Do(token, `query($ids: [ID!]!) { contentNodes(ids: $ids) { id } }`, map[string]any{"ids": asked})
			require.Empty(t, r.Errors)
			got := r.Data["contentNodes"].([]any)
			require.Len(t, got, n+2)
			for i, id := range want {
				require.Equal(t, id, get(got[i], "id"))
			}
			require.Nil(t, got[n], "a private node of another channel")
			require.Nil(t, got[n+1], "a node that does not exist")
			statements[n] = r.Extensions["sqlQueries"]
		}
		require.Equal(t, map[int]any{1: statements[1], 10: statements[1], 100: statements[1]}, statements)
		require.EqualValues(t, 2, statements[1]) // the nodes, their channels
	})
}
