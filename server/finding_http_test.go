package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
	"studio/studiotest"
)

// newHandler is the server's handler, served to requests directly (no
// connection), with blobs in a temporary directory and the log kept.
func newHandler(t testing.TB, d *db.DB, cfg server.Config) (http.Handler, *studiotest.Buffer) {
	t.Helper()
	logs := &studiotest.Buffer{}
	if cfg.Blobs == nil {
		store, err := blobs.Open(context.Background(), t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		cfg.Blobs = store
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return server.New(d, cfg).Handler(), logs
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// hugeJSON is a GraphQL request whose variables hold n bytes of padding.
func hugeJSON(n int64) *countingReader {
	return &countingReader{r: io.MultiReader(strings.NewReader(`{"query":"{ __typename }","variables":{"pad":"`),
		studiotest.Repeat('x', n), strings.NewReader(`"}}`))}
}

func TestFindingPlaygroundTokenBehindProxy(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	const token = "s3cret-admin-token"
	type request struct {
		remote, host string
		header       []string
	}
	perfect := request{"127.0.0.1:5000", "127.0.0.1:8080", nil}
	// What a default nginx proxy_pass sends: a loopback peer, Host set to
	// the upstream, no forwarding header.
	nginx := request{"127.0.0.1:41234", "127.0.0.1:8080", nil}
	for _, c := range []struct {
		name string
		cfg  server.Config
		req  request
		want int
	}{
		{"local use", server.Config{Addr: "127.0.0.1:8080"}, perfect, http.StatusOK},
		{"localhost", server.Config{Addr: "localhost:8080"}, perfect, http.StatusOK},
		{"ipv6 loopback", server.Config{Addr: "[::1]:8080"}, request{"[::1]:5000", "[::1]:8080", nil}, http.StatusOK},
		{"behind a proxy", server.Config{Addr: "127.0.0.1:8080", BehindProxy: true}, perfect, http.StatusNotFound},
		{"nginx default, behind a proxy", server.Config{Addr: "127.0.0.1:8080", BehindProxy: true}, nginx, http.StatusNotFound},
		{"a public URL", server.Config{Addr: "127.0.0.1:8080", PublicURL: "https://studio.example.org"}, perfect, http.StatusNotFound},
		{"every interface", server.Config{Addr: ":8080"}, perfect, http.StatusNotFound},
		{"no address", server.Config{}, perfect, http.StatusNotFound},
		{"a public interface", server.Config{Addr: "192.0.2.1:8080"}, perfect, http.StatusNotFound},
		{"X-Client-IP", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"X-Client-IP", "192.0.2.7"}}, http.StatusNotFound},
		{"True-Client-IP", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"True-Client-IP", "192.0.2.7"}}, http.StatusNotFound},
		{"CF-Connecting-IP", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"CF-Connecting-IP", "192.0.2.7"}}, http.StatusNotFound},
		{"X-Forwarded-Proto", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"X-Forwarded-Proto", "https"}}, http.StatusNotFound},
		{"X-Real-IP", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"X-Real-IP", "192.0.2.7"}}, http.StatusNotFound},
		{"an empty X-Forwarded-For", server.Config{Addr: "127.0.0.1:8080"}, request{perfect.remote, perfect.host, []string{"X-Forwarded-For", ""}}, http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.AdminToken = token
			h, _ := newHandler(t, d, c.cfg)
			req := httptest.NewRequest(http.MethodGet, "/playground/token", nil)
			req.RemoteAddr, req.Host = c.req.remote, c.req.host
			for i := 0; i+1 < len(c.req.header); i += 2 {
				req.Header.Set(c.req.header[i], c.req.header[i+1])
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, c.want, rec.Code)
			if c.want != http.StatusOK {
				require.NotContains(t, rec.Body.String(), token)
			}
		})
	}
}

