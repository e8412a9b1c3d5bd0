package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/studiotest"
)

// TestChangeLinks: channelChanges' events link to the node as it is now,
// its parent, the parent it left and the channel, so that a client that
// selects them keeps a normalized cache right with no code of its own;
// UPDATED_DESCENDANTS names the nodes it changed.
func TestChangeLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		ids := e.create(t, map[string]any{"parentId": e.root, "kind": "topic", "title": "A"},
			map[string]any{"parentId": e.root, "kind": "topic", "title": "B"})
		a, b := ids[0], ids[1]
		leaf := e.create(t, map[string]any{"parentId": a, "kind": "topic", "title": "Leaf"})[0]
		rev := int(get(e.OK(e.token, `query($c: ID!) { channel(id: $c) { serverRev } }`, map[string]any{"c": e.channel}), "channel", "serverRev").(float64))

		ws, err := studiotest.Dial(t, e.url, e.token)
		require.NoError(t, err)
		defer ws.Close()
		ws.Subscribe("1", `subscription($c: ID!, $since: Int) { channelChanges(channelId: $c, since: $since) {
			type table channel { id name } node { id title parent { id } } parent { id } previousParent { id } touchedIds } }`,
			map[string]any{"c": e.channel, "since": rev})
		type link struct{ ID string }
		type event struct {
			Type, Table string
			Channel     *struct{ ID, Name string }
			Node        *struct {
				ID, Title string
				Parent    *link
			}
			Parent         *link
			PreviousParent *link
			TouchedIds     []string
		}
		next := func() event {
			t.Helper()
			m, err := ws.Next(10 * time.Second)
			require.NoError(t, err)
			require.Equal(t, "next", m.Type, string(m.Payload))
			var ev struct {
				Data   struct{ ChannelChanges event }
				Errors []studiotest.Error
			}
			require.NoError(t, json.Unmarshal(m.Payload, &ev))
			require.Empty(t, ev.Errors, string(m.Payload))
			return ev.Data.ChannelChanges
		}

		e.OK(e.token, `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`, map[string]any{"ids": []string{leaf}, "t": b})
		ev := next()
		require.Equal(t, "MOVED", ev.Type)
		require.Equal(t, leaf, ev.Node.ID)
		require.Equal(t, b, ev.Parent.ID, "the parent it went to")
		require.Equal(t, a, ev.PreviousParent.ID, "the parent it left")
		require.Equal(t, "Maths", ev.Channel.Name)

		e.OK(e.token, `mutation($id: ID!) { updateContentNodes(input: [{id: $id, title: "Renamed"}]) { id } }`, map[string]any{"id": leaf})
		for ev = next(); ev.Type != "UPDATED" || ev.Node == nil || ev.Node.ID != leaf; ev = next() {
		}
		require.Equal(t, "Renamed", ev.Node.Title, "the node as it is now, not as the subscription first read it")

		e.OK(e.token, `mutation($id: ID!) { updateDescendants(id: $id, mods: {copyright_holder: "Us"}) { id } }`, map[string]any{"id": b})
		for ev = next(); ev.Type != "UPDATED_DESCENDANTS"; ev = next() {
		}
		require.ElementsMatch(t, []string{b, leaf}, ev.TouchedIds)

		// To the trash: Studio's sync logs that as a move into the trash.
		e.OK(e.token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`, map[string]any{"ids": []string{leaf}})
		for ev = next(); ev.Type != "MOVED"; ev = next() {
		}
		require.Equal(t, b, ev.PreviousParent.ID)
		require.Equal(t, e.trash, ev.Parent.ID, "in the trash now")
		// For good: the node is gone, and the parent it left is named.
		e.OK(e.token, `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids, permanent: true) }`, map[string]any{"ids": []string{leaf}})
		for ev = next(); ev.Type != "DELETED"; ev = next() {
		}
		require.Nil(t, ev.Node)
		require.Equal(t, e.trash, ev.PreviousParent.ID)
	})
}
