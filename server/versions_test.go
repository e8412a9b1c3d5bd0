package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/server"
)

// publishAndWait publishes ch through the API and waits for the job to
// complete.
func publishAndWait(t *testing.T, a *api, token string, ch models.ID, notes string, draft bool) {
	t.Helper()
	r := a.OK(token, `mutation($c: ID!, $n: String, $d: Boolean) { publishChannel(channelId: $c, versionNotes: $n, draft: $d) { id } }`,
		map[string]any{"c": ch.String(), "n": notes, "d": draft})
	id, err := models.ParseID(get(r, "publishChannel", "id").(string))
	require.NoError(t, err)
	n, ok := models.RiverJobID(id)
	require.True(t, ok)
	wake, stop := a.d.SubscribeJob(n)
	defer stop()
	timeout := time.After(2 * time.Minute)
	for {
		evs, err := a.d.JobEvents(context.Background(), n, 0)
		require.NoError(t, err)
		if len(evs) > 0 && evs[len(evs)-1].State.Final() {
			last := evs[len(evs)-1]
			require.Equal(t, models.JobCompleted, last.State, "publish %q: %s", notes, last.Error)
			return
		}
		select {
		case <-wake:
		case <-time.After(time.Second): // a safety net: the commit wakes it
		case <-timeout:
			t.Fatalf("publish %q did not finish", notes)
		}
	}
}

// lookup asks for /api/public/v1/channels/lookup/<identifier>?query, from
// forwardedFor (X-Forwarded-For) when it is not "".
func lookup(t *testing.T, a *api, identifier, query, forwardedFor string) (int, []map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+"/api/public/v1/channels/lookup/"+identifier+query, nil)
	require.NoError(t, err)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var found []map[string]any
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&found))
		require.Len(t, found, 1)
	}
	return resp.StatusCode, found
}

// fetchDraft fetches <id>-next.sqlite3 with no credentials, from
// forwardedFor when it is not "", and returns the status and, on 200, the
// version its channel metadata says.
func fetchDraft(t *testing.T, a *api, id models.ID, forwardedFor string) (int, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.url+"/content/databases/"+id.String()+"-next.sqlite3", nil)
	require.NoError(t, err)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, -1
	}
	return resp.StatusCode, databaseVersion(t, resp)
}

// databaseVersion is the version in the channel metadata of the content
// database resp carries.
func databaseVersion(t *testing.T, resp *http.Response) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "content.sqlite3")
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = f.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	k, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer k.Close()
	var version int
	require.NoError(t, k.QueryRow(`SELECT version FROM content_channelmetadata`).Scan(&version))
	return version
}

