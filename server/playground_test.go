package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/server"
)

// externalURL matches anything that would make a browser reach another
// machine: an absolute http(s) URL, or a protocol-relative one in an
// attribute or in CSS.
var externalURL = regexp.MustCompile(`(?i)https?://|(src|href|action)\s*=\s*["']?//|url\(\s*["']?//`)

func getBody(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestPlaygroundServesOnlyItsOwnFiles(t *testing.T) {
	a := newAPI(t, dbtest.Open(t, db.SQLite), server.Config{})

	resp, page := getBody(t, a.url+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.Contains(t, page, `<textarea id="query"`)
	assert.Empty(t, externalURL.FindAllString(page, -1), "the page")

	// Every file the page refers to is served, and refers to nothing elsewhere.
	refs := regexp.MustCompile(`(?:src|href)="(/playground/[^"]+)"`).FindAllStringSubmatch(page, -1)
	require.GreaterOrEqual(t, len(refs), 2, "the page loads its script and style")
	for _, ref := range refs {
		resp, body := getBody(t, a.url+ref[1])
		require.Equal(t, http.StatusOK, resp.StatusCode, ref[1])
		assert.Empty(t, externalURL.FindAllString(body, -1), ref[1])
		assert.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"), ref[1])

		// A browser that has it asks again cheaply.
		req, err := http.NewRequest(http.MethodGet, a.url+ref[1], nil)
		require.NoError(t, err)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		again, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		again.Body.Close()
		assert.Equal(t, http.StatusNotModified, again.StatusCode, ref[1])
	}

	// And so does every embedded file, referred to or not.
	files, err := os.ReadDir("playground")
	require.NoError(t, err)
	for _, f := range files {
		body, err := os.ReadFile(filepath.Join("playground", f.Name()))
		require.NoError(t, err)
		assert.Empty(t, externalURL.FindAllString(string(body), -1), f.Name())
	}

	for _, missing := range []string{"/playground/nothing.js", "/playground/index.html", "/playground/"} {
		resp, _ := getBody(t, a.url+missing)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, missing)
	}
}

func TestPlaygroundOffersTheTokenOnThisMachineOnly(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	const token = "s3cret-admin-token"

	t.Run("loopback", func(t *testing.T) {
		a := newAPI(t, d, server.Config{AdminToken: token, Addr: "127.0.0.1:0"}) // httptest listens on 127.0.0.1
		resp, body := getBody(t, a.url+"/playground/token")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		var got struct{ Token string }
		require.NoError(t, json.Unmarshal([]byte(body), &got))
		assert.Equal(t, token, got.Token)
	})

	t.Run("no token", func(t *testing.T) {
		a := newAPI(t, d, server.Config{})
		resp, _ := getBody(t, a.url+"/playground/token")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	// Requests served by the handler directly, with any remote address, and
	// its log kept, to see that the token never reaches it.
	var logged bytes.Buffer
	h := server.New(d, server.Config{AdminToken: token, Addr: "127.0.0.1:8080", Logger: slog.New(slog.NewTextHandler(&logged, nil))}).Handler()
	for _, c := range []struct {
		name, remote, host string
		header             []string
		want               int
	}{
		{"ipv4 loopback", "127.0.0.1:5000", "127.0.0.1:8080", nil, http.StatusOK},
		{"ipv6 loopback", "[::1]:5000", "[::1]:8080", nil, http.StatusOK},
		{"localhost", "127.0.0.1:5000", "localhost:8080", nil, http.StatusOK},
		{"another machine", "192.0.2.7:5000", "127.0.0.1:8080", nil, http.StatusNotFound},
		{"a proxy on this machine", "127.0.0.1:5000", "127.0.0.1:8080", []string{"X-Forwarded-For", "192.0.2.7"}, http.StatusNotFound},
		{"a standard proxy header", "127.0.0.1:5000", "127.0.0.1:8080", []string{"Forwarded", "for=192.0.2.7"}, http.StatusNotFound},
		{"a name rebound to loopback", "127.0.0.1:5000", "evil.example:8080", nil, http.StatusNotFound},
	} {
		req := httptest.NewRequest(http.MethodGet, "/playground/token", nil)
		req.RemoteAddr, req.Host = c.remote, c.host
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, c.want, rec.Code, c.name)
		if c.want == http.StatusNotFound {
			assert.NotContains(t, rec.Body.String(), token, c.name)
		}
	}
	assert.Contains(t, logged.String(), "/playground/token")
	assert.NotContains(t, logged.String(), token)
}

// chromium finds a Chromium to drive: $STUDIO_TEST_CHROMIUM, or chromium on
// PATH. Without one the test is skipped, except in CI, where it must run.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STUDIO_TEST_CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal("CI is set and no Chromium was found: install Debian's chromium package, or set STUDIO_TEST_CHROMIUM")
	}
	t.Skip("no Chromium: install chromium, or set STUDIO_TEST_CHROMIUM to a Chromium binary")
	return ""
}

// newBrowser starts a headless Chromium for the test, ended with it.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // containers and CI runners seldom allow Chromium's sandbox
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		// No name resolves, so any request that leaves this machine fails.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "starting Chromium") // no timeout: it would end the browser
	return ctx
}

