package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

func TestTypenameAndHealth(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		require.Equal(t, map[string]any{"__typename": "Query"}, a.OK("", "{ __typename }", nil))
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(a.url + path)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
		}
		// GET works too.
		resp, err := http.Get(a.url + "/graphql?query=%7B__typename%7D")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

func TestLoginAndMe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		dbtest.User(t, d, "ann@example.org", false)
		data := a.OK("", `mutation { login(email: "ANN@example.org", password: "`+dbtest.Password+`") { token user { email isAdmin } } }`, nil)
		token := get(data, "login", "token").(string)
		require.True(t, strings.HasPrefix(token, "studio_"))
		require.Equal(t, "ann@example.org", get(a.OK(token, "{ me { email } }", nil), "me", "email"))
		require.Nil(t, a.OK("", "{ me { email } }", nil)["me"])

		// A channel created through the API has its trees and its editor.
		ch := a.OK(token, `mutation { createChannel(input: {name: "Maths", language: "en", contentDefaults: {license: "CC BY"}}) {
			id name language { id name } contentDefaults canEdit root { title kind childCount } trashRoot { id } editors { email } serverRev } }`, nil)
		require.Equal(t, "Maths", get(ch, "createChannel", "root", "title"))
		require.Equal(t, "English", get(ch, "createChannel", "language", "name"))
		require.Equal(t, map[string]any{"license": "CC BY"}, get(ch, "createChannel", "contentDefaults"))
		require.Equal(t, true, get(ch, "createChannel", "canEdit"))
		require.Equal(t, "ann@example.org", get(ch, "createChannel", "editors", 0, "email"))
		require.EqualValues(t, 2, get(ch, "createChannel", "serverRev"), "the creation and the server's reply with its roots")

		lists := a.OK("", "{ licenses { name isCustom } languages { id name } }", nil)
		require.Len(t, lists["licenses"], len(models.Licenses))
		require.NotEmpty(t, lists["languages"])
	})
}

// TestBadInput sends each kind of bad request and checks that it gets a
// clear error with a code, and that the database is as it was.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		u := dbtest.User(t, d, "ann@example.org", false)
		token := dbtest.Token(t, d, u)
		ch := dbtest.Channel(t, d, u, "Maths")
		unknown := models.NewID().String()
		before := counts(t, d)
		for _, tc := range []struct {
			name, token, query string
			code               string
			status             int
		}{
			{"malformed id", token, `{ contentNode(id: "12") { id } }`, "BAD_USER_INPUT", 200},
			{"malformed id in a list", token, `{ contentNodes(ids: ["` + unknown + `", "x"]) { id } }`, "BAD_USER_INPUT", 200},
			{"malformed id in a mutation", token, `mutation { deleteChannel(id: "nope") { id } }`, "BAD_USER_INPUT", 200},
			{"unknown id in a mutation", token, `mutation { deleteChannel(id: "` + unknown + `") { id } }`, "NOT_FOUND", 200},
			{"too many channels a page", token, `{ channels(first: 101) { totalCount } }`, "BAD_USER_INPUT", 200},
			{"negative page", token, `{ channels(first: -1) { totalCount } }`, "BAD_USER_INPUT", 200},
			{"too many children a page", token, `{ channel(id: "` + ch.ID.String() + `") { root { children(first: 1001) { totalCount } } } }`, "BAD_USER_INPUT", 200},
			{"bad cursor", token, `{ channels(after: "zzz") { totalCount } }`, "BAD_USER_INPUT", 200},
			{"mutation without a token", "", `mutation { createChannel(input: {name: "x"}) { id } }`, "UNAUTHENTICATED", 200},
			{"wrong password", "", `mutation { login(email: "ann@example.org", password: "wrong password") { token } }`, "UNAUTHENTICATED", 200},
			{"unknown email", "", `mutation { login(email: "bob@example.org", password: "wrong password") { token } }`, "UNAUTHENTICATED", 200},
			{"unknown token", "studio_unknown", `{ me { id } }`, "UNAUTHENTICATED", 401},
			{"not a studio token", "abc", `{ me { id } }`, "UNAUTHENTICATED", 401},
			{"content defaults not an object", token, `mutation { createChannel(input: {name: "x", contentDefaults: [1]}) { id } }`, "BAD_USER_INPUT", 200},
			{"unknown field", token, `{ channel(id: "` + unknown + `") { colour } }`, "GRAPHQL_VALIDATION_FAILED", 422},
			{"syntax error", token, `{ channel(`, "GRAPHQL_PARSE_FAILED", 422},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := a.Do(tc.token, tc.query, nil)
				require.NotEmpty(t, r.Errors)
				require.Equal(t, tc.code, r.Code(), "errors: %+v", r.Errors)
				require.NotEmpty(t, r.Errors[0].Message)
				require.Equal(t, tc.status, r.Status)
			})
		}
		// An unknown id in a query is null, not an error: it may be hidden.
		r := a.Do(token, `{ contentNode(id: "`+unknown+`") { id } channel(id: "`+unknown+`") { id } }`, nil)
		require.Empty(t, r.Errors)
		require.Nil(t, r.Data["contentNode"])
		require.Nil(t, r.Data["channel"])
		require.Equal(t, before, counts(t, d), "a refused request changed the database")
	})
}

