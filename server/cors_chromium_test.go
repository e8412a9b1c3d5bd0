package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// corsPage is a frontend on another origin: it queries, subscribes over
// graphql-transport-ws and loads a file, then leaves what happened in
// window.outcome.
const corsPage = `<!doctype html><meta charset="utf-8"><title>frontend</title><script>
const p = new URLSearchParams(location.search);
const studio = p.get("studio"), token = p.get("token");
const outcome = {};
async function query() {
  try {
    const r = await fetch(studio + "/graphql", {method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
      body: JSON.stringify({query: "{ me { email } }"})});
    outcome.query = (await r.json()).data.me.email;
  } catch (e) { outcome.query = "refused: " + e.name; }
}
function subscribe() {
  return new Promise(done => {
    const ws = new WebSocket(studio.replace("http", "ws") + "/graphql", "graphql-transport-ws");
    const timer = setTimeout(() => { outcome.subscribe = "timed out"; done(); }, 10000);
    const end = v => { if (outcome.subscribe === undefined) { outcome.subscribe = v; } clearTimeout(timer); ws.close(); done(); };
    ws.onopen = () => ws.send(JSON.stringify({type: "connection_init", payload: {Authorization: "Bearer " + token}}));
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === "connection_ack") {
        ws.send(JSON.stringify({id: "1", type: "subscribe", payload: {
          query: "subscription($c: ID!) { channelChanges(channelId: $c, since: 0) { table type } }", variables: {c: p.get("channel")}}}));
      } else if (m.type === "next") {
        end(m.payload.data.channelChanges.table);
      } else {
        end("got " + m.type);
      }
    };
    ws.onerror = () => end("refused");
  });
}
async function load() {
  try {
    const r = await fetch(studio + p.get("file"));
    outcome.file = r.status + " " + (await r.text());
  } catch (e) { outcome.file = "refused: " + e.name; }
}
(async () => { await query(); await subscribe(); await load(); window.outcome = outcome; })();
</script>`

// TestCORSInChromium: a page on an origin that --cors-origins allows
// queries, subscribes and loads a file; a page on another origin gets
// none of them.
func TestCORSInChromium(t *testing.T) {
	exe := chromium(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(corsPage))
	})
	allowed := httptest.NewServer(page)
	defer allowed.Close()
	refused := httptest.NewServer(page)
	defer refused.Close()

	d := dbtest.Open(t, db.SQLite)
	u := dbtest.User(t, d, "ed@example.org", false)
	token := dbtest.Token(t, d, u)
	ch := dbtest.Channel(t, d, u, "Maths")
	a := newAPI(t, d, server.Config{CORSOrigins: []string{allowed.URL}})
	r := a.upload(token, "notes.pdf", []byte("%PDF-1.4 notes"), map[string]any{"preset": "document"})
	require.Empty(t, r.Errors, "%s", r.Body)
	file := get(r.Data, "uploadFile", "url").(string)

	ctx := newBrowser(t, exe)
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	visit := func(base string) map[string]string {
		t.Helper()
		q := url.Values{"studio": {a.url}, "token": {token}, "channel": {ch.ID.String()}, "file": {file}}
		require.NoError(t, chromedp.Do(tctx,
			chromedp.Navigate(base+"/?"+q.Encode()),
			chromedp.Poll[chromedp.Void](`window.outcome !== undefined`, chromedp.WithPollingTimeout(30*time.Second))))
		out, err := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.stringify(window.outcome)`))
		require.NoError(t, err)
		var got map[string]string
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		return got
	}
	require.Equal(t, map[string]string{"query": "ed@example.org", "subscribe": "channel", "file": "200 %PDF-1.4 notes"}, visit(allowed.URL))
	require.Equal(t, map[string]string{"query": "refused: TypeError", "subscribe": "refused", "file": "refused: TypeError"}, visit(refused.URL))
}
