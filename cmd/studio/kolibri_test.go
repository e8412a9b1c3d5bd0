package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"studio/demo"
)

// client sends GraphQL requests to a studio process with a token.
type client struct {
	t     *testing.T
	base  string
	token string
}

// do runs query with vars and decodes its data into out; any GraphQL error
// fails the test, with the errors in the message.
func (a *client) do(query string, vars map[string]any, out any) {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(a.t, err)
	req, err := http.NewRequest(http.MethodPost, a.base+"/graphql", bytes.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	a.send(req, out)
}

// upload sends uploadFile as a GraphQL multipart request and returns the
// stored file's checksum.
func (a *client) upload(filename string, data []byte, input map[string]any) string {
	a.t.Helper()
	input["file"] = nil
	ops, err := json.Marshal(map[string]any{
		"query":     `mutation($in: UploadFileInput!) { uploadFile(input: $in) { checksum size } }`,
		"variables": map[string]any{"in": input}})
	require.NoError(a.t, err)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(a.t, mw.WriteField("operations", string(ops)))
	require.NoError(a.t, mw.WriteField("map", `{"0": ["variables.in.file"]}`))
	part, err := mw.CreateFormFile("0", filename)
	require.NoError(a.t, err)
	_, err = part.Write(data)
	require.NoError(a.t, err)
	require.NoError(a.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, a.base+"/graphql", &body)
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		UploadFile struct {
			Checksum string
			Size     int
		}
	}
	a.send(req, &out)
	sum := md5.Sum(data)
	require.Equal(a.t, hex.EncodeToString(sum[:]), out.UploadFile.Checksum, "%s: the checksum is the md5 of the bytes", filename)
	require.Equal(a.t, len(data), out.UploadFile.Size)
	return out.UploadFile.Checksum
}

func (a *client) send(req *http.Request, out any) {
	a.t.Helper()
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	require.NoError(a.t, json.Unmarshal(raw, &r), "HTTP %d: %s", resp.StatusCode, raw)
	require.Empty(a.t, r.Errors, "GraphQL errors (HTTP %d): %s", resp.StatusCode, raw)
	require.NoError(a.t, json.Unmarshal(r.Data, out), "%s", raw)
}

// kolibriNode is what the test asks of each node it creates.
type kolibriNode struct {
	ID              string
	NodeID          string
	Kind            string
	Title           string
	Complete        bool
	CopyrightHolder string
	License         *struct{ Name string }
	ExtraFields     map[string]any
	Files           []struct{ Preset struct{ ID string } }
	AssessmentItems []struct{ AssessmentID string }
}

const kolibriNodeFields = `id nodeId kind title complete copyrightHolder license { name } extraFields
	files { preset { id } } assessmentItems { assessmentId }`

// runKolibri runs `kolibri args...` with KOLIBRI_HOME=home and returns its
// combined output; a failure shows that output.
func runKolibri(t *testing.T, bin, home string, args ...string) string {
	t.Helper()
	// The first command in a fresh home migrates Kolibri's database, which
	// takes a minute on a slow machine; imports retry 5xx forever.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KOLIBRI_HOME="+home, "KOLIBRI_RUN_MODE=test", "KOLIBRI_DISABLE_PING=1")
	line := "kolibri " + strings.Join(args, " ")
	t.Logf("running %s (KOLIBRI_HOME=%s)", line, home)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s: %v", line, time.Since(start).Round(100*time.Millisecond))
	require.NoError(t, err, "%s failed:\n%s", line, out)
	return string(out)
}

func md5OfFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := md5.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// kolibriDB opens Kolibri's own database in home.
func kolibriDB(t *testing.T, home string) *sql.DB {
	t.Helper()
	path := filepath.Join(home, "db.sqlite3")
	require.FileExists(t, path)
	k, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	return k
}

// kolibriNodes reads a channel's nodes from Kolibri's database: node id to
// title, and the ids of those not available.
func kolibriNodes(t *testing.T, k *sql.DB, channelID string) (titles map[string]string, unavailable []string) {
	t.Helper()
	rows, err := k.Query(`SELECT id, title, available FROM content_contentnode WHERE channel_id = ?`, channelID)
	require.NoError(t, err)
	defer rows.Close()
	titles = map[string]string{}
	for rows.Next() {
		var id, title string
		var available bool
		require.NoError(t, rows.Scan(&id, &title, &available))
		titles[id] = title
		if !available {
			unavailable = append(unavailable, title)
		}
	}
	require.NoError(t, rows.Err())
	return titles, unavailable
}