func counts(t *testing.T, d *db.DB) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"users", "api_tokens", "channels", "channel_members", "content_nodes", "changes"} {
		n, err := d.ForTest(t).NewSelect().TableExpr(table).Count(context.Background())
		require.NoError(t, err)
		out[table] = int(n)
	}
	return out
}

// TestNestedReadStatements checks that a query four levels deep runs the
// same number of SQL statements over 10 nodes as over 1,000: one a level.
func TestNestedReadStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		admin := dbtest.User(t, d, "admin@example.org", true)
		token := dbtest.Token(t, d, admin)
		const query = `query($c: ID!) { channel(id: $c) { name root { title children(first: 1000) { edges { node {
			title children(first: 1000) { edges { node { title files { checksum preset { id } } } } } } } } } } }`
		statements := map[int]any{}
		// The token's user is remembered for tokenTTL; the cache's clock is
		// stopped, so building a large fixture on a slow machine does not
		// let it expire between the two counts.
		stopped := time.Now()
		d.SetTokenClock(func() time.Time { return stopped })
		a.OK(token, `{ me { id } }`, nil) // looks the token up, once
		for _, size := range []struct{ topics, leaves int }{{3, 2}, {9, 110}} {
			ch := dbtest.Channel(t, d, admin, fmt.Sprintf("%d topics", size.topics))
			var lit strings.Builder
			for i := range size.topics {
				fmt.Fprintf(&lit, "topic T%d\n", i)
				for j := range size.leaves {
					fmt.Fprintf(&lit, "  video V%d.%d\n", i, j)
				}
			}
			dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), lit.String())
			nodes := 1 + size.topics*(1+size.leaves)
			r := a.Do(token, query, map[string]any{"c": ch.ID}, "X-Studio-Debug", "1")
			require.Empty(t, r.Errors)
			topics := get(r.Data, "channel", "root", "children", "edges").([]any)
			require.Len(t, topics, size.topics)
			require.Len(t, get(topics[0], "node", "children", "edges"), size.leaves)
			require.NotEmpty(t, get(topics[0], "node", "children", "edges", 0, "node", "files", 0, "checksum"))
			statements[nodes] = r.Extensions["sqlQueries"]
		}
		require.Equal(t, map[int]any{10: statements[10], 1000: statements[10]}, statements)
		// channel, root, two levels of children, files (the token's user
		// was looked up by the first request, and is remembered).
		require.EqualValues(t, 5, statements[10])
	})
}

func TestSQLCountIsForAdminsOrDebug(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		user := dbtest.Token(t, d, dbtest.User(t, d, "ann@example.org", false))
		admin := dbtest.Token(t, d, dbtest.User(t, d, "root@example.org", true))
		a := newAPI(t, d, server.Config{})
		stopped := time.Now() // the remembered token never expires in this test
		d.SetTokenClock(func() time.Time { return stopped })
		require.Nil(t, a.Do(user, "{ me { id } }", nil, "X-Studio-Debug", "1").Extensions["sqlQueries"])
		require.Nil(t, a.Do(admin, "{ me { id } }", nil).Extensions["sqlQueries"])
		// The token's user is remembered for a moment: no statement at all.
		require.EqualValues(t, 0, a.Do(admin, "{ me { id } }", nil, "X-Studio-Debug", "1").Extensions["sqlQueries"])
		debug := newAPI(t, d, server.Config{Debug: true})
		require.EqualValues(t, 0, debug.Do("", "{ __typename }", nil).Extensions["sqlQueries"])
	})
}

func TestMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		a.Do("", `query Lookup { channels { totalCount } }`, nil)
		a.Do("", `{ contentNode(id: "x") { id } }`, nil)
		resp, err := http.Get(a.url + "/metrics")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(body)
		// Labelled by the first root field, never the client's operation name.
		require.Contains(t, text, `studio_graphql_operations_total{operation="channels",outcome="ok"} 1`)
		require.Contains(t, text, `studio_graphql_operations_total{operation="contentNode",outcome="BAD_USER_INPUT"} 1`)
		require.Contains(t, text, `studio_graphql_operation_seconds_bucket{operation="channels"`)
		require.NotContains(t, text, `operation="Lookup"`)
		require.Contains(t, text, "go_sql_open_connections")
	})
}
