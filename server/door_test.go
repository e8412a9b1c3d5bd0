package server_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/studiotest"
)

// TestUploadReachesLiveSubscribers: an upload is a write like any other, so
// a live channelChanges subscriber hears of it when it commits (on SQLite it
// used to wait for the subscription's 30-second safety poll: the upload
// wrote around the one door and never woke anyone). nextChange waits 10 s.
func TestUploadReachesLiveSubscribers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		doc := e.create(t, map[string]any{"parentId": e.root, "kind": "document", "title": "Notes"})[0]
		ws, err := studiotest.Dial(t, e.url, e.token)
		require.NoError(t, err)
		defer ws.Close()
		rev := int(get(e.OK(e.token, `query($c: ID!) { channel(id: $c) { serverRev } }`, map[string]any{"c": e.channel}), "channel", "serverRev").(float64))
		ws.Subscribe("1", subscribeChanges, map[string]any{"c": e.channel, "since": rev})

		r := e.upload(e.token, "notes.pdf", []byte("%PDF-1.4 live"), map[string]any{"preset": "document", "nodeId": doc})
		require.Empty(t, r.Errors)
		c := nextChange(t, ws)
		require.Equal(t, "CREATED", c.Type)
		require.Equal(t, "file", c.Table)
	})
}