// TestKolibriImport publishes a channel with topics, a video, a document and
// an exercise, then has a real Kolibri import it over HTTP, by channel id
// (channel and content) and by token (channel), and checks Kolibri's own
// database and content storage. Then a draft, by the draft's token
// (<id>-next.sqlite3, with no credentials), and after a second version the
// first one by its own token (<id>-1.sqlite3): Kolibri's database says
// which version it imported, and its nodes which database it read.
func TestKolibriImport(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: runs Kolibri")
	}
	kolibri := os.Getenv("STUDIO_TEST_KOLIBRI")
	if kolibri == "" {
		t.Skip("STUDIO_TEST_KOLIBRI is not set: it names a Kolibri executable (a venv's bin/kolibri after pip install kolibri==0.19.5)")
	}
	// Set but wrong is a broken CI setup, not a reason to skip quietly.
	info, err := os.Stat(kolibri)
	require.NoError(t, err, "STUDIO_TEST_KOLIBRI")
	require.True(t, !info.IsDir() && info.Mode()&0o111 != 0, "STUDIO_TEST_KOLIBRI=%s is not an executable", kolibri)

	started := time.Now()
	p := startStudio(t, buildStudio(t))
	require.NotEmpty(t, p.token, "the first start prints the first admin's token")
	api := &client{t: t, base: p.base, token: p.token}
	t.Logf("studio is up at %s after %v", p.base, time.Since(started).Round(100*time.Millisecond))

	// The channel and its tree.
	const channelName = "Kolibri import test"
	var created struct {
		CreateChannel struct {
			ID   string
			Root struct{ ID, NodeID string }
		}
	}
	api.do(`mutation($in: CreateChannelInput!) { createChannel(input: $in) { id root { id nodeId } } }`,
		map[string]any{"in": map[string]any{"name": channelName, "description": "Published by TestKolibriImport", "language": "en"}}, &created)
	channelID, root := created.CreateChannel.ID, created.CreateChannel.Root
	require.Regexp(t, `^[0-9a-f]{32}$`, channelID)

	var topics struct{ CreateContentNodes []kolibriNode }
	api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
		map[string]any{"in": []any{
			map[string]any{"parentId": root.ID, "kind": "topic", "title": "Watch and read"},
			map[string]any{"parentId": root.ID, "kind": "topic", "title": "Practice"},
		}}, &topics)
	require.Len(t, topics.CreateContentNodes, 2)
	watch, practice := topics.CreateContentNodes[0], topics.CreateContentNodes[1]

	// A resource is complete with a title, a license with its copyright
	// holder, and a main file (an exercise: questions and a mastery model).
	resource := func(parent, kind, title string, extra map[string]any) map[string]any {
		in := map[string]any{"parentId": parent, "kind": kind, "title": title, "license": "CC BY",
			"copyrightHolder": "Learning Equality", "author": "TestKolibriImport"}
		if extra != nil {
			in["extraFields"] = extra
		}
		return in
	}
	mastery := map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{
		"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}}
	var resources struct{ CreateContentNodes []kolibriNode }
	api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
		map[string]any{"in": []any{
			resource(watch.ID, "video", "A short video", nil),
			resource(watch.ID, "document", "A one-page document", nil),
			resource(practice.ID, "exercise", "Three questions", mastery),
		}}, &resources)
	require.Len(t, resources.CreateContentNodes, 3)
	video, document, exercise := resources.CreateContentNodes[0], resources.CreateContentNodes[1], resources.CreateContentNodes[2]

	videoSum := api.upload("short.mp4", demo.Video(), map[string]any{"preset": "high_res_video", "nodeId": video.ID, "duration": 3})
	pdfSum := api.upload("page.pdf", demo.PDF("Hello, Kolibri", []string{"A page that Kolibri imports."}), map[string]any{"preset": "document", "nodeId": document.ID})

	var items struct {
		CreateAssessmentItems []struct{ AssessmentID string }
	}
	api.do(`mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { assessmentId } }`,
		map[string]any{"in": []any{
			map[string]any{"nodeId": exercise.ID, "type": "single_selection", "question": "Which is a prime number?", "order": 1,
				"answers": []any{
					map[string]any{"answer": "4", "correct": false, "order": 1},
					map[string]any{"answer": "7", "correct": true, "order": 2},
					map[string]any{"answer": "9", "correct": false, "order": 3},
				},
				"hints": []any{map[string]any{"hint": "A prime has exactly two divisors.", "order": 1}}},
			map[string]any{"nodeId": exercise.ID, "type": "multiple_selection", "question": "Which are even?", "order": 2,
				"answers": []any{
					map[string]any{"answer": "2", "correct": true, "order": 1},
					map[string]any{"answer": "3", "correct": false, "order": 2},
					map[string]any{"answer": "8", "correct": true, "order": 3},
				}},
			map[string]any{"nodeId": exercise.ID, "type": "input_question", "question": "What is 6 × 7?", "order": 3,
				"answers": []any{map[string]any{"answer": "42", "correct": true, "order": 1}}},
		}}, &items)
	require.Len(t, items.CreateAssessmentItems, 3)
	var assessmentIDs []string
	for _, it := range items.CreateAssessmentItems {
		assessmentIDs = append(assessmentIDs, it.AssessmentID)
	}

	// Every node must be complete, or the publish leaves it out.
	ids := []string{watch.ID, practice.ID, video.ID, document.ID, exercise.ID}
	var nodes struct{ ContentNodes []*kolibriNode }
	api.do(`query($ids: [ID!]!) { contentNodes(ids: $ids) { `+kolibriNodeFields+` } }`, map[string]any{"ids": ids}, &nodes)
	require.Len(t, nodes.ContentNodes, len(ids))
	want := map[string]string{root.NodeID: channelName} // Kolibri node id → title; the root takes the channel's name
	for i, n := range nodes.ContentNodes {
		require.NotNil(t, n, "node %s is missing", ids[i])
		if !n.Complete {
			var presets []string
			for _, f := range n.Files {
				presets = append(presets, f.Preset.ID)
			}
			t.Fatalf("%s %q is not complete, so the publish would leave it out (rules: models.CompletenessErrors): "+
				"license %v, copyright holder %q, file presets %v, %d questions, extra_fields %v",
				n.Kind, n.Title, n.License, n.CopyrightHolder, presets, len(n.AssessmentItems), n.ExtraFields)
		}
		want[n.NodeID] = n.Title
	}

	// Publish, and wait for the job.
	v := publishAndWait(t, api, channelID, "First version, for Kolibri", false)
	require.NotNil(t, v)
	require.Equal(t, 1, *v)

	var ch struct {
		Channel struct {
			Version      int
			PrimaryToken *string
		}
	}
	api.do(`query($id: ID!) { channel(id: $id) { version primaryToken } }`, map[string]any{"id": channelID}, &ch)
	require.Equal(t, 1, ch.Channel.Version)
	require.NotNil(t, ch.Channel.PrimaryToken, "the first publish makes a token")
	token := *ch.Channel.PrimaryToken
	require.Regexp(t, `^[a-z]{5}-[a-z]{5}$`, token)

	// Import by channel id: the channel, then its content.
	baseURL := p.base + "/" // Kolibri joins paths onto it with urljoin
	home := t.TempDir()
	runKolibri(t, kolibri, home, "manage", "importchannel", "network", channelID, "--baseurl", baseURL)
	runKolibri(t, kolibri, home, "manage", "importcontent", "--fail-on-error", "network", channelID, "--baseurl", baseURL)

	k := kolibriDB(t, home)
	var name, rootID string
	var version int
	require.NoError(t, k.QueryRow(`SELECT name, version, root_id FROM content_channelmetadata WHERE id = ?`, channelID).
		Scan(&name, &version, &rootID), "the channel is in Kolibri's database")
	require.Equal(t, channelName, name)
	require.Equal(t, 1, version)
	require.Equal(t, root.NodeID, rootID)

	titles, unavailable := kolibriNodes(t, k, channelID)
	require.Equal(t, want, titles, "Kolibri has every published node, under its node id")
	require.Empty(t, unavailable, "nodes Kolibri considers unavailable after importcontent")

	var itemIDs, model string
	require.NoError(t, k.QueryRow(`SELECT assessment_item_ids, mastery_model FROM content_assessmentmetadata WHERE contentnode_id = ?`,
		exercise.NodeID).Scan(&itemIDs, &model))
	var gotItems []string
	require.NoError(t, json.Unmarshal([]byte(itemIDs), &gotItems))
	require.ElementsMatch(t, assessmentIDs, gotItems)
	require.JSONEq(t, `{"type": "do_all", "m": 3, "n": 3}`, model)

	// Every file of the channel is in Kolibri's storage, named by its md5.
	rows, err := k.Query(`SELECT DISTINCT lf.id, lf.extension, lf.available FROM content_localfile lf
		JOIN content_file f ON f.local_file_id = lf.id
		JOIN content_contentnode n ON n.id = f.contentnode_id
		WHERE n.channel_id = ?`, channelID)
	require.NoError(t, err)
	extensions := map[string]string{}
	for rows.Next() {
		var id, ext string
		var available bool
		require.NoError(t, rows.Scan(&id, &ext, &available))
		require.True(t, available, "localfile %s.%s is not available", id, ext)
		path := filepath.Join(home, "content", "storage", id[:1], id[1:2], id+"."+ext)
		require.FileExists(t, path)
		require.Equal(t, id, md5OfFile(t, path), "%s: the content differs from its name", path)
		extensions[id] = ext
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Equal(t, "mp4", extensions[videoSum], "the video is imported")
	require.Equal(t, "pdf", extensions[pdfSum], "the document is imported")
	require.Contains(t, slices.Collect(maps.Values(extensions)), "perseus", "the exercise's archive is imported")

	fk, err := k.Query(`PRAGMA foreign_key_check`)
	require.NoError(t, err)
	var violations []string
	for fk.Next() {
		var table, parent string
		var rowid, fkid sql.NullInt64
		require.NoError(t, fk.Scan(&table, &rowid, &parent, &fkid))
		violations = append(violations, fmt.Sprintf("%s row %v → %s", table, rowid.Int64, parent))
	}
	require.NoError(t, fk.Err())
	fk.Close()
	require.Empty(t, violations, "foreign key violations in Kolibri's database")

	// A draft with a change, imported by the draft's own token into another
	// Kolibri: the lookup says version null, so Kolibri fetches
	// <id>-next.sqlite3, with no credentials (the lookup lets its address).
	rename := func(title string) map[string]string {
		api.do(`mutation($n: ID!, $t: String!) { updateContentNodes(input: [{id: $n, title: $t}]) { id } }`,
			map[string]any{"n": exercise.ID, "t": title}, &struct{}{})
		changed := maps.Clone(want)
		changed[exercise.NodeID] = title
		return changed
	}
	wantDraft := rename("Three questions, drafted")
	require.Nil(t, publishAndWait(t, api, channelID, "Trying a change", true), "a draft makes no version")
	versions := channelVersions(t, api, channelID)
	require.Len(t, versions, 2)
	require.Nil(t, versions[0].Version, "the draft comes first, without a number")
	draftToken := versions[0].Token
	require.Equal(t, 1, *versions[1].Version)
	v1Token := versions[1].Token
	require.NotEqual(t, token, v1Token, "a version's token is its own")

	home2 := t.TempDir()
	runKolibri(t, kolibri, home2, "manage", "importchannel", "network", draftToken, "--baseurl", baseURL)
	k2 := kolibriDB(t, home2)
	require.Equal(t, map[string]int{channelID: 0}, kolibriChannels(t, k2), "the draft's token imports the draft, Kolibri's version 0")
	titles2, _ := kolibriNodes(t, k2, channelID)
	require.Equal(t, wantDraft, titles2, "the draft's nodes")

	// Then by the primary token, as a user types it, into the same Kolibri:
	// it looks the token up at /api/public/v1/channels/lookup/<token> for the
	// id, and the current version replaces the draft.
	forgetDatabase(t, home2, channelID)
	runKolibri(t, kolibri, home2, "manage", "importchannel", "network", token, "--baseurl", baseURL)
	require.Equal(t, map[string]int{channelID: 1}, kolibriChannels(t, k2), "the token imports the channel under its id")
	titles2, _ = kolibriNodes(t, k2, channelID)
	require.Equal(t, want, titles2)

	// A second version; the first one's token still imports the first
	// version (<id>-1.sqlite3), into a third Kolibri, while the channel's
	// id and primary token name the second.
	wantV2 := rename("Three questions, second version")
	v = publishAndWait(t, api, channelID, "Second version", false)
	require.NotNil(t, v)
	require.Equal(t, 2, *v)
	versions = channelVersions(t, api, channelID)
	require.Len(t, versions, 2, "the publish ended the draft")
	require.Equal(t, 2, *versions[0].Version)
	require.Equal(t, v1Token, versions[1].Token)
	home3 := t.TempDir()
	runKolibri(t, kolibri, home3, "manage", "importchannel", "network", v1Token, "--baseurl", baseURL)
	k3 := kolibriDB(t, home3)
	require.Equal(t, map[string]int{channelID: 1}, kolibriChannels(t, k3), "the first version's token imports the first version")
	titles3, _ := kolibriNodes(t, k3, channelID)
	require.Equal(t, want, titles3, "the first version's nodes, not the second's")
	forgetDatabase(t, home3, channelID)
	runKolibri(t, kolibri, home3, "manage", "importchannel", "network", token, "--baseurl", baseURL)
	require.Equal(t, map[string]int{channelID: 2}, kolibriChannels(t, k3), "the primary token imports the current version")
	titles3, _ = kolibriNodes(t, k3, channelID)
	require.Equal(t, wantV2, titles3)
	t.Logf("TestKolibriImport took %v", time.Since(started).Round(100*time.Millisecond))
}

