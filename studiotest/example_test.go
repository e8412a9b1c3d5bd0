package studiotest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/server"
	"studio/studiotest"
)

// Example runs a server on SQLite, as server's tests do, and talks to it:
// GraphQL over HTTP, an upload, and a subscription over graphql-ws.
func Example() {
	t := &exampleT{} // in a test: the test's t
	defer t.done()
	d := dbtest.Open(t, db.SQLite)
	store, err := blobs.Open(context.Background(), t.TempDir())
	if err != nil {
		panic(err)
	}
	defer store.Close()
	srv := httptest.NewServer(server.New(d, server.Config{Blobs: store, Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))

	// GraphQL over HTTP: OK fails the test on an error; Do returns it.
	c := studiotest.New(t, srv.URL)
	created := c.OK(token, `mutation { createChannel(input: {name: "Maths"}) { id name } }`, nil)["createChannel"].(map[string]any)
	fmt.Println(created["name"])
	r := c.Do("", `mutation { createChannel(input: {name: "Anonymous"}) { id } }`, nil)
	fmt.Println(r.Status, r.Code())

	// An upload, by the multipart request spec.
	r = c.Upload(token, `mutation($in: UploadFileInput!) { uploadFile(input: $in) { checksum } }`,
		map[string]any{"in": map[string]any{"preset": "document"}},
		studiotest.File{Path: "variables.in.file", Name: "notes.pdf", Data: []byte("%PDF-1.4\n")})
	var uploaded struct{ UploadFile struct{ Checksum string } }
	if err := r.Decode(&uploaded); err != nil {
		panic(err)
	}
	fmt.Println(uploaded.UploadFile.Checksum)

	// graphql-ws: the channel's changes from the start.
	ws, err := studiotest.Dial(t, srv.URL, token)
	if err != nil {
		panic(err)
	}
	defer ws.Close()
	ws.Subscribe("1", `subscription($c: ID!) { channelChanges(channelId: $c, since: 0) { type table } }`, map[string]any{"c": created["id"]})
	m, err := ws.Next(10 * time.Second)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.ID, m.Type, string(m.Payload))

	// A refused token closes the socket with a code.
	_, err = studiotest.Dial(t, srv.URL, "studio_not-a-token")
	fmt.Println(int(websocket.CloseStatus(err)))

	// Output:
	// Maths
	// 200 UNAUTHENTICATED
	// 6446a98080f5e51ab7f0abc0e8eda635
	// 1 next {"data":{"channelChanges":{"type":"CREATED","table":"channel"}}}
	// 4401
}

// exampleT is the little of testing.TB that an Example, which has no test,
// needs: a failure panics, and cleanups run at done.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) FailNow()                          { panic("failed") }

func (t *exampleT) TempDir() string {
	dir, err := os.MkdirTemp("", "studiotest")
	if err != nil {
		panic(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (t *exampleT) done() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}
