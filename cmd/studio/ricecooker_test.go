package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1" //nolint:gosec // uuid5 is SHA-1 by definition (RFC 4122)
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/demo"
)

// ricecookerPython is the Python that STUDIO_TEST_RICECOOKER names: a
// virtualenv's bin/python with ricecooker==0.8.0 installed. Without it the
// test is skipped, but fails under CI, which must run it. ricecooker
// probes videos with ffprobe, which must be on PATH.
func ricecookerPython(t *testing.T) string {
	t.Helper()
	python := realClient(t, "STUDIO_TEST_RICECOOKER", "ricecooker", "a ricecooker 0.8.0 venv's bin/python")
	out, err := exec.Command(python, "-c", "import ricecooker; print(ricecooker.__version__)").CombinedOutput()
	require.NoError(t, err, "%s cannot import ricecooker: %s", python, out)
	require.Equal(t, "0.8.0", strings.TrimSpace(string(out)), "STUDIO_TEST_RICECOOKER's ricecooker")
	_, err = exec.LookPath("ffprobe")
	require.NoError(t, err, "ricecooker probes videos with ffprobe: install ffmpeg (apt-get install ffmpeg)")
	return python
}

// TestRicecookerChef runs an unmodified ricecooker 0.8.0 chef
// (testdata/ricecooker_chef.py: a topic tree, a document with a thumbnail,
// an HTML5 app, a video, an exercise with three kinds of question, one
// with an image) against a studio process, with --deploy --publish, as a
// chef's author would. ricecooker exits 0 on some failures, so its output
// is read too. Then studio's channel must hold the tree with ricecooker's
// own ids, every node complete and every file's bytes; a second run must
// change no id and duplicate nothing; and, when STUDIO_TEST_KOLIBRI is
// set, a real Kolibri imports the published channel.
func TestRicecookerChef(t *testing.T) {
	python := ricecookerPython(t)
	var kolibri string
	if os.Getenv("STUDIO_TEST_KOLIBRI") != "" {
		kolibri = kolibriExecutable(t)
	}
	bin := buildStudio(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			var args []string
			if kind == db.Postgres {
				args = []string{"--database-url", dbtest.URL(t, kind)}
			}
			ricecookerChef(t, python, kolibri, bin, args...)
		})
	}
}

// chefManifest is what the chef writes of the ids ricecooker computed.
type chefManifest struct {
	ChannelID string `json:"channel_id"`
	Nodes     map[string]struct {
		Title         string   `json:"title"`
		Kind          string   `json:"kind"`
		NodeID        string   `json:"node_id"`
		ContentID     string   `json:"content_id"`
		Parent        string   `json:"parent"` // its source id; "" for the channel
		AssessmentIDs []string `json:"assessment_ids"`
	} `json:"nodes"`
}

// The chef's channel, as testdata/ricecooker_chef.py declares it.
const (
	chefDomain   = "ricecooker-check.example.org"
	chefSourceID = "studio-ricecooker-test"
	chefTitle    = "Ricecooker check"
)

// chefFiles writes the chef's files to dir and returns their bytes by name.
func chefFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	var app bytes.Buffer
	zw := zip.NewWriter(&app)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "index.html", Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	// The body begins with text: ricecooker 0.8.0's check of index.html
	// fails (AttributeError) on a body whose first child is an element.
	_, err = w.Write([]byte("<!doctype html><html><body>An HTML5 app<p>Uploaded by ricecooker.</p></body></html>"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	files := map[string][]byte{
		"sample.pdf":  demo.PDF("A document", []string{"Uploaded by an unmodified ricecooker."}),
		"clip.mp4":    demo.Video(),
		"app.zip":     app.Bytes(),
		"channel.png": demo.Thumbnail(),
		"thumb.png":   solidPNG(t, 160, 90, color.RGBA{R: 200, G: 120, B: 40, A: 255}),
		"square.png":  solidPNG(t, 40, 40, color.RGBA{R: 20, G: 160, B: 60, A: 255}),
	}
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return files
}

func solidPNG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// uuid5 is Python's uuid.uuid5(ns, name), as ricecooker computes ids.
func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New() //nolint:gosec // RFC 4122's version 5
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidOf(t *testing.T, s string) [16]byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	require.NoError(t, err)
	require.Len(t, b, 16)
	return [16]byte(b)
}