// publishAndWait publishes channelID (a draft if draft) and waits for the
// job; it returns the version the job made, nil for a draft.
func publishAndWait(t *testing.T, api *client, channelID, notes string, draft bool) *int {
	t.Helper()
	var pub struct{ PublishChannel struct{ ID, State string } }
	api.do(`mutation($c: ID!, $notes: String, $draft: Boolean) { publishChannel(channelId: $c, versionNotes: $notes, draft: $draft) { id state } }`,
		map[string]any{"c": channelID, "notes": notes, "draft": draft}, &pub)
	published := time.Now()
	deadline := published.Add(2 * time.Minute)
	for {
		var j struct {
			Job *struct {
				State    string
				Progress int
				Error    *string
				Version  *int
			}
		}
		api.do(`query($id: ID!) { job(id: $id) { state progress error version } }`, map[string]any{"id": pub.PublishChannel.ID}, &j)
		require.NotNil(t, j.Job, "job %s is not visible", pub.PublishChannel.ID)
		if j.Job.State == "COMPLETED" {
			t.Logf("published %q in %v", notes, time.Since(published).Round(10*time.Millisecond))
			return j.Job.Version
		}
		if j.Job.State == "FAILED" || j.Job.State == "CANCELLED" {
			t.Fatalf("publish job %s: %s: %v", pub.PublishChannel.ID, j.Job.State, jobError(j.Job.Error))
		}
		require.True(t, time.Now().Before(deadline), "publish job %s still %s (%d%%) after 2 minutes; last error %v",
			pub.PublishChannel.ID, j.Job.State, j.Job.Progress, jobError(j.Job.Error))
		time.Sleep(200 * time.Millisecond)
	}
}

