package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/demo"
	"studio/studiotest"
)

// The guide's examples are run as a reader runs them, in order, against a
// fresh server started with --demo. docs/guide.md states the convention:
//
//   - a ```graphql block is one operation, sent to /graphql with the first
//     admin's token; a ```json block right after it (blank lines between at
//     most) is its variables;
//   - a ```sh block runs with sh, with STUDIO, TOKEN and every placeholder in
//     its environment;
//   - "# sets NAME = path" takes a placeholder from the response (its data,
//     for GraphQL), "# expect path = value" checks one;
//   - $NAME placeholders are replaced in variables and expected values;
//   - other blocks (```console, ```text…) are not run.
//
// Any GraphQL error, non-2xx status or failing command fails the test.

// TestGuide runs docs/guide.md, then examples/curl.md, then
// examples/watch-publish.mjs, on one server.
func TestGuide(t *testing.T) {
	for _, tool := range []string{"sh", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the guide's shell examples need it", tool)
		}
	}
	p := startStudio(t, buildStudio(t), "--demo")
	require.NotEmpty(t, p.token, "the first start prints the first admin's token")

	// The demo is there, whole: every node complete.
	api := newClient(t, p.base, p.token)
	var got struct {
		Channels struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Name, ID   string
					Root       struct{ ResourceCount int }
					Incomplete struct{ TotalCount int }
				}
			}
		}
	}
	api.do(`query($k: String) { channels(filter: {keyword: $k}) { totalCount edges { node { id name root { resourceCount }
		incomplete: nodes(filter: {complete: false}) { totalCount } } } } }`, map[string]any{"k": demo.Name}, &got)
	require.Equal(t, 1, got.Channels.TotalCount, "the demo channel is loaded")
	require.Equal(t, demo.Name, got.Channels.Edges[0].Node.Name)
	require.Equal(t, 4, got.Channels.Edges[0].Node.Root.ResourceCount, "a video, an audio file, a document and an exercise")
	require.Zero(t, got.Channels.Edges[0].Node.Incomplete.TotalCount, "every node of the demo is complete")

	g := newGuideRun(t, p)
	for _, doc := range []string{"docs/guide.md", "examples/curl.md"} {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			examples, err := parseExamples(filepath.Join(repoRoot(t), doc))
			require.NoError(t, err)
			require.NotEmpty(t, examples)
			for _, ex := range examples {
				g.t = t
				g.run(ex)
			}
		})
	}

	t.Run("watch-publish.mjs", func(t *testing.T) {
		channelID := g.vars["CHANNEL_ID"]
		require.NotEmpty(t, channelID, "the guide sets CHANNEL_ID")
		runWatchPublish(t, p, channelID)
	})
}

// TestDemoServe: serve --demo loads the demo on the first start and not on
// the second; STUDIO_DEMO does what --demo does.
func TestDemoServe(t *testing.T) {
	bin := buildStudio(t)
	dir := t.TempDir()
	first := startStudio(t, bin, "--data-dir", dir, "--demo")
	count := func(p *studioProc, token string) int {
		var got struct{ Channels struct{ TotalCount int } }
		newClient(t, p.base, token).do(`query($k: String) { channels(filter: {keyword: $k}) { totalCount } }`,
			map[string]any{"k": demo.Name}, &got)
		return got.Channels.TotalCount
	}
	require.Equal(t, 1, count(first, first.token))
	require.NoError(t, first.cmd.Process.Signal(os.Interrupt))
	_ = first.cmd.Wait()

	t.Setenv("STUDIO_DEMO", "true")
	second := startStudio(t, bin, "--data-dir", dir)
	require.Equal(t, 1, count(second, first.token), "a second start adds no second demo")
}

// guideExample is one runnable block.
type guideExample struct {
	where  string // file:line, for messages
	lang   string // graphql or sh
	code   string
	vars   string // a graphql block's JSON variables, or ""
	sets   [][2]string
	expect [][2]string
}

var (
	setsLine    = regexp.MustCompile(`^\s*#\s*sets\s+([A-Z][A-Z0-9_]*)\s*=\s*(\S+)\s*$`)
	expectLine  = regexp.MustCompile(`^\s*#\s*expect\s+(\S+)\s*=\s*(.*?)\s*$`)
	placeholder = regexp.MustCompile(`\$([A-Z][A-Z0-9_]*)`)
)

