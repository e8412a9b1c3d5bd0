package server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// TestQueryLimits: a query 50 levels deep, one with 1,000 aliases, one of
// 20,000 tokens and children(first: 1000) nested four deep are refused with
// TOO_COMPLEX, running no SQL but the caller's authentication. The
// statements are the request's own count (extensions.sqlQueries): a hook
// added to the database raced with SQLite's checkpoint goroutine, which
// runs statements of its own, reading bun's hook list (issue 14).
func TestQueryLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{Debug: true})
		token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
		id := dbtest.Channel(t, d, dbtest.User(t, d, "other@example.org", false), "C").ID.String()

		deep := strings.Repeat("ancestors { ", 48) + "id" + strings.Repeat(" }", 48)
		var aliases strings.Builder
		for i := range 1000 {
			aliases.WriteString(" a" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + itoa(i) + ": __typename")
		}
		wide := "{ channel(id: \"" + id + "\") { root { " + strings.Repeat("children(first: 1000) { edges { node { ", 4) +
			"id" + strings.Repeat(" } } }", 4) + " } } }"
		cases := map[string]string{
			"50 levels":            `{ contentNode(id: "` + id + `") { ` + deep + ` } }`,
			"1,000 aliases":        "{" + aliases.String() + " }",
			"20,000 tokens":        "{ " + strings.Repeat("__typename ", 20000) + "}",
			"children nested four": wide,
		}
		for name, q := range cases {
			r := a.Do(token, q, nil)
			require.Equal(t, "TOO_COMPLEX", r.Code(), "%s: %+v", name, r.Errors)
			require.LessOrEqual(t, r.Extensions["sqlQueries"], float64(1), "%s ran SQL beyond authenticating the caller", name)
		}
		r := a.Do(token, wide, nil)
		require.Greater(t, r.Errors[0].Extensions["cost"], float64(1e12))

		// A real tree read is well within the limits.
		ok := a.Do(token, `{ channel(id: "`+id+`") { root { children(first: 1000) { edges { node { title files { url }
			children(first: 1000) { edges { node { title files { url } } } } } } } } } }`, nil)
		require.Empty(t, ok.Errors)
	})
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestIntrospectionSwitchAndBodyLimit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		on := newAPI(t, d, server.Config{})
		require.Empty(t, on.Do("", `{ __schema { queryType { name } } }`, nil).Errors)
		off := newAPI(t, d, server.Config{NoIntrospection: true})
		for _, q := range []string{`{ __schema { queryType { name } } }`, `{ ...F } fragment F on Query { __type(name: "File") { name } }`} {
			errs := off.Do("", q, nil).Errors
			require.Len(t, errs, 1, q)
			require.Equal(t, "FORBIDDEN", errs[0].Extensions["code"], q)
		}
		require.Empty(t, off.Do("", `{ __typename }`, nil).Errors)
		// A body over 8 MB is refused, not read.
		huge := off.Do("", `{ __typename }`, map[string]any{"pad": strings.Repeat("x", 9<<20)})
		require.NotEmpty(t, huge.Errors)
		require.Nil(t, huge.Data)
	})
}