// namespaceDNS is Python's uuid.NAMESPACE_DNS.
const namespaceDNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// runChef runs the chef once in work, against base with token, and
// returns its output (without colours). Its exit status must be 0 and its
// output must say that every file was uploaded and every node created.
func runChef(t *testing.T, python, work, files, base, token string) string {
	t.Helper()
	chef, err := filepath.Abs(filepath.Join("testdata", "ricecooker_chef.py"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, chef, "--token", token, "--deploy", "--publish")
	cmd.Dir = work
	// Only what the test gives: no token or server from the environment.
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "STUDIO_URL", "STUDIO_TOKEN", "CONTENTWORKSHOP_URL", "CONTENT_CURATION_TOKEN", "RICECOOKER_STORAGE", "RICECOOKER_FILECACHE":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "STUDIO_URL="+base, "CHEF_FILES="+files, "PYTHONUNBUFFERED=1")
	cmd.Stdin = strings.NewReader("") // a prompt (a deprecated version, say) fails rather than waits
	start := time.Now()
	raw, err := cmd.CombinedOutput()
	out := ansi.ReplaceAllString(string(raw), "")
	t.Logf("the chef ran in %v", time.Since(start).Round(100*time.Millisecond))
	require.NoError(t, err, "the chef failed:\n%s", out)
	for _, bad := range []string{"could not be created", "Studio token rejected", "Error retrieving upload URL", "Error uploading file",
		"Error connecting to API", "Could not activate channel", "Traceback", "failed to download"} {
		require.NotContains(t, out, bad, "the chef's output:\n%s", out)
	}
	require.Contains(t, out, "All nodes were created successfully.", "the chef's output:\n%s", out)
	require.Regexp(t, `DONE: Channel created at \S+`, out, "the chef's output:\n%s", out)
	return out
}

// studioNode is what the test asks of each node of the uploaded tree.
type studioNode struct {
	ID                 string
	NodeID             string
	ContentID          string
	Kind               string
	Title              string
	Complete           bool
	IncompleteReasons  []string
	CopyrightHolder    string
	License            *struct{ Name string }
	ExtraFields        map[string]any
	LearningActivities any
	Tags               []string
	Files              []studioFile
	AssessmentItems    []struct {
		AssessmentID string
		Type         string
		Question     string
		Answers      []map[string]any
		Files        []studioFile
	}
	Children struct {
		Edges []struct{ Node studioNode }
	}
}

type studioFile struct {
	Checksum  string
	Extension string
	Size      int
	Preset    struct{ ID string }
	Duration  *int
	URL       string
}

const studioNodeFields = `id nodeId contentId kind title complete incompleteReasons copyrightHolder license { name }
	extraFields learningActivities tags
	files { checksum extension size preset { id } duration url }
	assessmentItems { assessmentId type question answers files { checksum extension size preset { id } url } }`

// chefTree reads the channel and its main tree, by node id, each node's
// parent's node id beside it.
func chefTree(t *testing.T, api *client, channelID string) (root studioNode, nodes map[string]studioNode, parents map[string]string) {
	t.Helper()
	var ch struct {
		Channel *struct {
			Root studioNode
		}
	}
	api.do(`query($id: ID!) { channel(id: $id) { root { `+studioNodeFields+` } } }`, map[string]any{"id": channelID}, &ch)
	require.NotNil(t, ch.Channel, "studio has no channel %s", channelID)
	nodes, parents = map[string]studioNode{}, map[string]string{}
	var walk func(n studioNode)
	walk = func(n studioNode) {
		var page struct {
			ContentNode struct {
				Children struct {
					Edges []struct{ Node studioNode }
				}
			}
		}
		api.do(`query($id: ID!) { contentNode(id: $id) { children(first: 1000) { edges { node { `+studioNodeFields+` } } } } }`,
			map[string]any{"id": n.ID}, &page)
		for _, e := range page.ContentNode.Children.Edges {
			_, dup := nodes[e.Node.NodeID]
			require.False(t, dup, "node id %s (%s) is in the tree twice", e.Node.NodeID, e.Node.Title)
			nodes[e.Node.NodeID] = e.Node
			parents[e.Node.NodeID] = n.NodeID
			walk(e.Node)
		}
	}
	walk(ch.Channel.Root)
	return ch.Channel.Root, nodes, parents
}