// TestFindingPlaygroundCSRF: a link that names a mutation and run=1 fills
// the playground in and waits for a click; nothing runs before it.
func TestFindingPlaygroundCSRF(t *testing.T) {
	// The page's script reads no "run" parameter at all.
	js, err := os.ReadFile(filepath.Join("playground", "playground.js"))
	require.NoError(t, err)
	require.NotContains(t, string(js), `get("run")`)

	exe := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	admin := dbtest.User(t, d, "ann@example.org", true)
	token := dbtest.Token(t, d, admin)
	a := newAPI(t, d, server.Config{AdminToken: token, Addr: "127.0.0.1:0"})
	channels := func() int64 {
		n, err := d.ForTest(t).NewSelect().Model((*models.Channel)(nil)).Where("name = ?", "Planted").Count(context.Background())
		require.NoError(t, err)
		return n
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()

	mutation := `mutation { createChannel(input: {name: "Planted"}) { id } }`
	link := a.url + "/?" + url.Values{"query": {mutation}, "run": {"1"}}.Encode()
	require.NoError(t, chromedp.Do(tctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("result"))))
	// The page has settled either way: it says it waits, or it ran.
	require.NoError(t, chromedp.Do(tctx, chromedp.Poll[chromedp.Void](
		`(s => s.includes("press Run") || s.startsWith("HTTP"))(document.getElementById("status").textContent)`,
		chromedp.WithPollingTimeout(20*time.Second))))
	status, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	require.Contains(t, status, "not run")
	field, err := chromedp.Run(tctx, chromedp.Value(chromedp.ID("token")))
	require.NoError(t, err)
	require.Equal(t, token, field, "the admin token is offered on this machine, and still nothing ran")
	query, err := chromedp.Run(tctx, chromedp.Value(chromedp.ID("query")))
	require.NoError(t, err)
	require.Equal(t, mutation, query, "the link's query is filled in")
	require.Zero(t, channels(), "the mutation did not run")

	// The user's click runs it.
	require.NoError(t, chromedp.Do(tctx, chromedp.Click(chromedp.ID("run"))))
	require.NoError(t, chromedp.Do(tctx, chromedp.Poll[chromedp.Void](
		`document.getElementById("result").textContent.includes("createChannel")`, chromedp.WithPollingTimeout(20*time.Second))))
	require.Equal(t, int64(1), channels())
}

// TestFindingSSEBodyLimit: a 9 MB body that accepts text/event-stream is
// refused after at most 8 MB is read, as a plain POST is.
func TestFindingSSEBodyLimit(t *testing.T) {
	h, _ := newHandler(t, dbtest.Open(t, db.SQLite), server.Config{})
	client := studiotest.NewHandler(t, h)
	for _, accept := range []string{"text/event-stream", "application/json"} {
		body := hugeJSON(9 << 20)
		r := client.Post("", "application/json", body, "Accept", accept)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, accept)
		r = studiotest.Parse(t, r.Body)
		require.Equal(t, "BAD_USER_INPUT", r.Code(), accept)
		require.Contains(t, r.Errors[0].Message, "over 8388608 bytes", accept)
		require.LessOrEqual(t, body.n.Load(), int64(8<<20+64<<10), "%s: the server read past the limit", accept)
	}
}

// streamRecorder is a ResponseWriter for a stream (SSE) served directly:
// it says when an event has been written.
type streamRecorder struct {
	mu     sync.Mutex
	header http.Header
	status int
	buf    bytes.Buffer
	event  chan struct{}
	once   sync.Once
}

func newStreamRecorder() *streamRecorder {
	return &streamRecorder{header: http.Header{}, event: make(chan struct{})}
}

func (s *streamRecorder) Header() http.Header { return s.header }
func (s *streamRecorder) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == 0 {
		s.status = code
	}
}

func (s *streamRecorder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, _ := s.buf.Write(p)
	if bytes.Contains(s.buf.Bytes(), []byte("event: next")) {
		s.once.Do(func() { close(s.event) })
	}
	return n, nil
}

func (s *streamRecorder) Flush() {}

func (s *streamRecorder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// sseEvents are the data of the events of an SSE body.
func sseEvents(t testing.TB, body string) []studiotest.Response {
	t.Helper()
	var out []studiotest.Response
	for _, line := range strings.Split(body, "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			out = append(out, studiotest.Parse(t, []byte(data)))
		}
	}
	return out
}

