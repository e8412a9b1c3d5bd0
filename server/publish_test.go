package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	"studio/studiotest"
)

// TestPublishOverHTTP publishes through the API, watches the job over a
// websocket, then reads what Kolibri reads.
func TestPublishOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		store, err := blobs.Open(ctx, t.TempDir())
		require.NoError(t, err)
		defer store.Close()
		workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
		c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
		require.NoError(t, err)
		a := newAPI(t, d, server.Config{Blobs: store, Jobs: c})
		ed := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, ed)
		ch := dbtest.Channel(t, d, ed, "Wide")
		dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), dbtest.Topics(10, 100))

		r := a.OK(token, `mutation($c: ID!) { publishChannel(channelId: $c, versionNotes: "First") { id state progress channel { id } } }`,
			map[string]any{"c": ch.ID.String()})
		job := get(r, "publishChannel", "id").(string)
		require.Equal(t, "QUEUED", get(r, "publishChannel", "state"))
		require.Equal(t, ch.ID.String(), get(r, "publishChannel", "channel", "id"))

		// Subscribe before the worker starts, so that every step is seen.
		ws, err := studiotest.Dial(t, a.url, token)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("1", `subscription($j: ID!) { jobUpdated(id: $j) { state progress error } }`, map[string]any{"j": job})
		var states, errs []string
		var progress []int
		for started := false; ; {
			if len(states) == 1 && !started {
				require.NoError(t, c.Start(ctx)) // once the subscription runs
				defer func() { _ = c.Stop(ctx) }()
				started = true
			}
			m, err := ws.Next(60 * time.Second)
			require.NoError(t, err)
			if m.Type == "complete" {
				break
			}
			require.Equal(t, "next", m.Type, string(m.Payload))
			var p struct {
				Data struct {
					JobUpdated struct {
						State    string
						Progress int
						Error    *string
					}
				}
			}
			require.NoError(t, json.Unmarshal(m.Payload, &p))
			states = append(states, p.Data.JobUpdated.State)
			progress = append(progress, p.Data.JobUpdated.Progress)
			if e := p.Data.JobUpdated.Error; e != nil {
				errs = append(errs, *e)
			}
		}
		require.Equal(t, "QUEUED", states[0])
		require.Equal(t, "COMPLETED", states[len(states)-1], "errors: %v", errs)
		require.Equal(t, 100, progress[len(progress)-1])
		distinct := map[int]bool{}
		for i, p := range progress {
			distinct[p] = true
			if i > 0 {
				require.GreaterOrEqual(t, p, progress[i-1])
				require.LessOrEqual(t, p-progress[i-1], 5, "steps of at most 5%%: %v", progress)
			}
		}
		require.GreaterOrEqual(t, len(distinct), 20, "progress in 20 steps or more: %v", progress)

		r = a.OK(token, `query($c: ID!) { channel(id: $c) { version primaryToken totalResourceCount jobs { id state progress version } } }`,
			map[string]any{"c": ch.ID.String()})
		require.EqualValues(t, 1, get(r, "channel", "version"))
		require.EqualValues(t, 1000, get(r, "channel", "totalResourceCount"))
		require.Equal(t, job, get(r, "channel", "jobs", 0, "id"))
		require.EqualValues(t, 1, get(r, "channel", "jobs", 0, "version"))
		tok := get(r, "channel", "primaryToken").(string)
		require.Regexp(t, `^[a-z]{5}-[a-z]{5}$`, tok)

		// What Kolibri calls, with no credentials.
		var info map[string]any
		require.Equal(t, http.StatusOK, getJSON(t, a.url+"/api/public/info/?v=3", &info))
		require.Equal(t, "studio", info["application"])
		for _, id := range []string{ch.ID.String(), tok, strings.ReplaceAll(tok, "-", "")} {
			var found []map[string]any
			require.Equal(t, http.StatusOK, getJSON(t, a.url+"/api/public/v1/channels/lookup/"+id+"?channel_versions=true", &found), id)
			require.Len(t, found, 1)
			require.Equal(t, ch.ID.String(), found[0]["id"])
			require.EqualValues(t, 1, found[0]["version"])
			require.Equal(t, map[string]any{"1": "First"}, found[0]["version_notes"])
		}
		var none any
		require.Equal(t, http.StatusNotFound, getJSON(t, a.url+"/api/public/v1/channels/lookup/"+models.NewID().String(), &none))
		require.Equal(t, http.StatusNotFound, getJSON(t, a.url+"/api/public/v1/channels/lookup/nottoken", &none))
		var listed []map[string]any
		require.Equal(t, http.StatusOK, getJSON(t, a.url+"/api/public/v1/channels?tokens="+tok, &listed))
		require.Len(t, listed, 1)
		require.Equal(t, http.StatusOK, getJSON(t, a.url+"/api/public/v1/channels", &listed))
		require.Empty(t, listed, "a private channel is listed only for its token")

		base := a.url + "/content/databases/" + ch.ID.String()
		head, err := http.Head(base + ".sqlite3")
		require.NoError(t, err)
		head.Body.Close()
		require.Equal(t, http.StatusOK, head.StatusCode)
		require.Positive(t, head.ContentLength)
		require.Empty(t, head.Header.Get("Content-Encoding"), "Kolibri sends ranges only without an encoding")
		req, _ := http.NewRequest(http.MethodGet, base+"-1.sqlite3", nil)
		req.Header.Set("Range", "bytes=0-15")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusPartialContent, resp.StatusCode)
		require.Equal(t, "SQLite format 3\x00", string(body))
		require.Equal(t, fmt.Sprintf("bytes 0-15/%d", head.ContentLength), resp.Header.Get("Content-Range"))
		for _, name := range []string{"-2.sqlite3", "-0.sqlite3", "-next.sqlite3", ".sqlite"} {
			resp, err := http.Get(base + name)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode, name)
		}

		// A second request while nothing runs makes a new job; the API
		// refuses what cannot be published, with a code.
		r2 := a.Do(token, `mutation($c: ID!) { publishChannel(channelId: $c, draft: true) { id } }`, map[string]any{"c": ch.ID.String()})
		require.Empty(t, r2.Errors)
		require.NotEqual(t, job, get(r2.Data, "publishChannel", "id"))
		empty := dbtest.Channel(t, d, ed, "Empty")
		r3 := a.Do(token, `mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, map[string]any{"c": empty.ID.String()})
		require.Equal(t, "BAD_USER_INPUT", r3.Code())
		require.Contains(t, r3.Errors[0].Message, "nothing to publish")
		r4 := a.OK(token, `{ job(id: "0123456789abcdef0123456789abcdef") { id } }`, nil)
		require.Nil(t, r4["job"])
	})
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	return resp.StatusCode
}
