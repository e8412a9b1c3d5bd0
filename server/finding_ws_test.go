package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/studiotest"
)

func TestFindingAckEchoesToken(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEditorAPI(t, d)
	ws, err := studiotest.Dial(t, e.url, e.token)
	require.NoError(t, err)
	var ack studiotest.Message
	require.NoError(t, json.Unmarshal(ws.Ack, &ack))
	require.Equal(t, "connection_ack", ack.Type)
	require.Empty(t, ack.Payload, "the ack carries no payload")
	require.NotContains(t, string(ws.Ack), e.token)
}

func TestFindingWebsocketRefusedInitCloseCode(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEditorAPI(t, d)
	_, err := studiotest.Dial(t, e.url, "studio_not-a-token")
	require.Error(t, err)
	require.Equal(t, websocket.StatusCode(4401), websocket.CloseStatus(err), "graphql-transport-ws: Unauthorized, which graphql-ws does not retry (it retries 4403)")

	// A good token still gets its ack.
	_, err = studiotest.Dial(t, e.url, e.token)
	require.NoError(t, err)
}

// residentMemory is this process's resident memory in bytes (VmRSS). Under
// the race detector it is the Go runtime's own memory instead: the
// detector's shadow memory, which it keeps, would swamp what is measured.
func residentMemory(t *testing.T) (int64, string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return int64(ms.Sys), "Go runtime memory (race detector on)"
			}
		}
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10, "VmRSS"
		}
	}
	t.Skip("no VmRSS")
	return 0, ""
}

// subscriptionReplies reads a socket's messages in the background and
// reports, by id, the subscriptions refused with code; other messages go
// to rest.
func subscriptionReplies(ws *studiotest.WS, code string) (refused <-chan string, rest <-chan studiotest.Message) {
	ref, other := make(chan string, 1<<15), make(chan studiotest.Message, 1<<10)
	go func() {
		defer close(ref)
		defer close(other)
		seen := map[string]bool{}
		for {
			m, err := ws.Next(30 * time.Second) // idle: the server answers each subscribe at once
			if err != nil {
				return
			}
			switch {
			case m.Type == "complete" && seen[m.ID]:
				delete(seen, m.ID) // each refusal is followed by a complete
			case strings.Contains(string(m.Payload), code):
				seen[m.ID] = true
				ref <- m.ID
			default:
				other <- m
			}
		}
	}()
	return ref, other
}

// TestFindingSubscriptionFlood opens 20,000 subscriptions on one socket:
// at most the cap run, the others are refused with TOO_COMPLEX, memory
// stays put and the socket still works. A user's sockets share a cap too.
func TestFindingSubscriptionFlood(t *testing.T) {
	const perSocket, perUser = 100, 500
	d := dbtest.Open(t, db.SQLite)
	e := newEditorAPI(t, d)

	t.Run("one socket", func(t *testing.T) {
		const attempts = 20000
		ws, err := studiotest.Dial(t, e.url, e.token)
		require.NoError(t, err)
		defer ws.Close()
		refused, rest := subscriptionReplies(ws, "TOO_COMPLEX")
		runtime.GC()
		mem0, what := residentMemory(t)
		goroutines0 := runtime.NumGoroutine()

		payload, _ := json.Marshal(map[string]any{"query": subscribeChanges, "variables": map[string]any{"c": e.channel}})
		for i := range attempts {
			ws.Send(studiotest.Message{ID: fmt.Sprintf("s%d", i), Type: "subscribe", Payload: payload})
		}
		active := map[string]bool{}
		for i := range attempts {
			active[fmt.Sprintf("s%d", i)] = true
		}
		for range attempts - perSocket {
			id, ok := <-refused
			require.True(t, ok, "the socket closed")
			delete(active, id)
		}
		require.Len(t, active, perSocket)
		mem1, _ := residentMemory(t)
		goroutines1 := runtime.NumGoroutine()
		t.Logf("%s %d MiB -> %d MiB; goroutines %d -> %d", what, mem0>>20, mem1>>20, goroutines0, goroutines1)
		require.Less(t, mem1-mem0, int64(50<<20), "resident memory grew by more than 50 MB")
		// Each active subscription runs two goroutines (gqlgen's and the
		// resolver's); refused ones leave none behind.
		require.LessOrEqual(t, goroutines1-goroutines0, 3*perSocket+20)

		// Still usable: ending one subscription makes room for another.
		var running string
		for id := range active {
			running = id
			break
		}
		ws.Complete(running)
		m := <-rest
		require.Equal(t, studiotest.Message{ID: running, Type: "complete"}, m)
		ws.Subscribe("again", subscribeChanges, map[string]any{"c": e.channel, "since": 0})
		m = <-rest
		require.Equal(t, "next", m.Type, string(m.Payload))
		require.Equal(t, "again", m.ID)
		require.Contains(t, string(m.Payload), `"table":"channel"`)
		select {
		case id := <-refused:
			t.Fatalf("%s was refused", id)
		default:
		}
	})

	t.Run("one user over several sockets", func(t *testing.T) {
		// A user of their own, whom the socket above does not count against.
		token := dbtest.Token(t, d, dbtest.User(t, d, "many@example.org", false))
		channel := get(e.OK(token, `mutation { createChannel(input: {name: "Many"}) { id } }`, nil), "createChannel", "id")
		// Fill the user's cap from five sockets: of each socket's 101
		// subscriptions one is refused, and only once the 100 others run.
		for range perUser / perSocket {
			ws, err := studiotest.Dial(t, e.url, token)
			require.NoError(t, err)
			defer ws.Close()
			refused, _ := subscriptionReplies(ws, "TOO_COMPLEX")
			for i := range perSocket + 1 {
				ws.Subscribe(fmt.Sprint(i), subscribeChanges, map[string]any{"c": channel})
			}
			_, ok := <-refused
			require.True(t, ok)
		}
		ws, err := studiotest.Dial(t, e.url, token)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("1", subscribeChanges, map[string]any{"c": channel})
		m, err := ws.Next(10 * time.Second)
		require.NoError(t, err)
		require.Contains(t, string(m.Payload), "TOO_COMPLEX")
		require.Contains(t, string(m.Payload), "the most a user may have")

		// Another user is not affected.
		other := dbtest.Token(t, d, dbtest.User(t, d, "other@example.org", false))
		ws2, err := studiotest.Dial(t, e.url, other)
		require.NoError(t, err)
		defer ws2.Close()
		ws2.Subscribe("1", subscribeChanges, map[string]any{"c": channel})
		m, err = ws2.Next(10 * time.Second)
		require.NoError(t, err)
		require.Contains(t, string(m.Payload), "NOT_FOUND")
	})
}

