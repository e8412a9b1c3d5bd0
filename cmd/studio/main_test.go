package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/studiotest"
)

// each runs fn on each test database, with the flags that select it.
func each(t *testing.T, fn func(t *testing.T, dbArgs []string)) {
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			if kind == db.SQLite {
				fn(t, []string{"--data-dir", t.TempDir()})
				return
			}
			fn(t, []string{"--database-url", dbtest.URL(t, kind)})
		})
	}
}

// openDB opens the database a command of dbArgs uses.
func openDB(t *testing.T, dbArgs []string) *db.DB {
	t.Helper()
	url := dbArgs[1]
	if dbArgs[0] == "--data-dir" {
		url = db.SQLiteURL(url)
	}
	d, err := db.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func cli(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), args, &out, &out)
	return code, out.String()
}

func TestUserAndTokenCommands(t *testing.T) {
	each(t, func(t *testing.T, dbArgs []string) {
		code, out := cli(t, append([]string{"migrate"}, dbArgs...)...)
		require.Equal(t, 0, code, out)
		code, out = cli(t, append([]string{"user", "create", "--email", "ann@example.org", "--password", "long enough", "--admin"}, dbArgs...)...)
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "created user ann@example.org")
		code, out = cli(t, append([]string{"user", "create", "--email", "ann@example.org", "--password", "long enough"}, dbArgs...)...)
		require.Equal(t, 1, code)
		require.Contains(t, out, "already exists")
		code, out = cli(t, append([]string{"token", "create", "--email", "ANN@example.org", "--name", "laptop"}, dbArgs...)...)
		require.Equal(t, 0, code, out)
		require.Regexp(t, `^studio_\S+\n$`, out)
		code, out = cli(t, append([]string{"token", "create", "--email", "nobody@example.org"}, dbArgs...)...)
		require.Equal(t, 1, code)
		require.Contains(t, out, "no user has the email")

		// A new password: the old one stops working, the new one logs in.
		code, out = cli(t, append([]string{"user", "password", "--email", "ann@example.org", "--password", "a new one!"}, dbArgs...)...)
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "set the password of ann@example.org")
		code, out = cli(t, append([]string{"user", "password", "--email", "ann@example.org", "--password", "short"}, dbArgs...)...)
		require.Equal(t, 1, code)
		require.Contains(t, out, "too short")
		d := openDB(t, dbArgs)
		_, err := d.Authenticate(context.Background(), "ann@example.org", "long enough")
		require.Equal(t, models.CodeUnauthenticated, models.CodeOf(err))
		_, err = d.Authenticate(context.Background(), "ann@example.org", "a new one!")
		require.NoError(t, err)
	})
	for _, cmd := range []string{"user", "token"} {
		code, out := cli(t, cmd)
		require.Equal(t, 2, code)
		require.Contains(t, out, cmd+" needs a subcommand")
	}
	code, out := cli(t, "user", "create", "--email", "x@example.org")
	require.Equal(t, 1, code)
	require.Contains(t, out, "--password")
	code, _ = cli(t, "frobnicate")
	require.Equal(t, 2, code)
}

// TestServe starts the server as a newcomer does, with no flags but where
// to keep its data: it creates an admin, prints the token once, answers
// queries with it, and stops cleanly when told to.
func TestServe(t *testing.T) {
	each(t, func(t *testing.T, dbArgs []string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var out studiotest.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, dbArgs...), &out, &out) }()
		addr := regexp.MustCompile(`at http://(\S+)/graphql`)
		require.Eventually(t, func() bool { return addr.MatchString(out.String()) }, 20*time.Second, 10*time.Millisecond, out.String())
		base := "http://" + addr.FindStringSubmatch(out.String())[1]
		token := regexp.MustCompile(`studio_\S+`).FindString(out.String())
		require.NotEmpty(t, token, out.String())

		r := studiotest.New(t, base).Do(token, "{ __typename me { email isAdmin } }", nil)
		require.JSONEq(t, `{"data":{"__typename":"Query","me":{"email":"admin@localhost","isAdmin":true}}}`, string(r.Body))

		// River's UI is for admins only.
		resp, err := http.Get(base + "/riverui/")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		req, _ := http.NewRequest(http.MethodGet, base+"/riverui/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)

		// A subscriber is disconnected cleanly when the server stops.
		ws, err := studiotest.Dial(t, base, token)
		require.NoError(t, err)

		cancel()
		select {
		case code := <-done:
			require.Equal(t, 0, code, out.String())
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
		}
		_, err = ws.Next(20 * time.Second)
		require.Error(t, err, "the websocket is closed")

		// A second start finds the admin and prints no token.
		ctx2, cancel2 := context.WithCancel(context.Background())
		var out2 studiotest.Buffer
		go func() { done <- run(ctx2, append([]string{"serve", "--addr", "127.0.0.1:0"}, dbArgs...), &out2, &out2) }()
		require.Eventually(t, func() bool { return addr.MatchString(out2.String()) }, 20*time.Second, 10*time.Millisecond)
		cancel2()
		require.Equal(t, 0, <-done)
		require.NotContains(t, out2.String(), "studio_")
	})
}

func TestFlagsReadTheEnvironment(t *testing.T) {
	t.Setenv("STUDIO_DATA_DIR", t.TempDir())
	t.Setenv("STUDIO_DEBUG", "true")
	require.True(t, envBool("debug"))
	code, out := cli(t, "migrate")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "sqlite database is up to date")
}
