package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

func TestParseOrigins(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "http://localhost:5173", want: []string{"http://localhost:5173"}},
		{in: " HTTP://LocalHost:5173/ , https://app.example.org", want: []string{"http://localhost:5173", "https://app.example.org"}},
		{in: "*", want: []string{"*"}},
		{in: "localhost:5173", bad: true},
		{in: "http://localhost:5173/app", bad: true},
		{in: "ftp://example.org", bad: true},
		{in: "http://user@example.org", bad: true},
		{in: "http://", bad: true},
	} {
		got, err := server.ParseOrigins(c.in)
		if c.bad {
			require.Error(t, err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got, c.in)
	}
}

// TestCORS: preflights and answers carry CORS headers for listed origins
// only, on /graphql and /content/; credentials never with "*".
func TestCORS(t *testing.T) {
	const dev, other = "http://localhost:5173", "http://evil.example"
	d := dbtest.Open(t, db.SQLite)
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
	send := func(base, method, path, origin string, header ...string) *http.Response {
		t.Helper()
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"query": "{ me { email } }"}`)
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequest(method, base+path, body)
		require.NoError(t, err)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	preflight := []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type"}
	file := "/content/storage/0/0/00000000000000000000000000000000.pdf"

	closed := newAPI(t, d, server.Config{})
	r := send(closed.url, http.MethodOptions, "/graphql", dev, preflight...)
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "by default, no other origin")
	r = send(closed.url, http.MethodPost, "/graphql", dev)
	require.Equal(t, http.StatusOK, r.StatusCode, "answered, but not readable by the page")
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	open := newAPI(t, d, server.Config{CORSOrigins: []string{dev}})
	r = send(open.url, http.MethodOptions, "/graphql", dev, preflight...)
	require.Equal(t, http.StatusNoContent, r.StatusCode)
	require.Equal(t, dev, r.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, r.Header.Get("Access-Control-Allow-Methods"), "POST")
	require.Equal(t, "authorization, content-type", r.Header.Get("Access-Control-Allow-Headers"))
	require.Contains(t, r.Header.Values("Vary"), "Origin")
	r = send(open.url, http.MethodPost, "/graphql", dev)
	require.Equal(t, http.StatusOK, r.StatusCode)
	require.Equal(t, dev, r.Header.Get("Access-Control-Allow-Origin"))
	r = send(open.url, http.MethodPost, "/graphql", other)
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "an origin not listed")
	r = send(open.url, http.MethodOptions, "/graphql", other, preflight...)
	require.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))
	r = send(open.url, http.MethodGet, file, dev)
	require.Equal(t, http.StatusNotFound, r.StatusCode)
	require.Equal(t, dev, r.Header.Get("Access-Control-Allow-Origin"), "files too")
	r = send(open.url, http.MethodOptions, file, dev, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range")
	require.Equal(t, http.StatusNoContent, r.StatusCode)
	require.Equal(t, dev, r.Header.Get("Access-Control-Allow-Origin"))

	anyone := newAPI(t, d, server.Config{CORSOrigins: []string{"*"}})
	r = send(anyone.url, http.MethodPost, "/graphql", other)
	require.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"))
	require.Empty(t, r.Header.Get("Access-Control-Allow-Credentials"), "never credentials with *")
}

// TestWebsocketOrigin: the websocket's origin check uses the same list.
func TestWebsocketOrigin(t *testing.T) {
	const dev = "http://localhost:5173"
	d := dbtest.Open(t, db.SQLite)
	dial := func(base, origin string) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
			&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if conn != nil {
			_ = conn.CloseNow()
		}
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	closed := newAPI(t, d, server.Config{})
	open := newAPI(t, d, server.Config{CORSOrigins: []string{dev}})
	for _, c := range []struct {
		base, origin string
		want         int
	}{
		{closed.url, "", http.StatusSwitchingProtocols},
		{closed.url, closed.url, http.StatusSwitchingProtocols},
		{closed.url, dev, http.StatusForbidden},
		{open.url, dev, http.StatusSwitchingProtocols},
		{open.url, "http://evil.example", http.StatusForbidden},
	} {
		status, err := dial(c.base, c.origin)
		require.Equal(t, c.want, status, "origin %q: %v", c.origin, err)
	}
}