// TestFindingRemovedMemberStillStreams removes a viewer while it watches a
// channel and a job of it: it receives nothing after the removal and its
// subscriptions end with NOT_FOUND.
func TestFindingRemovedMemberStillStreams(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		node := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "Before"})[0]
		dbtest.Tree(t, d, dbtest.Node(t, d, models.MustParseID(e.root)), "video A") // something to publish
		viewer := dbtest.User(t, d, "viewer@example.org", false)
		viewerToken := dbtest.Token(t, d, viewer)
		e.OK(e.token, `mutation($c: ID!) { addChannelViewer(channelId: $c, email: "viewer@example.org") { id } }`, map[string]any{"c": e.channel})
		job, err := jobs.RequestPublish(context.Background(), d, e.jobs, userOf(t, d, e.token), models.MustParseID(e.channel), "", false)
		require.NoError(t, err)
		rev := int(get(e.OK(e.token, `query($c: ID!) { channel(id: $c) { serverRev } }`, map[string]any{"c": e.channel}), "channel", "serverRev").(float64))

		ws, err := studiotest.Dial(t, e.url, viewerToken)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("changes", subscribeChanges, map[string]any{"c": e.channel, "since": rev - 1})
		require.Equal(t, rev, nextChange(t, ws).ServerRev, "the subscription runs")
		ws.Subscribe("job", `subscription($j: ID!) { jobUpdated(id: $j) { state } }`, map[string]any{"j": models.JobID(job).String()})
		m, err := ws.Next(10 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "job", m.ID)
		require.Equal(t, "next", m.Type, string(m.Payload))

		e.OK(e.token, `mutation($c: ID!, $u: ID!) { removeChannelMember(channelId: $c, userId: $u) { id } }`,
			map[string]any{"c": e.channel, "u": viewer.ID.String()})
		e.OK(e.token, `mutation($id: ID!) { updateContentNodes(input: [{id: $id, title: "After"}]) { id } }`, map[string]any{"id": node})
		require.NoError(t, d.AddJobEvent(context.Background(), &models.JobEvent{JobID: job, State: models.JobRunning, Progress: 1})) // without an event the job's subscription checks every few seconds

		ended := map[string]bool{}
		for len(ended) < 2 {
			m, err := ws.Next(20 * time.Second)
			require.NoError(t, err)
			require.Equal(t, "error", m.Type, "nothing after the removal but the end: %s", m.Payload)
			require.Contains(t, string(m.Payload), "NOT_FOUND")
			require.NotContains(t, string(m.Payload), "After")
			ended[m.ID] = true
		}
		require.Equal(t, map[string]bool{"changes": true, "job": true}, ended)
		_, err = ws.Next(300 * time.Millisecond)
		require.Error(t, err, "nothing more was sent")
	})
}

func TestFindingJobsFirstUnbounded(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEditorAPI(t, d)
	dbtest.Tree(t, d, dbtest.Node(t, d, models.MustParseID(e.root)), "video A") // something to publish
	_, err := jobs.RequestPublish(context.Background(), d, e.jobs, userOf(t, d, e.token), models.MustParseID(e.channel), "", false)
	require.NoError(t, err)
	const q = `query($c: ID!, $n: Int) { channel(id: $c) { jobs(first: $n) { id } } }`
	for _, tc := range []struct {
		first any
		code  string
		jobs  int
	}{
		{first: 1000000, code: "BAD_USER_INPUT"},
		{first: -1, code: "BAD_USER_INPUT"},
		{first: 101, code: "BAD_USER_INPUT"},
		{first: 100, jobs: 1},
		{first: 1, jobs: 1},
		{first: 0, jobs: 0}, // not "no limit"
		{first: nil, jobs: 1},
	} {
		t.Run(fmt.Sprint(tc.first), func(t *testing.T) {
			r := e.Do(e.token, q, map[string]any{"c": e.channel, "n": tc.first})
			require.Equal(t, tc.code, r.Code())
			if tc.code == "" {
				require.Len(t, get(r.Data, "channel", "jobs"), tc.jobs)
			}
		})
	}
}

func userOf(t *testing.T, d *db.DB, token string) *models.User {
	u, err := d.UserByToken(context.Background(), token)
	require.NoError(t, err)
	return u
}