// TestFindingSSEMutationTimeout: over SSE, a mutation gets the request
// timeout, and a subscription does not. The timeout here is a nanosecond,
// so that the mutation is past it at once.
func TestFindingSSEMutationTimeout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, _ := newHandler(t, d, server.Config{RequestTimeout: time.Nanosecond})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		ch := dbtest.Channel(t, d, u, "Mine")
		client := studiotest.NewHandler(t, h)
		sse := func(ctx context.Context, query string, vars map[string]any) *http.Request {
			return client.Request(ctx, token, query, vars, "Accept", "text/event-stream")
		}

		rec := newStreamRecorder()
		h.ServeHTTP(rec, sse(context.Background(), `mutation { createChannel(input: {name: "Late"}) { id } }`, nil))
		events := sseEvents(t, rec.String())
		require.Len(t, events, 1, rec.String())
		require.NotEmpty(t, events[0].Errors, "the mutation ran past its timeout")
		n, err := d.ForTest(t).NewSelect().Model((*models.Channel)(nil)).Where("name = ?", "Late").Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		// A subscription streams on, past the timeout, until the client leaves.
		ctx, cancel := context.WithCancel(context.Background())
		rec = newStreamRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, sse(ctx, subscribeChanges, map[string]any{"c": ch.ID.String(), "since": 0}))
		}()
		select {
		case <-rec.event:
		case <-time.After(30 * time.Second):
			t.Fatal("no event from the subscription: " + rec.String())
		}
		cancel()
		<-done
		events = sseEvents(t, rec.String())
		require.NotEmpty(t, events)
		require.Empty(t, events[0].Errors)
		require.Equal(t, "CREATED", get(events[0].Data, "channelChanges", "type"))
	})
}

// TestFindingSSESubscriptionOutlivesTimeout: the body's read deadline is
// lifted once the body has arrived, so that a subscription over SSE on a
// real connection lives past the request timeout. (The pause only lets the
// deadline pass; nothing waits on it.)
func TestFindingSSESubscriptionOutlivesTimeout(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	a := newAPI(t, d, server.Config{RequestTimeout: 100 * time.Millisecond})
	u := dbtest.User(t, d, "ed@example.org", false)
	token := dbtest.Token(t, d, u)
	ch := dbtest.Channel(t, d, u, "Mine")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := a.Stream(ctx, token, subscribeChanges, map[string]any{"c": ch.ID.String(), "since": 0})
	defer stream.Close()
	next := func() string {
		data, ok := stream.Next()
		if !ok {
			t.Fatalf("the stream ended: %v", stream.Err())
		}
		return data
	}
	require.Contains(t, next(), `"type":"CREATED"`)
	time.Sleep(300 * time.Millisecond) // past the request timeout and the body's deadline
	a.OK(token, `mutation($id: ID!) { updateChannel(id: $id, input: {tagline: "later"}) { id } }`, map[string]any{"id": ch.ID.String()})
	require.Contains(t, next(), `"type":"UPDATED"`)
}

// TestFindingSVGStoredXSS: what /content/ serves cannot run script on the
// server's origin: a sandbox policy and nosniff on every answer, and an SVG
// is an attachment.
func TestFindingSVGStoredXSS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
		svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/playground/token")</script></svg>`)
		r := a.upload(token, "x.svg", svg, map[string]any{"preset": "exercise_image"})
		require.Empty(t, r.Errors)
		svgURL := get(r.Data, "uploadFile", "url").(string)
		pdf := []byte("%PDF-1.4 inline\n")
		r = a.upload(token, "a.pdf", pdf, map[string]any{"preset": "document"})
		require.Empty(t, r.Errors)
		pdfURL := get(r.Data, "uploadFile", "url").(string)

		for _, c := range []struct {
			path, contentType string
			status            int
			attachment        bool
		}{
			{svgURL, "image/svg+xml", http.StatusOK, true},
			{pdfURL, "application/pdf", http.StatusOK, false},
			{"/content/" + blobs.Key(md5hex([]byte("never")), "svg"), "", http.StatusNotFound, false},
			{"/content/databases/" + models.NewID().String() + ".sqlite3", "", http.StatusNotFound, false},
		} {
			resp, err := http.Get(a.url + c.path)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, c.status, resp.StatusCode, c.path)
			csp := resp.Header.Get("Content-Security-Policy")
			require.Contains(t, csp, "sandbox", c.path)
			require.Contains(t, csp, "default-src 'none'", c.path)
			require.NotContains(t, csp, "script", c.path)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), c.path)
			if c.contentType != "" {
				require.Equal(t, c.contentType, resp.Header.Get("Content-Type"), c.path)
			}
			if c.attachment {
				require.True(t, strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment"), c.path)
			} else {
				require.Empty(t, resp.Header.Get("Content-Disposition"), c.path)
			}
		}
	})
}