// TestPlaygroundInChromium drives the playground in a headless Chromium that
// cannot resolve any name: the page must load, be offered the admin token,
// run a query and show its result with nothing from the internet.
func TestPlaygroundInChromium(t *testing.T) {
	exe := chromium(t)
	d := dbtest.Open(t, db.SQLite)
	admin := dbtest.User(t, d, "ann@example.org", true)
	token := dbtest.Token(t, d, admin)
	ch := dbtest.Channel(t, d, admin, "Maths")
	a := newAPI(t, d, server.Config{AdminToken: token, Addr: "127.0.0.1:0"})

	ctx := newBrowser(t, exe)

	// Every request the page makes, and everything it complains about.
	var mu sync.Mutex
	var requested, problems []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		case *log.EventEntryAdded:
			// CSP violations and failed loads land here.
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, string(ev.Entry.Source)+": "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}))

	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	defer tcancel()
	// open loads a link that fills the query in, then clicks Run: a link
	// never runs anything by itself (TestFindingPlaygroundCSRF).
	open := func(base string, params url.Values) {
		t.Helper()
		require.NoError(t, chromedp.Do(tctx,
			chromedp.Navigate(base+"/?"+params.Encode()),
			chromedp.WaitVisible(chromedp.ID("result")),
			chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent.includes("press Run")`,
				chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.Click(chromedp.ID("run"))))
	}
	// waitFor waits until a JavaScript expression is true.
	waitFor := func(what, expr string) {
		t.Helper()
		require.NoError(t, chromedp.Do(tctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second))), what)
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID(id)))
		require.NoError(t, err)
		return s
	}

	// The query from the URL runs with the offered token: me is the admin.
	open(a.url, url.Values{"query": {"{ me { email } }"}})
	waitFor("the result shows the email", `document.getElementById("result").textContent.includes("ann@example.org")`)
	result := text("result")
	var got struct {
		Data struct{ Me struct{ Email string } }
	}
	require.NoError(t, json.Unmarshal([]byte(result), &got), "the result pane shows JSON: %s", result)
	assert.Equal(t, "ann@example.org", got.Data.Me.Email)

	field, err := chromedp.Run(tctx, chromedp.Value(chromedp.ID("token")))
	require.NoError(t, err)
	assert.Equal(t, token, field, "the admin token is offered")
	assert.Contains(t, text("token-note"), "admin token printed at first start")

	// The schema explorer lists the root fields with their descriptions.
	waitFor("the schema is listed", `document.querySelectorAll("#schema li.op").length > 0`)
	schema := text("schema")
	for _, want := range []string{"channels", "createChannel", "channelChanges", "The caller, or null when anonymous."} {
		assert.Contains(t, schema, want)
	}

	shot, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err)
	dir := os.Getenv("STUDIO_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	shotPath := filepath.Join(dir, "playground.png")
	require.NoError(t, os.WriteFile(shotPath, shot, 0o644))
	t.Log("screenshot:", shotPath)

	// A field's sample query runs as inserted.
	require.NoError(t, chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`#schema button[data-field="query.channels"]`))))
	sample, err := chromedp.Run(tctx, chromedp.Value(chromedp.ID("query")))
	require.NoError(t, err)
	assert.Contains(t, sample, "query Channels {")
	require.NoError(t, chromedp.Do(tctx, chromedp.Click(chromedp.ID("run"))))
	waitFor("the sample finds the channel", `document.getElementById("result").textContent.includes("Maths")`)
	assert.Contains(t, text("status"), "ok")

	// A subscription, with its variables from the URL, streams over SSE
	// until stopped.
	open(a.url, url.Values{
		"query":     {"subscription Changes($id: ID!) { channelChanges(channelId: $id) { serverRev table } }"},
		"variables": {`{"id": "` + ch.ID.String() + `"}`},
	})
	waitFor("the subscription starts", `document.getElementById("status").textContent.startsWith("Subscribed")`)
	a.OK(token, `mutation($id: ID!) { updateChannel(id: $id, input: {tagline: "Numbers"}) { id } }`, map[string]any{"id": ch.ID.String()})
	waitFor("an event arrives", `document.getElementById("result").textContent.includes("# event 1")`)
	assert.Equal(t, "Stop", text("run"))
	require.NoError(t, chromedp.Do(tctx, chromedp.Click(chromedp.ID("run"))))
	waitFor("the subscription stops", `document.getElementById("status").textContent === "Stopped."`)

	// So far the page complained of nothing.
	mu.Lock()
	assert.Empty(t, problems, "the page ran cleanly")
	problems = nil
	mu.Unlock()

	// Without introspection the explorer says so; errors show their code;
	// without a token nothing is offered.
	b := newAPI(t, d, server.Config{NoIntrospection: true})
	open(b.url, url.Values{"query": {"{ nope }"}})
	waitFor("the error shows", `document.getElementById("errors").textContent.includes("GRAPHQL_VALIDATION_FAILED")`)
	waitFor("introspection is off", `document.getElementById("schema-status").textContent.includes("Introspection is off")`)
	field, err = chromedp.Run(tctx, chromedp.Value(chromedp.ID("token")))
	require.NoError(t, err)
	assert.Empty(t, field, "no token is offered")

	mu.Lock()
	defer mu.Unlock()
	// Now the browser reports the answers 404 (no token to offer) and 422
	// (the bad query) as failed loads, but nothing else.
	for _, p := range problems {
		if !strings.HasPrefix(p, "network: ") {
			t.Errorf("the page complained: %s", p)
		}
	}
	require.NotEmpty(t, requested)
	for _, r := range requested {
		u, err := url.Parse(r)
		require.NoError(t, err)
		if u.Scheme == "data" {
			continue // the empty icon, from the page itself
		}
		assert.Equal(t, "127.0.0.1", u.Hostname(), "the page asked another machine for %s", r)
	}
	t.Logf("the page made %d requests, all to 127.0.0.1", len(requested))
}
