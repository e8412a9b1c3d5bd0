package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// TestSignInLifecycle: logout and revokeToken forget a token at once (this
// instance's cache included), and login works whatever stale token a client
// still sends, while nothing else does.
func TestSignInLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		u := dbtest.User(t, d, "ann@example.org", false)
		login := `mutation { login(email: "ann@example.org", password: "` + dbtest.Password + `") { token } }`
		token := get(a.OK("", login, nil), "login", "token").(string)
		require.Equal(t, "ann@example.org", get(a.OK(token, "{ me { email } }", nil), "me", "email")) // cached now

		require.Equal(t, true, a.OK(token, `mutation { logout }`, nil)["logout"])
		r := a.Do(token, "{ me { email } }", nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, "revoked at once: %s", r.Body)
		require.Equal(t, "UNAUTHENTICATED", r.Code())
		r = a.Do("", `mutation { logout }`, nil)
		require.Equal(t, "UNAUTHENTICATED", r.Code(), "anonymous: nothing to revoke")

		// The stale token still in the client's header does not stop a login,
		// alone or named among operations; anything else is refused.
		fresh := get(a.OK(token, login, nil), "login", "token").(string)
		r = a.Do(token, `query Me { me { email } } mutation In { login(email: "ann@example.org", password: "`+dbtest.Password+`") { token __typename } }`, nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, "two operations and no name: refused as before")
		for _, q := range []string{
			`{ me { email } }`,
			`mutation { login(email: "ann@example.org", password: "x") { token } createChannel(input: {name: "M", language: "en"}) { id } }`,
			`mutation { ...L } fragment L on Mutation { login(email: "ann@example.org", password: "x") { token } }`,
		} {
			r = a.Do(token, q, nil)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s", q, r.Body)
		}
		r = a.Do("", login, nil, "Authorization", "Basic xyz")
		require.Empty(t, r.Errors, "a malformed header does not stop a login either: %s", r.Body)

		// revokeToken: one's own tokens only.
		other := dbtest.Token(t, d, dbtest.User(t, d, "bob@example.org", false))
		r = a.Do(fresh, `mutation($t: String!) { revokeToken(token: $t) }`, map[string]any{"t": other})
		require.Equal(t, "NOT_FOUND", r.Code(), "%s", r.Body)
		require.NotNil(t, a.OK(other, "{ me { email } }", nil)["me"], "bob's token still works")
		spare := dbtest.Token(t, d, u)
		require.Equal(t, true, a.OK(fresh, `mutation($t: String!) { revokeToken(token: $t) }`, map[string]any{"t": spare})["revokeToken"])
		require.Equal(t, http.StatusUnauthorized, a.Do(spare, "{ me { email } }", nil).Status)
		r = a.Do(fresh, `mutation($t: String!) { revokeToken(token: $t) }`, map[string]any{"t": spare})
		require.Equal(t, "NOT_FOUND", r.Code(), "revoked already")
		require.NotNil(t, a.OK(fresh, "{ me { email } }", nil)["me"], "the caller's own token is untouched")
	})
}