const uploadOperation = `{"query":"mutation($in: UploadFileInput!) { uploadFile(input: $in) { id checksum } }","variables":{"in":{"file":null,"preset":"document"}}}`

// TestFindingAnonymousMultipart: an anonymous upload is refused before any
// of its body is read, so nothing is spooled to disk.
func TestFindingAnonymousMultipart(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where gqlgen would spool a file part
	h, _ := newHandler(t, dbtest.Open(t, db.SQLite), server.Config{})
	file := &countingReader{r: studiotest.Repeat('x', 8<<20)}
	body, contentType := studiotest.Multipart(t, uploadOperation, `{"0": ["variables.in.file"]}`, "a.pdf", file)
	counted := &countingReader{r: body}
	r := studiotest.NewHandler(t, h).Post("", contentType, counted)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "UNAUTHENTICATED", studiotest.Parse(t, r.Body).Code())
	require.Zero(t, counted.n.Load(), "the body was read")
	spooled, err := filepath.Glob(filepath.Join(tmp, "gqlgen-*"))
	require.NoError(t, err)
	require.Empty(t, spooled)
}

// TestFindingMultipartMapFanout: a map may list a file at a few paths
// (the spec allows it), not at many, and only so many paths in all; it is
// refused before the file is read.
func TestFindingMultipartMapFanout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h, _ := newHandler(t, d, server.Config{})
		client := studiotest.NewHandler(t, h)
		token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
		paths := func(n int, path string) string {
			b, _ := json.Marshal(map[string][]string{"0": slicesRepeat(path, n)})
			return string(b)
		}
		many := map[string][]string{}
		for i := range 101 {
			many[fmt.Sprint(i)] = []string{"variables.in.file"}
		}
		manyKeys, _ := json.Marshal(many)
		for name, m := range map[string]string{
			"one file at 11 paths": paths(11, "variables.in.file"),
			"101 files":            string(manyKeys),
		} {
			file := &countingReader{r: studiotest.Repeat('x', 4<<20)}
			body, ct := studiotest.Multipart(t, uploadOperation, m, "a.pdf", file)
			r := client.Post(token, ct, body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, name)
			r = studiotest.Parse(t, r.Body)
			require.Equal(t, "BAD_USER_INPUT", r.Code(), name)
			require.Less(t, file.n.Load(), int64(64<<10), "%s: the file was read", name)
		}

		// One file used twice, as the spec allows.
		ops := `{"query":"mutation($a: UploadFileInput!, $b: UploadFileInput!) { a: uploadFile(input: $a) { checksum } b: uploadFile(input: $b) { checksum } }",` +
			`"variables":{"a":{"file":null,"preset":"document"},"b":{"file":null,"preset":"document"}}}`
		pdf := "%PDF-1.4 twice\n"
		body, ct := studiotest.Multipart(t, ops, `{"0": ["variables.a.file", "variables.b.file"]}`, "a.pdf", strings.NewReader(pdf))
		r := studiotest.Parse(t, client.Post(token, ct, body).Body)
		require.Empty(t, r.Errors)
		require.Equal(t, md5hex([]byte(pdf)), get(r.Data, "a", "checksum"))
		require.Equal(t, md5hex([]byte(pdf)), get(r.Data, "b", "checksum"))
	})
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestFindingMultipartBadMapPath: a map path through a value of the wrong
// type, past a list's end or through nothing is refused with
// BAD_USER_INPUT, and nothing panics.
func TestFindingMultipartBadMapPath(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	h, logs := newHandler(t, d, server.Config{})
	client := studiotest.NewHandler(t, h)
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
	query := `"query":"mutation($f: Upload!) { uploadFile(input: {file: $f, preset: document}) { id } }"`
	for name, c := range map[string]struct{ variables, path string }{
		"through a string":     {`{"f":"str"}`, "variables.f.0"},
		"a string as a map":    {`{"f":"str"}`, "variables.f.g"},
		"past a list's end":    {`{"f":[]}`, "variables.f.0"},
		"a negative index":     {`{"f":[null]}`, "variables.f.-1"},
		"no variables":         {`null`, "variables.f"},
		"through nothing":      {`{}`, "variables.f.g.h"},
		"not under variables":  {`{"f":null}`, "query"},
		"through a number":     {`{"f":5}`, "variables.f.0"},
		"a map as a list":      {`{"f":{"a":null}}`, "variables.f.0"},
		"nested past a list's": {`{"f":[[]]}`, "variables.f.0.3"},
	} {
		ops := `{` + query + `,"variables":` + c.variables + `}`
		m, _ := json.Marshal(map[string][]string{"0": {c.path}})
		body, ct := studiotest.Multipart(t, ops, string(m), "a.pdf", strings.NewReader("%PDF-1.4\n"))
		r := client.Post(token, ct, body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", name, r.Body)
		require.Equal(t, "BAD_USER_INPUT", studiotest.Parse(t, r.Body).Code(), name)
	}
	require.NotContains(t, logs.String(), "panic")
}

// TestFindingMetricsCardinality: operations are labelled by their first root
// field, so 500 operation names (and unknown fields) add no series.
func TestFindingMetricsCardinality(t *testing.T) {
	a := newAPI(t, dbtest.Open(t, db.SQLite), server.Config{})
	series := func() int {
		resp, body := getBody(t, a.url+"/metrics")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		n := 0
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "studio_graphql_") {
				n++
			}
		}
		return n
	}
	run := func(i int) {
		a.Do("", fmt.Sprintf("query Op%d { __typename }", i), nil)
		a.Do("", fmt.Sprintf("query Op%d { nope%d }", i, i), nil)
		a.Do("", fmt.Sprintf("mutation M%d { createChannel(input: {name: \"x\"}) { id } }", i), nil)
	}
	run(1000) // the series of each kind exist now
	before := series()
	require.Positive(t, before)
	for i := range 500 {
		run(i)
	}
	require.Equal(t, before, series(), "requests with new operation names added series")
	_, body := getBody(t, a.url+"/metrics")
	require.Contains(t, body, `operation="__typename"`)
	require.NotContains(t, body, `operation="Op1"`)
}