// ricecookerChef is TestRicecookerChef on one database: studio is started
// from bin with args.
func ricecookerChef(t *testing.T, python, kolibri, bin string, args ...string) {
	p := startStudio(t, bin, args...)
	require.NotEmpty(t, p.token, "the first start prints the first admin's token")
	api := newClient(t, p.base, p.token)
	filesDir, work := t.TempDir(), t.TempDir()
	files := chefFiles(t, filesDir)

	out := runChef(t, python, work, filesDir, p.base, p.token)
	require.Contains(t, out, "Uploading 6 new file(s)", "the chef uploads its six files:\n%s", out)

	// The ids are ricecooker's: the chef's manifest says what it computed,
	// which is what the formulas say.
	raw, err := os.ReadFile(filepath.Join(filesDir, "manifest.json"))
	require.NoError(t, err)
	var m chefManifest
	require.NoError(t, json.Unmarshal(raw, &m))
	ns := uuid5(uuidOf(t, namespaceDNS), chefDomain)
	channelID := uuid5(ns, chefSourceID)
	require.Equal(t, hex.EncodeToString(channelID[:]), m.ChannelID)
	for source, n := range m.Nodes {
		parent := channelID
		if n.Parent != "" {
			parent = uuidOf(t, m.Nodes[n.Parent].NodeID)
		}
		contentID := uuid5(ns, source)
		nodeID := uuid5(parent, hex.EncodeToString(contentID[:]))
		require.Equal(t, hex.EncodeToString(contentID[:]), n.ContentID, source)
		require.Equal(t, hex.EncodeToString(nodeID[:]), n.NodeID, source)
	}
	require.Len(t, m.Nodes, 7, "three topics and four resources")

	first := checkChefChannel(t, api, m, files, work)
	version := waitForPublish(t, api, m.ChannelID, 1)
	t.Logf("published version %d", version)

	// Again: the same ids, nothing twice, no file uploaded again.
	out = runChef(t, python, work, filesDir, p.base, p.token)
	require.Contains(t, out, "Uploading 0 new file(s)", "a second run finds every file stored:\n%s", out)
	second := checkChefChannel(t, api, m, files, work)
	require.Equal(t, first, second, "the second run changed the tree's ids or files")
	version = waitForPublish(t, api, m.ChannelID, 2)

	var list struct {
		Channels struct{ TotalCount int }
	}
	api.do(`{ channels(filter: {keyword: "`+chefTitle+`"}) { totalCount } }`, nil, &list)
	require.Equal(t, 1, list.Channels.TotalCount, "the second run made no second channel")

	if kolibri != "" {
		chefKolibriImport(t, kolibri, p.base, m, files, version)
	}
}