// parseExamples reads the runnable blocks of a Markdown file, in order.
func parseExamples(path string) ([]guideExample, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(text), "\n")
	var out []guideExample
	adjacent := false // only blank lines since the last graphql block
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			if strings.TrimSpace(lines[i]) != "" {
				adjacent = false
			}
			continue
		}
		lang, start := strings.TrimSpace(strings.TrimPrefix(lines[i], "```")), i+1
		if f := strings.Fields(lang); len(f) > 0 {
			lang = f[0]
		}
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: the block is not closed", path, start)
		}
		code := strings.Join(lines[start:i], "\n")
		switch {
		case lang == "json" && adjacent && out[len(out)-1].vars == "":
			out[len(out)-1].vars = code
			adjacent = false
		case lang == "graphql" || lang == "sh":
			ex := guideExample{where: fmt.Sprintf("%s:%d", filepath.Base(path), start), lang: lang, code: code}
			for _, l := range lines[start:i] {
				if m := setsLine.FindStringSubmatch(l); m != nil {
					ex.sets = append(ex.sets, [2]string{m[1], m[2]})
				} else if m := expectLine.FindStringSubmatch(l); m != nil {
					ex.expect = append(ex.expect, [2]string{m[1], m[2]})
				}
			}
			out = append(out, ex)
			adjacent = lang == "graphql"
		default:
			adjacent = false
		}
	}
	return out, nil
}

// guideRun runs examples, keeping the placeholders they set.
type guideRun struct {
	t     *testing.T
	p     *studioProc
	vars  map[string]string
	dir   string // the shell examples' working directory
	paths string // PATH for the shell examples, with the strict curl first
}

func newGuideRun(t *testing.T, p *studioProc) *guideRun {
	curl, err := exec.LookPath("curl")
	require.NoError(t, err)
	// curl fails on an HTTP error status, and still prints the body, so
	// that a non-2xx answer fails the example with its reason.
	bin := t.TempDir()
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %s --fail-with-body \"$@\"\n", strconv.Quote(curl))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "curl"), []byte(wrapper), 0o755))
	return &guideRun{t: t, p: p, vars: map[string]string{}, dir: t.TempDir(), paths: bin + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// substitute replaces placeholders; one not set yet fails the example.
func (g *guideRun) substitute(where, s string, jsonString bool) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := g.vars[m[1:]]
		if !ok {
			g.t.Fatalf("%s: placeholder %s is used before an example sets it", where, m)
		}
		if jsonString { // inside a JSON string: escape as JSON does
			b, _ := json.Marshal(v)
			return string(b[1 : len(b)-1])
		}
		return v
	})
}

func (g *guideRun) run(ex guideExample) {
	t := g.t
	t.Logf("%s: %s", ex.where, strings.SplitN(strings.TrimSpace(ex.code), "\n", 2)[0])
	var root any
	switch ex.lang {
	case "graphql":
		root = g.graphql(ex)
	case "sh":
		root = g.shell(ex)
	}
	if (len(ex.sets) > 0 || len(ex.expect) > 0) && root == nil {
		t.Fatalf("%s: the example prints no JSON to take values from", ex.where)
	}
	for _, s := range ex.sets {
		v, ok := jsonPath(root, s[1])
		if !ok || v == "" {
			t.Fatalf("%s: sets %s: nothing at %s in %s", ex.where, s[0], s[1], compact(root))
		}
		g.vars[s[0]] = v
	}
	for _, e := range ex.expect {
		want := g.substitute(ex.where, e[1], false)
		v, ok := jsonPath(root, e[0])
		if !ok || v != want {
			t.Fatalf("%s: expected %s = %s, got %q in %s", ex.where, e[0], want, v, compact(root))
		}
	}
}