// channelVersion is a version as Channel.versions lists it.
type channelVersion struct {
	Version *int
	Token   string
}

// channelVersions reads the channel's draft and versions, newest first.
func channelVersions(t *testing.T, api *client, channelID string) []channelVersion {
	t.Helper()
	var ch struct {
		Channel struct{ Versions []channelVersion }
	}
	api.do(`query($id: ID!) { channel(id: $id) { versions { version token } } }`, map[string]any{"id": channelID}, &ch)
	for _, v := range ch.Channel.Versions {
		require.Regexp(t, `^[a-z]{5}-[a-z]{5}$`, v.Token)
	}
	return ch.Channel.Versions
}

// forgetDatabase removes the channel database Kolibri downloaded into home:
// importchannel downloads none while it has one on disk, whatever version
// the lookup names.
func forgetDatabase(t *testing.T, home, channelID string) {
	t.Helper()
	require.NoError(t, os.Remove(filepath.Join(home, "content", "databases", channelID+".sqlite3")))
}

// kolibriChannels reads the channels in Kolibri's database, with their versions.
func kolibriChannels(t *testing.T, k *sql.DB) map[string]int {
	t.Helper()
	rows, err := k.Query(`SELECT id, version FROM content_channelmetadata`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var version int
		require.NoError(t, rows.Scan(&id, &version))
		out[id] = version
	}
	require.NoError(t, rows.Err())
	return out
}

// jobError shows a job's error, which is null when there is none.
func jobError(s *string) string {
	if s == nil {
		return "(no error)"
	}
	return *s
}