// checkChefChannel checks studio's channel against the chef's manifest and
// files (work is where it ran: storage/ holds what ricecooker uploaded),
// and returns what must not change between runs: each node's node id,
// content id, parent, files and questions.
func checkChefChannel(t *testing.T, api *client, m chefManifest, files map[string][]byte, work string) map[string]string {
	t.Helper()
	var ch struct {
		Channel struct {
			Name, Description, Tagline, Thumbnail string
			Language                              *struct{ ID string }
		}
	}
	api.do(`query($id: ID!) { channel(id: $id) { name description tagline thumbnail language { id } } }`, map[string]any{"id": m.ChannelID}, &ch)
	require.Equal(t, chefTitle, ch.Channel.Name)
	require.Equal(t, "A channel uploaded by an unmodified ricecooker.", ch.Channel.Description)
	require.Equal(t, "ricecooker to studio", ch.Channel.Tagline)
	require.NotNil(t, ch.Channel.Language)
	require.Equal(t, "en", ch.Channel.Language.ID)
	require.Contains(t, ch.Channel.Thumbnail, md5Hex(files["channel.png"]), "the channel's thumbnail")

	root, nodes, parents := chefTree(t, api, m.ChannelID)
	require.Equal(t, m.ChannelID, root.NodeID, "the root's node id is the channel's id, as ricecooker's")
	require.Len(t, nodes, len(m.Nodes), "the tree has the chef's nodes, no more")
	fingerprint := map[string]string{}
	bySource := map[string]studioNode{}
	for source, want := range m.Nodes {
		n, ok := nodes[want.NodeID]
		require.True(t, ok, "%s (%s) is not in studio's tree under its node id %s", source, want.Title, want.NodeID)
		bySource[source] = n
		require.Equal(t, want.ContentID, n.ContentID, "%s: content id", source)
		require.Equal(t, want.Title, n.Title, source)
		require.Equal(t, want.Kind, n.Kind, source)
		wantParent := m.ChannelID
		if want.Parent != "" {
			wantParent = m.Nodes[want.Parent].NodeID
		}
		require.Equal(t, wantParent, parents[want.NodeID], "%s: its parent", source)
		require.True(t, n.Complete, "%s is not complete: %v", source, n.IncompleteReasons)
		if n.Kind != "topic" {
			require.NotNil(t, n.License, source)
			require.Equal(t, "CC BY", n.License.Name, source)
			require.Equal(t, "Ricecooker Check", n.CopyrightHolder, source)
		}
		var fp []string
		for _, f := range n.Files {
			fp = append(fp, f.Preset.ID+":"+f.Checksum)
		}
		for _, q := range n.AssessmentItems {
			fp = append(fp, "question:"+q.AssessmentID+":"+q.Type)
		}
		slices.Sort(fp)
		fingerprint[want.NodeID] = fmt.Sprintf("%s %s %v", n.ContentID, parents[want.NodeID], fp)
	}

	// Files: the bytes the chef had, under their md5, served by studio.
	fileOf := func(source, preset string) studioFile {
		t.Helper()
		for _, f := range bySource[source].Files {
			if f.Preset.ID == preset {
				return f
			}
		}
		t.Fatalf("%s has no %s file: %+v", source, preset, bySource[source].Files)
		return studioFile{}
	}
	// want is the chef's file, nil for one ricecooker changes (it rewrites
	// HTML5 zips): either way, what ricecooker uploaded from its storage/.
	checkBytes := func(what string, f studioFile, want []byte) {
		t.Helper()
		uploaded, err := os.ReadFile(filepath.Join(work, "storage", f.Checksum[:1], f.Checksum[1:2], f.Checksum+"."+f.Extension))
		require.NoError(t, err, "%s: ricecooker's storage has no %s.%s", what, f.Checksum, f.Extension)
		if want != nil {
			require.True(t, bytes.Equal(want, uploaded), "%s: ricecooker uploaded other bytes than the chef's file", what)
		}
		require.Equal(t, md5Hex(uploaded), f.Checksum, what)
		require.Equal(t, len(uploaded), f.Size, what)
		url := f.URL
		if !strings.HasPrefix(url, "http") {
			url = api.base + url
		}
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", what, url)
		require.True(t, bytes.Equal(uploaded, got), "%s: studio serves other bytes at %s", what, url)
	}
	checkBytes("the document", fileOf("doc-1", "document"), files["sample.pdf"])
	checkBytes("the document's thumbnail", fileOf("doc-1", "document_thumbnail"), files["thumb.png"])
	app := fileOf("app-1", "html5_zip")
	checkBytes("the app", app, nil)
	require.Equal(t, "zip", app.Extension)
	var video studioFile
	for _, f := range bySource["vid-1"].Files {
		if f.Preset.ID == "low_res_video" || f.Preset.ID == "high_res_video" {
			video = f
		}
	}
	checkBytes("the video", video, files["clip.mp4"])
	require.NotNil(t, video.Duration)
	require.Equal(t, demo.VideoSeconds, *video.Duration)

	// The exercise: its mastery model, its questions by ricecooker's ids,
	// the image in the first.
	ex := bySource["ex-1"]
	extra, err := json.Marshal(ex.ExtraFields)
	require.NoError(t, err)
	require.Contains(t, string(extra), `"m_of_n"`, "the exercise's mastery model: %s", extra)
	require.Len(t, ex.AssessmentItems, 3)
	var ids, types []string
	for _, q := range ex.AssessmentItems {
		ids = append(ids, q.AssessmentID)
		types = append(types, q.Type)
	}
	dns := uuidOf(t, namespaceDNS)
	var wantIDs []string
	for _, source := range []string{"q-single", "q-multiple", "q-input"} {
		id := uuid5(dns, source)
		wantIDs = append(wantIDs, hex.EncodeToString(id[:]))
	}
	require.Equal(t, m.Nodes["ex-1"].AssessmentIDs, wantIDs)
	require.ElementsMatch(t, wantIDs, ids, "assessment ids are ricecooker's")
	require.ElementsMatch(t, []string{"single_selection", "multiple_selection", "input_question"}, types)
	for _, q := range ex.AssessmentItems {
		if q.Type != "single_selection" {
			continue
		}
		square := md5Hex(files["square.png"])
		require.Contains(t, q.Question, square+".png", "the question names its image by checksum: %s", q.Question)
		require.Len(t, q.Files, 1, "the question's image")
		require.Equal(t, "exercise_image", q.Files[0].Preset.ID)
		checkBytes("the question's image", q.Files[0], files["square.png"])
		correct := 0
		for _, a := range q.Answers {
			if a["correct"] == true {
				correct++
				require.Equal(t, "A square", a["answer"])
			}
		}
		require.Equal(t, 1, correct)
	}
	return fingerprint
}