// TestChannelVersionsOverHTTP: every version and the draft get a token of
// their own, which members read in Channel.versions; Kolibri's lookup of
// one (channel_versions=true) answers with that version, a draft's with
// version null; the draft database is then served, with no credentials, to
// the address that looked its token up, and to no other; a publish ends the
// draft.
func TestChannelVersionsOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
		c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
		require.NoError(t, err)
		require.NoError(t, c.Start(ctx))
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
		a := newAPI(t, d, server.Config{Blobs: store, Jobs: c})
		proxied := newAPI(t, d, server.Config{Blobs: store, Jobs: c, BehindProxy: true})

		ed := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, ed)
		admin := dbtest.User(t, d, "admin@example.org", true)
		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		ch := dbtest.Channel(t, d, ed, "Versions")
		viewer := dbtest.Token(t, d, dbtest.User(t, d, "viewer@example.org", false))
		_, err = d.SetMember(ctx, ed, ch.ID, "viewer@example.org", models.RoleViewer)
		require.NoError(t, err)
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "video A\nvideo B")

		publishAndWait(t, a, token, ch.ID, "One", false)
		a.OK(token, `mutation($n: ID!) { updateContentNodes(input: [{id: $n, title: "A, second"}]) { id } }`, map[string]any{"n": n["A"].ID.String()})
		publishAndWait(t, a, token, ch.ID, "Two", false)
		publishAndWait(t, a, token, ch.ID, "Trying", true)

		const q = `query($c: ID!) { channel(id: $c) { primaryToken versions { version notes publishedAt size resourceCount token } } }`
		vars := map[string]any{"c": ch.ID.String()}
		r := a.OK(token, q, vars)
		require.Equal(t, r, a.OK(viewer, q, vars), "viewers see what editors see")
		versions := get(r, "channel", "versions").([]any)
		require.Len(t, versions, 3)
		var numbers []any
		var notes []string
		tokens := map[string]bool{get(r, "channel", "primaryToken").(string): true}
		for i := range versions {
			numbers = append(numbers, get(r, "channel", "versions", i, "version"))
			notes = append(notes, get(r, "channel", "versions", i, "notes").(string))
			tok := get(r, "channel", "versions", i, "token").(string)
			require.Regexp(t, `^[a-z]{5}-[a-z]{5}$`, tok)
			require.False(t, tokens[tok], "token %s twice", tok)
			tokens[tok] = true
			require.EqualValues(t, 2, get(r, "channel", "versions", i, "resourceCount"))
			require.Positive(t, get(r, "channel", "versions", i, "size"))
		}
		require.Equal(t, []any{nil, 2.0, 1.0}, numbers, "the draft, then versions newest first")
		require.Equal(t, []string{"Trying", "Two", "One"}, notes)
		draftToken := get(r, "channel", "versions", 0, "token").(string)
		v2Token := get(r, "channel", "versions", 1, "token").(string)
		v1Token := get(r, "channel", "versions", 2, "token").(string)

		// The public see a public channel, but neither its tokens nor its versions.
		_, err = d.UpdateChannel(ctx, admin, ch.ID, db.ChannelInput{Public: ptr(true)})
		require.NoError(t, err)
		for _, caller := range []string{"", stranger} {
			r := a.OK(caller, q, vars)
			require.Nil(t, get(r, "channel", "primaryToken"))
			require.Empty(t, get(r, "channel", "versions"))
		}

		// Before any lookup of the draft's token, the draft is its members' only.
		status, _ := fetchDraft(t, a, ch.ID, "")
		require.Equal(t, http.StatusNotFound, status)

		cases := []struct {
			identifier, query string
			status            int
			version           any
			notes             map[string]any
		}{
			{v1Token, "?channel_versions=true", 200, 1.0, map[string]any{"1": "One"}},
			{strings.ReplaceAll(v1Token, "-", ""), "?channel_versions=true", 200, 1.0, map[string]any{"1": "One"}},
			{v2Token, "?channel_versions=true", 200, 2.0, map[string]any{"1": "One", "2": "Two"}},
			{v1Token, "", 404, nil, nil}, // older Kolibris, which ask for no versions
			{get(r, "channel", "primaryToken").(string), "?channel_versions=true", 200, 2.0, map[string]any{"1": "One", "2": "Two"}},
			{ch.ID.String(), "?channel_versions=true", 200, 2.0, map[string]any{"1": "One", "2": "Two"}},
		}
		for _, c := range cases {
			status, found := lookup(t, a, c.identifier, c.query, "")
			require.Equal(t, c.status, status, "%s%s", c.identifier, c.query)
			if status != http.StatusOK {
				continue
			}
			require.Equal(t, ch.ID.String(), found[0]["id"])
			require.Equal(t, c.version, found[0]["version"], c.identifier)
			require.Equal(t, c.notes, found[0]["version_notes"], c.identifier)
			require.EqualValues(t, 2, found[0]["total_resource_count"])
		}
		status, _ = fetchDraft(t, a, ch.ID, "")
		require.Equal(t, http.StatusNotFound, status, "versions' tokens do not unlock the draft")

		// The versioned databases are the versions the tokens name.
		for _, v := range []string{"1", "2"} {
			resp, err := http.Get(a.url + "/content/databases/" + ch.ID.String() + "-" + v + ".sqlite3")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, v, strconv.Itoa(databaseVersion(t, resp)))
			resp.Body.Close()
		}

		// The draft's token: version null, then its database for that
		// client, and for no other.
		status, found := proxied.lookupDraft(t, draftToken, "198.51.100.7, 203.0.113.1")
		require.Equal(t, http.StatusOK, status)
		require.Nil(t, found["version"])
		require.Contains(t, found, "version")
		require.Equal(t, map[string]any{"1": "One", "2": "Two"}, found["version_notes"])
		require.Equal(t, []any{strings.ReplaceAll(draftToken, "-", "")}, found["matching_tokens"])
		status, version := fetchDraft(t, proxied, ch.ID, "203.0.113.1")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 0, version, "the draft database: Kolibri's version 0")
		status, _ = fetchDraft(t, proxied, ch.ID, "203.0.113.2")
		require.Equal(t, http.StatusNotFound, status, "another client behind the proxy")
		status, _ = fetchDraft(t, proxied, ch.ID, "203.0.113.1, 203.0.113.2")
		require.Equal(t, http.StatusNotFound, status, "the proxy's entry is the last one")
		status, _ = fetchDraft(t, a, ch.ID, "")
		require.Equal(t, http.StatusNotFound, status, "the proxy's address itself")
		status, _ = lookup(t, a, draftToken, "?channel_versions=true", "")
		require.Equal(t, http.StatusOK, status)
		status, version = fetchDraft(t, a, ch.ID, "")
		require.Equal(t, http.StatusOK, status, "after its own lookup")
		require.Equal(t, 0, version)

		// A publish ends the draft: its token, its database, its grants.
		publishAndWait(t, a, token, ch.ID, "Three", false)
		status, _ = lookup(t, a, draftToken, "?channel_versions=true", "")
		require.Equal(t, http.StatusNotFound, status)
		status, _ = fetchDraft(t, a, ch.ID, "")
		require.Equal(t, http.StatusNotFound, status)
		status, _ = getDatabase(t, a, ch.ID.String()+"-next.sqlite3", "Bearer "+token)
		require.Equal(t, http.StatusNotFound, status, "the draft database is gone")
		r = a.OK(token, q, vars)
		require.Len(t, get(r, "channel", "versions"), 3)
		require.EqualValues(t, 3, get(r, "channel", "versions", 0, "version"))
		require.Equal(t, v2Token, get(r, "channel", "versions", 1, "token"), "versions keep their tokens")
		require.Equal(t, v1Token, get(r, "channel", "versions", 2, "token"))
	})
}

// lookupDraft looks a draft's token up as Kolibri does, from forwardedFor,
// and returns the one channel found.
func (a *api) lookupDraft(t *testing.T, token, forwardedFor string) (int, map[string]any) {
	t.Helper()
	status, found := lookup(t, a, token, "?channel_versions=true", forwardedFor)
	if status != http.StatusOK {
		return status, nil
	}
	return status, found[0]
}