// TestFindingDecodeErrorEcho: a body that is not a GraphQL request in JSON
// gets a short answer, never the body back.
func TestFindingDecodeErrorEcho(t *testing.T) {
	h, logs := newHandler(t, dbtest.Open(t, db.SQLite), server.Config{})
	pad := strings.Repeat("x", 1<<20)
	for name, body := range map[string]string{
		"not JSON":        `{"query": "` + pad,
		"a query number":  `{"query": 5, "extensions": {"pad": "` + pad + `"}}`,
		"variables list":  `{"query": "{ __typename }", "variables": ["` + pad + `"]}`,
		"an array":        `[{"query": "` + pad + `"}]`,
		"twice, one bad":  `{"variables": 5, "query": "` + pad + `", "variables": {}}`,
		"an empty string": ``,
	} {
		for _, accept := range []string{"application/json", "text/event-stream"} {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", accept)
			rec := newStreamRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusBadRequest, rec.status, "%s, %s", name, accept)
			require.Less(t, len(rec.String()), 1<<10, "%s, %s: %.200s", name, accept, rec.String())
			r := studiotest.Parse(t, []byte(rec.String()))
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s, %s", name, accept)
		}
	}
	require.NotContains(t, logs.String(), "xxxxxxxx")
}

// TestFindingSlowBody: a body that stops arriving is cut when the request's
// time is up, for a plain request and for an upload.
func TestFindingSlowBody(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	token := dbtest.Token(t, d, dbtest.User(t, d, "ed@example.org", false))
	a := newAPI(t, d, server.Config{RequestTimeout: 200 * time.Millisecond, UploadTimeout: 200 * time.Millisecond})
	host := strings.TrimPrefix(a.url, "http://")
	for name, head := range map[string]string{
		"json": "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + `{"query": "{ __typ`,
		"sse":  "Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: 1000\r\n\r\n" + `{"query": "{ __typ`,
		"upload": "Content-Type: multipart/form-data; boundary=b\r\nAuthorization: Bearer " + token +
			"\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":",
	} {
		conn, err := net.Dial("tcp", host)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		// The test's own limit, far past the server's: the server must end it.
		require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
		_, err = io.WriteString(conn, "POST /graphql HTTP/1.1\r\nHost: "+host+"\r\n"+head)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, name)
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, name)
		resp.Body.Close()
	}
}