// waitForPublish waits for the channel's latest publish (the chef's
// --publish) to complete and returns the version it made, which must be
// at least min.
func waitForPublish(t *testing.T, api *client, channelID string, minVersion int) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var ch struct {
			Channel struct {
				Version int
				Jobs    []struct {
					ID, State string
					Error     *string
				}
			}
		}
		api.do(`query($id: ID!) { channel(id: $id) { version jobs(first: 1) { id state error } } }`, map[string]any{"id": channelID}, &ch)
		require.NotEmpty(t, ch.Channel.Jobs, "the chef's --publish queued no job")
		j := ch.Channel.Jobs[0]
		if j.State == "FAILED" || j.State == "CANCELLED" {
			t.Fatalf("publish job %s: %s: %s", j.ID, j.State, jobError(j.Error))
		}
		if j.State == "COMPLETED" && ch.Channel.Version >= minVersion {
			return ch.Channel.Version
		}
		require.True(t, time.Now().Before(deadline), "publish job %s still %s after 2 minutes (version %d)", j.ID, j.State, ch.Channel.Version)
		time.Sleep(200 * time.Millisecond)
	}
}

// chefKolibriImport imports the published channel into a real Kolibri, as
// TestKolibriImport does, and checks that every node and file arrived.
func chefKolibriImport(t *testing.T, kolibri, base string, m chefManifest, files map[string][]byte, version int) {
	t.Helper()
	home := t.TempDir()
	baseURL := base + "/"
	runKolibri(t, kolibri, home, "manage", "importchannel", "network", m.ChannelID, "--baseurl", baseURL)
	runKolibri(t, kolibri, home, "manage", "importcontent", "--fail-on-error", "network", m.ChannelID, "--baseurl", baseURL)
	k := kolibriDB(t, home)
	var name, rootID string
	var imported int
	require.NoError(t, k.QueryRow(`SELECT name, version, root_id FROM content_channelmetadata WHERE id = ?`, m.ChannelID).
		Scan(&name, &imported, &rootID))
	require.Equal(t, chefTitle, name)
	require.Equal(t, version, imported)
	require.Equal(t, m.ChannelID, rootID)
	want := map[string]string{m.ChannelID: chefTitle}
	for _, n := range m.Nodes {
		want[n.NodeID] = n.Title
	}
	titles, unavailable := kolibriNodes(t, k, m.ChannelID)
	require.Equal(t, want, titles, "Kolibri has every node, under ricecooker's node ids")
	require.Empty(t, unavailable)
	rows, err := k.Query(`SELECT DISTINCT lf.id, lf.extension, lf.available FROM content_localfile lf
		JOIN content_file f ON f.local_file_id = lf.id
		JOIN content_contentnode n ON n.id = f.contentnode_id WHERE n.channel_id = ?`, m.ChannelID)
	require.NoError(t, err)
	defer rows.Close()
	got := map[string]string{} // local file id (its md5) → extension
	for rows.Next() {
		var id, ext string
		var available bool
		require.NoError(t, rows.Scan(&id, &ext, &available))
		require.True(t, available, "localfile %s.%s", id, ext)
		path := filepath.Join(home, "content", "storage", id[:1], id[1:2], id+"."+ext)
		require.Equal(t, id, md5OfFile(t, path))
		got[id] = ext
	}
	require.NoError(t, rows.Err())
	// The document, its thumbnail, the video, the app and the exercise's
	// archive (which holds the question's image).
	require.Len(t, got, 5, "Kolibri's files of the channel: %v", got)
	for name, ext := range map[string]string{"sample.pdf": "pdf", "thumb.png": "png", "clip.mp4": "mp4"} {
		require.Equal(t, ext, got[md5Hex(files[name])], "Kolibri has %s", name)
	}
	exts := slices.Sorted(maps.Values(got))
	require.Equal(t, []string{"mp4", "pdf", "perseus", "png", "zip"}, exts)
}