// graphql sends a graphql example and returns its data: of the last event
// for a subscription, which is read (over SSE) until it ends.
func (g *guideRun) graphql(ex guideExample) any {
	t := g.t
	var vars map[string]any
	if ex.vars != "" {
		text := g.substitute(ex.where, ex.vars, true)
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber() // numbers are sent as written
		if !json.Valid([]byte(text)) || dec.Decode(&vars) != nil {
			t.Fatalf("%s: the variables are not a JSON object:\n%s", ex.where, text)
		}
	}
	client := studiotest.New(t, g.p.base)
	client.Timeout = 2 * time.Minute
	if !isSubscription(ex.code) {
		r := client.Do(g.p.token, ex.code, vars)
		if r.Status/100 != 2 {
			t.Fatalf("%s: HTTP %d: %s", ex.where, r.Status, r.Body)
		}
		return g.checkPayload(ex, r.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), client.Timeout)
	defer cancel()
	stream := client.Stream(ctx, g.p.token, ex.code, vars)
	defer stream.Close()
	require.Equal(t, http.StatusOK, stream.Response.StatusCode, ex.where)
	var last any
	for data, ok := stream.Next(); ok; data, ok = stream.Next() {
		last = g.checkPayload(ex, []byte(data))
	}
	require.NoError(t, stream.Err(), ex.where)
	return last
}

func isSubscription(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return strings.HasPrefix(l, "subscription")
		}
	}
	return false
}

// checkPayload decodes a GraphQL response, fails on errors, and returns its data.
func (g *guideRun) checkPayload(ex guideExample, b []byte) any {
	var r map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		g.t.Fatalf("%s: not a GraphQL response: %s", ex.where, b)
	}
	if r["errors"] != nil {
		g.t.Fatalf("%s: %s", ex.where, compact(r))
	}
	return r["data"]
}

// shell runs a sh example. What it prints, when JSON, is checked for
// GraphQL errors and returned (its data, for a GraphQL response); so are
// the data: lines of server-sent events.
func (g *guideRun) shell(ex guideExample) any {
	t := g.t
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-ec", ex.code)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "PATH="+g.paths, "STUDIO="+g.p.base, "TOKEN="+g.p.token)
	for k, v := range g.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", ex.where, err, stdout.String(), stderr.String())
	}
	out := bytes.TrimSpace(stdout.Bytes())
	t.Logf("%s prints: %.300s", ex.where, out)
	if json.Valid(out) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&v))
		if r, ok := v.(map[string]any); ok && (r["data"] != nil || r["errors"] != nil) {
			return g.checkPayload(ex, out)
		}
		return v
	}
	var last any
	for _, l := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(l, "data:"); ok {
			last = g.checkPayload(ex, []byte(d))
		}
	}
	return last
}

// jsonPath follows a dot path (list positions as numbers) and formats what
// it finds: strings as they are, anything else as JSON.
func jsonPath(v any, path string) (string, bool) {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	if s, ok := v.(string); ok {
		return s, true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 2000 {
		b = append(b[:2000], "…"...)
	}
	return string(b)
}

// repoRoot is the module's directory: tests run in cmd/studio.
func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// runWatchPublish runs examples/watch-publish.mjs with node, with e2e's
// graphql-ws and ws, when both are installed; it must publish the channel
// and print COMPLETED.
func runWatchPublish(t *testing.T, p *studioProc, channelID string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	root := repoRoot(t)
	script := filepath.Join(root, "examples", "watch-publish.mjs")
	modules := filepath.Join(root, "examples", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "graphql-ws")); err != nil {
		// Node resolves packages from the script's directory up: run a
		// copy beside a link to e2e's node_modules.
		modules = filepath.Join(root, "e2e", "node_modules")
		if _, err := os.Stat(filepath.Join(modules, "graphql-ws")); err != nil {
			t.Skip("neither examples/ nor e2e/ has node_modules: run npm ci in e2e")
		}
		dir := t.TempDir()
		src, err := os.ReadFile(script)
		require.NoError(t, err)
		script = filepath.Join(dir, "watch-publish.mjs")
		require.NoError(t, os.WriteFile(script, src, 0o644))
		require.NoError(t, os.Symlink(modules, filepath.Join(dir, "node_modules")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, channelID)
	cmd.Env = append(os.Environ(), "STUDIO_URL="+p.base, "STUDIO_TOKEN="+p.token)
	out, err := cmd.CombinedOutput()
	t.Logf("watch-publish.mjs:\n%s", out)
	require.NoError(t, err)
	require.Contains(t, string(out), "COMPLETED")
}