// FuzzMultipartRequest sends arbitrary operations and map parts (and a
// small file) as an authenticated upload: the server never panics and
// never answers 500.
func FuzzMultipartRequest(f *testing.F) {
	d := dbtest.Open(f, db.SQLite)
	h, logs := newHandler(f, d, server.Config{})
	token := dbtest.Token(f, d, dbtest.User(f, d, "ed@example.org", false))
	f.Add(uploadOperation, `{"0": ["variables.in.file"]}`, []byte("%PDF-1.4\n"))
	f.Add(`{"query":"mutation($f: Upload!) { uploadFile(input: {file: $f, preset: document}) { id } }","variables":{"f":"str"}}`, `{"0": ["variables.f.0"]}`, []byte("x"))
	f.Add(`{"query":"{ __typename }","variables":{"l":[[null]]}}`, `{"0": ["variables.l.0.0", "variables.l.0.1"]}`, []byte(""))
	f.Add(`{"query":"{ __typename }"}`, `{"0": []}`, []byte("y"))
	f.Add(`{"query":"{ __typename }","variables":null}`, `{"1": ["variables.x"]}`, []byte("z"))
	f.Add(`[]`, `null`, []byte{})
	f.Fuzz(func(t *testing.T, operations, uploadMap string, file []byte) {
		if len(operations)+len(uploadMap)+len(file) > 16<<10 {
			t.Skip("kept cheap")
		}
		body, ct := studiotest.Multipart(t, operations, uploadMap, "a.pdf", bytes.NewReader(file))
		r := studiotest.NewHandler(t, h).Post(token, ct, body)
		require.NotEqual(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
		require.NotContains(t, logs.String(), "panic")
	})
}

// BenchmarkFindingSSEHugeBody: what refusing a 300 MB SSE body costs the
// server (it reads 8 MB of it, then answers).
func BenchmarkFindingSSEHugeBody(b *testing.B) {
	h, _ := newHandler(b, dbtest.Open(b, db.SQLite), server.Config{})
	client := studiotest.NewHandler(b, h)
	var read int64
	for b.Loop() {
		body := hugeJSON(300 << 20)
		if r := client.Post("", "application/json", body, "Accept", "text/event-stream"); r.Status != http.StatusRequestEntityTooLarge {
			b.Fatalf("status %d", r.Status)
		}
		read = body.n.Load()
	}
	b.ReportMetric(float64(read)/(1<<20), "MB-read/op")
}

// TestFindingWebsocketMutationTimeout: a websocket carries mutations as well
// as subscriptions; a mutation over it has the same time bound as over POST
// (1 ns here: it cannot finish), while a subscription streams on.
func TestFindingWebsocketMutationTimeout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{RequestTimeout: time.Nanosecond})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		ch := dbtest.Channel(t, d, u, "Mine")
		ws, err := studiotest.Dial(t, a.url, token)
		require.NoError(t, err)
		defer ws.Close()

		ws.Subscribe("m", `mutation { createChannel(input: {name: "Late"}) { id } }`, nil)
		m, err := ws.Next(30 * time.Second)
		require.NoError(t, err)
		require.Equal(t, "m", m.ID)
		require.Contains(t, string(m.Payload), "took too long", "the mutation ran past its timeout: %s %s", m.Type, m.Payload)
		n, err := d.ForTest(t).NewSelect().Model((*models.Channel)(nil)).Where("name = ?", "Late").Count(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		ws.Subscribe("s", subscribeChanges, map[string]any{"c": ch.ID.String(), "since": 0})
		for {
			m, err = ws.Next(30 * time.Second)
			require.NoError(t, err)
			if m.ID == "s" {
				break
			}
		}
		require.Equal(t, "next", m.Type, "the subscription outlives the timeout: %s", m.Payload)
	})
}
