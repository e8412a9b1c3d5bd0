package graph

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/demo"
	"studio/models"
	"studio/studiotest"
)

// TestDirectReadsMatchGqlgen asks the same queries of a handler that answers
// tree reads directly and of one that leaves everything to gqlgen, and
// requires the same bytes back: every field direct.go knows, with aliases,
// fragments, directives, pages and cursors, nulls, errors, and callers who
// may and may not see the channel.
func TestDirectReadsMatchGqlgen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store := testStore(t)
		admin := dbtest.User(t, d, "admin@example.org", true)
		viewer := dbtest.User(t, d, "viewer@example.org", false)
		ch, _, err := demo.Load(ctx, d, store, admin)
		require.NoError(t, err)
		other := dbtest.Channel(t, d, admin, "Other")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, other.RootID), "topic Big\n  "+strings.ReplaceAll(strings.TrimSpace(dbtest.Topics(3, 4)), "\n", "\n  "))

		direct := testHandler(t, d, store, Options{})
		gqlgen := testHandler(t, d, store, Options{NoDirectReads: true})
		ask := func(h http.Handler, u *models.User, query string, vars map[string]any) []byte {
			return []byte(askAs(t, h, u, query, vars))
		}

		// Edge cases the demo lacks: odd strings, JSON fields, no license
		// or language, a copy (source ids), a node in the trash.
		setup := []string{
			fmt.Sprintf(`mutation { updateContentNodes(input: [{id: %q, title: "Quotes \" back\\slash <b>&amp; \u00e9\u2028\ud83d\ude00\nnew line",
				description: "tab\there", language: "pt-BR", suggestedDuration: 90, extraFields: {a: [1, 2.5, "x", null, {b: true}]}}]) { id } }`, n["T0"].ID),
			fmt.Sprintf(`mutation { updateContentNodes(input: [{id: %q, license: "", language: ""}, {id: %q, description: "A leaf"}]) { id } }`,
				n["V0.0"].ID, n["V0.1"].ID),
			fmt.Sprintf(`mutation { copyContentNodes(input: [{sourceId: %q, target: %q}]) { id } }`, n["T1"].ID, n["Big"].ID),
			fmt.Sprintf(`mutation { deleteContentNodes(ids: [%q]) }`, n["V2.3"].ID),
			fmt.Sprintf(`mutation { updateChannel(id: %q, input: {public: true, language: "fr"}) { id } }`, ch.ID),
		}
		for _, m := range setup {
			out := ask(gqlgen, admin, m, nil)
			require.NotContains(t, string(out), `"errors"`, "%s\n%s", m, out)
		}
		cursor := string(ask(gqlgen, admin, fmt.Sprintf(`{ contentNode(id: %q) { children(first: 2) { pageInfo { endCursor } } } }`, n["Big"].ID), nil))
		_, cursor, _ = strings.Cut(cursor, `"endCursor":"`)
		cursor, _, _ = strings.Cut(cursor, `"`)

		everything := fmt.Sprintf(`{ channel(id: %q) { %s } }`, ch.ID, allFields("Channel", 3))
		node := func(id models.ID) map[string]any { return map[string]any{"id": id} }
		cases := []struct {
			name   string
			direct bool // answered by direct.go
			query  string
			vars   map[string]any
		}{
			{"every field of the demo", true, everything, nil},
			{"every field of a copy with a trashed node", true,
				fmt.Sprintf(`{ contentNode(id: %q) { %s } }`, other.RootID, allFields("ContentNode", 4)), nil},
			{"aliases, fragments and directives", true, `query($id: ID!, $no: Boolean!, $yes: Boolean!) {
				first: contentNode(id: $id) { ...N a: children(first: 1) { edges { node { t: title } } }
					b: children(first: 3, after: null) { edges { cursor node { id kind @skip(if: $no) ...on ContentNode { title @include(if: $yes) } } } }
					children(first: 2) { pageInfo { ...P } } }
				again: contentNode(id: $id) { id title @skip(if: $yes) }
			}
			fragment N on ContentNode { __typename id files { __typename preset { __typename id } } license { __typename name } }
			fragment P on PageInfo { hasNextPage endCursor hasPreviousPage startCursor __typename }`, map[string]any{"id": n["Big"].ID, "no": false, "yes": true}},
			{"a page after a cursor", true, `query($id: ID!, $after: String) { contentNode(id: $id) {
				children(first: 2, after: $after) { edges { cursor node { title } } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } } }`,
				map[string]any{"id": n["Big"].ID, "after": cursor}},
			{"a node with no children", true, `query($id: ID!) { contentNode(id: $id) { children { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`, node(n["V0.0"].ID)},
			{"an absent node", true, `query($id: ID!) { contentNode(id: $id) { id } }`, node(models.NewID())},
			{"beside fields gqlgen answers", true, fmt.Sprintf(`{ me { email } channel(id: %q) { name } contentNodes(ids: [%q]) { title } }`, ch.ID, n["T0"].ID), nil},
			{"a fragment with children spread at two levels", true, `query($id: ID!) { contentNode(id: $id) { ...F
				children(first: 2) { edges { node { ...F children(first: 2) { edges { node { description } } } } } } } }
			fragment F on ContentNode { children(first: 2) { edges { node { title } } } }`, node(n["Big"].ID)},
			{"@defer", false, `query($id: ID!) { contentNode(id: $id) { id ... @defer { children(first: 1) { edges { node { id } } } } } }`, node(n["Big"].ID)},
			{"a field direct.go does not know", false, `query($id: ID!) { contentNode(id: $id) { children { totalCount edges { node { title tags } } } } }`, node(n["Big"].ID)},
			{"a bad cursor", false, `query($id: ID!) { contentNode(id: $id) { children(after: "nope") { edges { node { id } } } } }`, node(n["Big"].ID)},
			{"too large a page", false, `query($id: ID!) { contentNode(id: $id) { children(first: 5000) { edges { node { id } } } } }`, node(n["Big"].ID)},
			{"a malformed id", false, `{ contentNode(id: "x") { id } }`, nil},
		}
		for _, c := range cases {
			for _, u := range []*models.User{admin, viewer, nil} {
				before := directAnswers.Load()
				got := ask(direct, u, c.query, c.vars)
				answered := directAnswers.Load() > before
				want := ask(gqlgen, u, c.query, c.vars)
				as := "anonymous"
				if u != nil {
					as = u.Email
				}
				require.Equal(t, string(want), string(got), "%s, as %s", c.name, as)
				require.NotContains(t, string(want), "internal error", c.name)
				if u == admin {
					require.Equal(t, c.direct, answered, "%s: answered directly", c.name)
				}
			}
		}
		// The viewer and the anonymous see the public demo but not Other.
		require.Contains(t, string(ask(direct, nil, everything, nil)), `"name":"`+demo.Name+`"`)
		require.Contains(t, string(ask(direct, viewer, fmt.Sprintf(`{ channel(id: %q) { name } }`, other.ID), nil)), `"channel":null`)
	})
}

