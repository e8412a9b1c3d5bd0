package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/server"
	"studio/studiotest"
)

// getDatabase fetches /content/databases/<file> with an Authorization
// header ("" for none) and returns the status and body.
func getDatabase(t *testing.T, a *api, file, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+"/content/databases/"+file, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestFindingDraftDatabaseLeak: a channel's draft database (<id>-next.sqlite3)
// is served to its editors and viewers and to admins only, never for a
// deleted channel (but to admins), and everyone else is told 404.
func TestFindingDraftDatabaseLeak(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		a := newAPI(t, d, server.Config{Blobs: store})

		editor := dbtest.User(t, d, "editor@example.org", false)
		users := map[string]*models.User{
			"stranger": dbtest.User(t, d, "stranger@example.org", false),
			"viewer":   dbtest.User(t, d, "viewer@example.org", false),
			"editor":   editor,
			"admin":    dbtest.User(t, d, "admin@example.org", true),
		}
		auth := map[string]string{"anonymous": "", "unknown token": "Bearer studio_unknown", "not a token": "Basic YTpi"}
		for name, u := range users {
			auth[name] = "Bearer " + dbtest.Token(t, d, u)
		}
		auth["editor, Token scheme"] = "Token " + dbtest.Token(t, d, editor)

		// Three channels with a draft and no published version: private,
		// public, and private then deleted.
		draft := map[string]string{}
		for _, name := range []string{"private", "public", "deleted"} {
			ch := dbtest.Channel(t, d, editor, name)
			_, err := d.SetMember(ctx, editor, ch.ID, "viewer@example.org", models.RoleViewer)
			require.NoError(t, err)
			if name == "public" {
				_, err = d.UpdateChannel(ctx, users["admin"], ch.ID, db.ChannelInput{Public: ptr(true)})
				require.NoError(t, err)
			}
			require.NoError(t, store.Put(ctx, jobs.DatabaseKey(ch.ID, "next"), []byte("SQLite format 3\x00"+name), "application/vnd.sqlite3"))
			draft[name] = ch.ID.String()
		}
		status, _ := getDatabase(t, a, draft["deleted"]+"-next.sqlite3", auth["editor"])
		require.Equal(t, http.StatusOK, status, "before deleteChannel")
		a.OK(auth["editor"][len("Bearer "):], `mutation($c: ID!) { deleteChannel(id: $c) { id } }`, map[string]any{"c": draft["deleted"]})

		// want[caller]: the status for the private, public and deleted channels' drafts.
		want := map[string][3]int{
			"anonymous":            {404, 404, 404},
			"unknown token":        {404, 404, 404},
			"not a token":          {404, 404, 404},
			"stranger":             {404, 404, 404},
			"viewer":               {200, 200, 404},
			"editor":               {200, 200, 404},
			"editor, Token scheme": {200, 200, 404},
			"admin":                {200, 200, 200},
		}
		for caller, statuses := range want {
			for i, name := range []string{"private", "public", "deleted"} {
				status, body := getDatabase(t, a, draft[name]+"-next.sqlite3", auth[caller])
				require.Equal(t, statuses[i], status, "%s, %s channel's draft", caller, name)
				if status == http.StatusOK {
					require.Equal(t, "SQLite format 3\x00"+name, body)
				}
				// Never published: no current or versioned database, for anyone.
				for _, file := range []string{".sqlite3", "-1.sqlite3"} {
					status, _ := getDatabase(t, a, draft[name]+file, auth[caller])
					require.Equal(t, http.StatusNotFound, status, "%s, %s channel's %s", caller, name, file)
				}
			}
		}
	})
}

// TestFindingLoginThrottleOverHTTP: the login mutation counts failures by
// the client's address, so that after 20 failures for many emails from one
// client even a right password is refused until the lock ends. The address
// is the connection's peer; behind a proxy, the last X-Forwarded-For entry,
// the one the proxy appended.
func TestFindingLoginThrottleOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var mu sync.Mutex
		now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		d.Logins.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		dbtest.User(t, d, "ann@example.org", false)
		for _, behindProxy := range []bool{false, true} {
			mu.Lock()
			now = now.Add(2 * time.Hour) // the other case's locks have ended
			mu.Unlock()
			a := newAPI(t, d, server.Config{BehindProxy: behindProxy})
			// The proxy appends 203.0.113.<n>; the first entry is the client's to write.
			login := func(email, password string, n int) studiotest.Response {
				return a.Do("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
					map[string]any{"e": email, "p": password}, "X-Forwarded-For", fmt.Sprintf("198.51.100.1, 203.0.113.%d", n))
			}
			for i := range 20 {
				n := i + 1
				if behindProxy {
					n = 1 // one client behind the proxy
				}
				require.Equal(t, "UNAUTHENTICATED", login(fmt.Sprintf("guess%d@example.org", i), "wrong password", n).Code())
			}
			if behindProxy {
				require.Empty(t, login("ann@example.org", dbtest.Password, 2).Errors, "another client behind the proxy")
			}
			r := login("ann@example.org", dbtest.Password, 1)
			require.Equal(t, "TOO_MANY_REQUESTS", r.Code(), "behind a proxy: %v", behindProxy)
			require.Contains(t, r.Errors[0].Message, "too many failed logins for this address")

			mu.Lock()
			now = now.Add(time.Minute)
			mu.Unlock()
			r = login("ann@example.org", dbtest.Password, 1)
			require.Empty(t, r.Errors)
			require.NotEmpty(t, get(r.Data, "login", "token"))
		}
	})
}
