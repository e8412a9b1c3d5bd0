package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/studiotest"
)

const applyChanges = `mutation($c: [ChangeInput!]!, $atomic: Boolean) { applyChanges(changes: $c, atomic: $atomic) {
	allowed { index clientRev serverRev } disallowed { index clientRev code message }
	errors { index clientRev code field message } changes { type table key mods } } }`

func (e *editorAPI) sync(token string, atomic bool, changes ...map[string]any) map[string]any {
	e.t.Helper()
	list := make([]any, len(changes))
	for i, c := range changes {
		list[i] = c
	}
	return e.OK(token, applyChanges, map[string]any{"c": list, "atomic": atomic})["applyChanges"].(map[string]any)
}

func nodeCreate(rev int, id, parent string, obj map[string]any) map[string]any {
	o := map[string]any{"parent": parent}
	for k, v := range obj {
		o[k] = v
	}
	return map[string]any{"type": "CREATED", "table": "contentnode", "key": id, "clientRev": rev, "obj": o}
}

// TestSyncStudioScenarios runs Studio's sync behaviours (studio-backend.md §6
// items 1, 2, 6, 9, 10, 12 and 35) through applyChanges.
func TestSyncStudioScenarios(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		otherUser := dbtest.User(t, d, "other@example.org", false)
		other := dbtest.Token(t, d, otherUser)
		theirs := e.OK(other, `mutation { createChannel(input: {name: "Theirs"}) { id root { id } } }`, nil)
		theirRoot := get(theirs, "createChannel", "root", "id").(string)
		topic := map[string]any{"kind": "topic", "title": "T"}

		t.Run("1 a create in a channel one cannot edit is disallowed", func(t *testing.T) {
			id := models.NewID().String()
			r := e.sync(e.token, false, nodeCreate(7, id, theirRoot, topic))
			require.Empty(t, r["allowed"])
			require.Len(t, r["disallowed"], 1)
			require.EqualValues(t, 7, get(r, "disallowed", 0, "clientRev"))
			require.Nil(t, e.OK(other, `query($id: ID!) { contentNode(id: $id) { id } }`, map[string]any{"id": id})["contentNode"])
		})
		t.Run("2 a mixed batch applies what is allowed", func(t *testing.T) {
			mine, notMine := models.NewID().String(), models.NewID().String()
			r := e.sync(e.token, false, nodeCreate(1, mine, e.root, topic), nodeCreate(2, notMine, theirRoot, topic))
			require.Len(t, r["allowed"], 1)
			require.EqualValues(t, 1, get(r, "allowed", 0, "clientRev"))
			require.Positive(t, get(r, "allowed", 0, "serverRev"))
			require.Len(t, r["disallowed"], 1)
			require.Equal(t, mine, get(e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { id } }`, map[string]any{"id": mine}), "contentNode", "id"))
			// The server says the new node's node_id and content_id.
			require.Equal(t, "UPDATED", get(r, "changes", 0, "type"))
			require.Equal(t, mine, get(r, "changes", 0, "key"))
			require.NotEmpty(t, get(r, "changes", 0, "mods", "node_id"))
		})
		t.Run("6 deletes", func(t *testing.T) {
			theirNode := models.NewID().String()
			e.sync(other, false, nodeCreate(1, theirNode, theirRoot, topic))
			r := e.sync(e.token, false, map[string]any{"type": "DELETED", "table": "contentnode", "key": theirNode})
			require.Len(t, r["disallowed"], 1)
			require.NotNil(t, e.OK(other, `query($id: ID!) { contentNode(id: $id) { id } }`, map[string]any{"id": theirNode})["contentNode"])
			// Deleting the orphanage root (which does not exist here) is a silent no-op.
			r = e.sync(e.token, false, map[string]any{"type": "DELETED", "table": "contentnode", "key": "00000000000000000000000000000000"})
			require.Len(t, r["allowed"], 1)
			require.Empty(t, r["errors"])
		})
		ex := models.NewID().String()
		e.sync(e.token, false, nodeCreate(1, ex, e.root, map[string]any{"kind": "exercise", "title": "Ex", "extra_fields": map[string]any{"randomize": true}}))
		t.Run("9 a false claim of completeness is answered", func(t *testing.T) {
			r := e.sync(e.token, false, map[string]any{"type": "UPDATED", "table": "contentnode", "key": ex, "mods": map[string]any{"complete": true}})
			require.Len(t, r["allowed"], 1)
			require.Equal(t, map[string]any{"complete": false}, get(r, "changes", 0, "mods"))
		})
		t.Run("10 dot paths add and remove nested keys", func(t *testing.T) {
			e.sync(e.token, false, map[string]any{"type": "UPDATED", "table": "contentnode", "key": ex, "mods": map[string]any{"extra_fields.options.modality": "QUIZ"}})
			n := e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { extraFields } }`, map[string]any{"id": ex})
			require.Equal(t, "QUIZ", get(n, "contentNode", "extraFields", "options", "modality"))
			e.sync(e.token, false, map[string]any{"type": "UPDATED", "table": "contentnode", "key": ex, "mods": map[string]any{"extra_fields.options.modality": nil}})
			n = e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { extraFields } }`, map[string]any{"id": ex})
			require.Equal(t, map[string]any{}, get(n, "contentNode", "extraFields", "options"))
			require.Equal(t, true, get(n, "contentNode", "extraFields", "randomize"))
		})
		t.Run("12 determined_by_resource drops the threshold", func(t *testing.T) {
			html := models.NewID().String()
			e.sync(e.token, false, nodeCreate(1, html, e.root, map[string]any{"kind": "html5", "title": "Game"}),
				map[string]any{"type": "UPDATED", "table": "contentnode", "key": html, "mods": map[string]any{
					"extra_fields.options.completion_criteria": map[string]any{"model": "determined_by_resource", "threshold": 3}}})
			n := e.OK(e.token, `query($id: ID!) { contentNode(id: $id) { extraFields } }`, map[string]any{"id": html})
			require.Equal(t, map[string]any{"model": "determined_by_resource"}, get(n, "contentNode", "extraFields", "options", "completion_criteria"))
		})
		t.Run("35 channels: created with a new id, never taken over, deleted softly", func(t *testing.T) {
			id := models.NewID().String()
			r := e.sync(other, false, map[string]any{"type": "CREATED", "table": "channel", "key": id, "obj": map[string]any{"name": "Synced", "language": "en"}})
			require.Len(t, r["allowed"], 1)
			ch := e.OK(other, `query($id: ID!) { channel(id: $id) { name canEdit root { title } } }`, map[string]any{"id": id})
			require.Equal(t, "Synced", get(ch, "channel", "name"))
			require.Equal(t, true, get(ch, "channel", "canEdit"))
			// The editor cannot take it over by "creating" it again.
			r = e.sync(e.token, false, map[string]any{"type": "CREATED", "table": "channel", "key": id, "obj": map[string]any{"name": "Mine now"}})
			require.Len(t, r["disallowed"], 1)
			require.Nil(t, e.OK(e.token, `query($id: ID!) { channel(id: $id) { id } }`, map[string]any{"id": id})["channel"])
			r = e.sync(other, false, map[string]any{"type": "DELETED", "table": "channel", "key": id})
			require.Len(t, r["allowed"], 1)
			ch = e.OK(other, `query($id: ID!) { channel(id: $id) { deleted } }`, map[string]any{"id": id})
			require.Equal(t, true, get(ch, "channel", "deleted"), "deletion is soft: members still see the channel")
		})
		t.Run("atomic batches are all or nothing", func(t *testing.T) {
			good, bad := models.NewID().String(), models.NewID().String()
			before := counts(t, d)
			r := e.sync(e.token, true, nodeCreate(1, good, e.root, topic), nodeCreate(2, bad, e.root, map[string]any{"kind": "movie", "title": "x"}))
			require.Empty(t, r["allowed"])
			require.Len(t, r["errors"], 1)
			require.EqualValues(t, 1, get(r, "errors", 0, "index"))
			require.Equal(t, "kind", get(r, "errors", 0, "field"))
			require.Equal(t, before, counts(t, d))
		})
		t.Run("members through editor_m2m and viewer_m2m", func(t *testing.T) {
			r := e.sync(e.token, false, map[string]any{"type": "CREATED", "table": "viewer_m2m", "key": []any{otherUser.ID.String(), e.channel}})
			require.Len(t, r["allowed"], 1)
			ch := e.OK(other, `query($id: ID!) { channel(id: $id) { canEdit viewers { email } } }`, map[string]any{"id": e.channel})
			require.Equal(t, false, get(ch, "channel", "canEdit"))
			// A viewer's writes are disallowed; they may leave.
			r = e.sync(other, false, nodeCreate(1, models.NewID().String(), e.root, topic))
			require.Len(t, r["disallowed"], 1)
			r = e.sync(other, false, map[string]any{"type": "DELETED", "table": "viewer_m2m", "key": []any{otherUser.ID.String(), e.channel}})
			require.Len(t, r["allowed"], 1)
		})
		dbtest.CheckTree(t, d)
	})
}

func TestChangesQuery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		viewer := dbtest.Token(t, d, dbtest.User(t, d, "viewer@example.org", false))
		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		e.OK(e.token, `mutation($c: ID!) { addChannelViewer(channelId: $c, email: "viewer@example.org") { id } }`, map[string]any{"c": e.channel})
		var changes []map[string]any
		for i := range 5 {
			changes = append(changes, nodeCreate(i, models.NewID().String(), e.root, map[string]any{"kind": "topic", "title": "T"}))
		}
		e.sync(e.token, false, changes...)
		const q = `query($c: ID!, $since: Int!, $first: Int) { changes(channelId: $c, since: $since, first: $first) { maxRev hasMore changes { serverRev type table clientRev createdBy { email } } } }`
		all := e.OK(viewer, q, map[string]any{"c": e.channel, "since": 0, "first": 200})
		list := get(all, "changes", "changes").([]any)
		// Creating the channel (2), adding the viewer, 5 creations and the 5 node ids the server sent back.
		require.Len(t, list, 13)
		require.Equal(t, false, get(all, "changes", "hasMore"))
		for i := 1; i < len(list); i++ {
			require.Greater(t, get(list[i], "serverRev"), get(list[i-1], "serverRev"))
		}
		require.Equal(t, "ed@example.org", get(list[3], "createdBy", "email"))
		page := e.OK(viewer, q, map[string]any{"c": e.channel, "since": get(list[2], "serverRev"), "first": 4})
		require.Len(t, get(page, "changes", "changes"), 4)
		require.Equal(t, true, get(page, "changes", "hasMore"))
		require.Equal(t, get(list[6], "serverRev"), get(page, "changes", "maxRev"))
		require.Equal(t, "NOT_FOUND", e.Do(stranger, q, map[string]any{"c": e.channel, "since": 0}).Code())
		require.Equal(t, "BAD_USER_INPUT", e.Do(viewer, q, map[string]any{"c": e.channel, "since": 0, "first": 201}).Code())
	})
}

const subscribeChanges = `subscription($c: ID!, $since: Int) { channelChanges(channelId: $c, since: $since) { serverRev type table key } }`

func TestChannelChangesSubscription(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ws, err := studiotest.Dial(t, e.url, e.token)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("1", subscribeChanges, map[string]any{"c": e.channel, "since": 0})
		// The replay: the channel's creation and the server's reply.
		var revs []int
		for range 2 {
			revs = append(revs, nextChange(t, ws).ServerRev)
		}
		// Then each new change, typed mutations included, as it commits.
		e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "Live"})
		c := nextChange(t, ws)
		require.Equal(t, "CREATED", c.Type)
		require.Equal(t, "contentnode", c.Table)
		require.Greater(t, c.ServerRev, revs[1])
		require.Equal(t, "UPDATED", nextChange(t, ws).Type)
		_, err = ws.Next(200 * time.Millisecond)
		require.Error(t, err, "nothing more was written")

		// Without view permission the subscription is refused and nothing streams.
		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		ws2, err := studiotest.Dial(t, e.url, stranger)
		require.NoError(t, err)
		defer ws2.Close()
		ws2.Subscribe("1", subscribeChanges, map[string]any{"c": e.channel, "since": 0})
		m, err := ws2.Next(5 * time.Second)
		require.NoError(t, err)
		// gqlgen answers a refused subscription with one result holding the
		// error and no data, then completes it.
		require.Contains(t, []string{"next", "error"}, m.Type)
		require.Contains(t, string(m.Payload), "NOT_FOUND")
		require.NotContains(t, string(m.Payload), "serverRev")
		m, err = ws2.Next(5 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "complete", m.Type)

		// A bad token in connection_init closes the connection.
		_, err = studiotest.Dial(t, e.url, "studio_not-a-token")
		require.Error(t, err)
	})
}

type changeData struct {
	ServerRev int    `json:"serverRev"`
	Type      string `json:"type"`
	Table     string `json:"table"`
}

func nextChange(t *testing.T, ws *studiotest.WS) changeData {
	t.Helper()
	m, err := ws.Next(10 * time.Second)
	require.NoError(t, err)
	require.Equal(t, "next", m.Type, string(m.Payload))
	var ev struct {
		Data struct {
			ChannelChanges changeData `json:"channelChanges"`
		} `json:"data"`
		Errors []studiotest.Error `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(m.Payload, &ev))
	require.Empty(t, ev.Errors)
	return ev.Data.ChannelChanges
}

// TestChannelChangesOverSSE subscribes with a POST that accepts
// text/event-stream, and reads the replay.
func TestChannelChangesOverSSE(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stream := e.Stream(ctx, e.token, subscribeChanges, map[string]any{"c": e.channel, "since": 0})
		defer stream.Close()
		require.Equal(t, "text/event-stream", strings.Split(stream.Response.Header.Get("Content-Type"), ";")[0])
		data, ok := stream.Next()
		require.True(t, ok, "no event")
		require.Contains(t, data, `"table":"channel"`)
		require.Contains(t, data, `"type":"CREATED"`)
	})
}