// TestChildrenPagesByColumns asks for the same page twice at once, wanting
// different columns of its nodes: each gets what it asked for (a page read
// without the JSON columns must not answer for one that shows them).
func TestChildrenPagesByColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		store := testStore(t)
		admin := dbtest.User(t, d, "admin@example.org", true)
		ch := dbtest.Channel(t, d, admin, "C")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "topic T\n  video V")
		h := testHandler(t, d, store, Options{NoDirectReads: true})
		askAs(t, h, admin, fmt.Sprintf(`mutation { updateContentNodes(input: [{id: %q, extraFields: {k: "v"}}]) { id } }`, n["V"].ID), nil)

		q := fmt.Sprintf(`{ contentNode(id: %q) { a: children { edges { node { title } } } b: children { edges { node { extraFields } } } } }`, n["T"].ID)
		for _, opts := range []Options{{NoDirectReads: true}, {}} {
			require.JSONEq(t, `{"data":{"contentNode":{"a":{"edges":[{"node":{"title":"V"}}]},"b":{"edges":[{"node":{"extraFields":{"k":"v"}}}]}}}}`,
				askAs(t, testHandler(t, d, store, opts), admin, q, nil))
		}
	})
}

func testHandler(t *testing.T, d *db.DB, store *blobs.Store, opts Options) http.Handler {
	opts.Blobs = store
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return NewHandler(d, opts)
}

func testStore(t *testing.T) *blobs.Store {
	store, err := blobs.Open(context.Background(), t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return store
}

// askAs posts an operation to h as u (nil: anonymous) and returns the body.
func askAs(t *testing.T, h http.Handler, u *models.User, query string, vars map[string]any) string {
	as := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), Caller{User: u})))
	})
	return string(studiotest.NewHandler(t, as).Do("", query, vars).Body)
}

// allFields selects every field direct.go knows of typ, children down to
// depth levels (two a page).
func allFields(typ string, depth int) string {
	var names []string
	for name := range directFields[typ] {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("__typename ")
	for _, name := range names {
		switch sub := directFields[typ][name]; {
		case sub == "":
			b.WriteString(name + " ")
		case name == "children":
			if depth > 0 {
				fmt.Fprintf(&b, "children(first: 2) { %s } ", allFields(sub, depth-1))
			}
		default:
			fmt.Fprintf(&b, "%s { %s } ", name, allFields(sub, depth))
		}
	}
	return b.String()
}

// TestChildrenColumns reads every ContentNode field of a node once as a
// child (a page read with only the columns its selection needs) and once on
// its own (the whole row): gqlgen must answer the same, so no field's
// columns are missing from nodeFieldColumns.
func TestChildrenColumns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store := testStore(t)
		admin := dbtest.User(t, d, "admin@example.org", true)
		ch, _, err := demo.Load(ctx, d, store, admin)
		require.NoError(t, err)
		tree, err := d.LoadTree(ctx, ch.RootID)
		require.NoError(t, err)
		var exercise *models.ContentNode
		for _, n := range tree.Nodes {
			if n.Kind == models.KindExercise {
				exercise = n
			}
		}
		require.NotNil(t, exercise)
		h := testHandler(t, d, store, Options{NoDirectReads: true})
		ask := func(query string) string {
			out := askAs(t, h, admin, query, nil)
			require.NotContains(t, out, `"errors"`, query)
			return out
		}
		subs := map[string]string{"license": "{ name }", "language": "{ id }", "createdBy": "{ id }", "modifiedBy": "{ id }",
			"parent": "{ id }", "ancestors": "{ id }", "children": "{ totalCount }", "files": "{ id url }",
			"assessmentItems": "{ id }", "prerequisites": "{ id }", "channel": "{ id }"}
		fields := []string{"incompleteReasons"}
		for f := range nodeFieldColumns {
			fields = append(fields, f)
		}
		for _, f := range fields {
			sel := "x: " + f + " " + subs[f]
			alone := ask(fmt.Sprintf(`{ contentNode(id: %q) { %s } }`, exercise.ID, sel))
			child := ask(fmt.Sprintf(`{ contentNode(id: %q) { children(first: 1000) { edges { node { id %s } } } } }`, *exercise.ParentID, sel))
			value := strings.TrimSuffix(strings.TrimPrefix(alone, `{"data":{"contentNode":{`), "}}}")
			require.Contains(t, child, `{"id":"`+exercise.ID.String()+`",`+value+"}", f)
		}
	})
}
