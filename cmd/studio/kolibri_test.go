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
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"studio/db"
	"studio/db/dbtest"
	"studio/demo"
	"studio/models"
	"studio/studiotest"
)

// client sends GraphQL requests to a studio process with a token.
type client struct {
	*studiotest.Client
	t     *testing.T
	base  string // the server's base URL
	token string
}

func newClient(t *testing.T, base, token string) *client {
	return &client{Client: studiotest.New(t, base), t: t, base: base, token: token}
}

// do runs query with vars and decodes its data into out; any GraphQL error
// fails the test, with the errors in the message.
func (a *client) do(query string, vars map[string]any, out any) {
	a.t.Helper()
	a.Into(a.token, query, vars, out)
}

// upload sends uploadFile as a GraphQL multipart request and returns the
// stored file's checksum.
func (a *client) upload(filename string, data []byte, input map[string]any) string {
	a.t.Helper()
	r := a.Upload(a.token, `mutation($in: UploadFileInput!) { uploadFile(input: $in) { checksum size } }`,
		map[string]any{"in": input}, studiotest.File{Path: "variables.in.file", Name: filename, Data: data})
	require.Empty(a.t, r.Errors, "GraphQL errors (HTTP %d): %s", r.Status, r.Body)
	var out struct {
		UploadFile struct {
			Checksum string
			Size     int
		}
	}
	require.NoError(a.t, r.Decode(&out), "%s", r.Body)
	sum := md5.Sum(data)
	require.Equal(a.t, hex.EncodeToString(sum[:]), out.UploadFile.Checksum, "%s: the checksum is the md5 of the bytes", filename)
	require.Equal(a.t, len(data), out.UploadFile.Size)
	return out.UploadFile.Checksum
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

// kolibriExecutable is the Kolibri that STUDIO_TEST_KOLIBRI names (a venv's
// bin/kolibri after pip install kolibri==0.19.5).
func kolibriExecutable(t *testing.T) string {
	t.Helper()
	return realClient(t, "STUDIO_TEST_KOLIBRI", "Kolibri", "a Kolibri 0.19.5 venv's bin/kolibri")
}

// realClient is the executable a real client's test runs, named by the
// environment variable env. Without it the test is skipped, but fails
// under CI, which must run it; set but wrong is a broken setup, never a
// reason to skip quietly.
func realClient(t *testing.T, env, what, want string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipped in -short mode: runs %s", what)
	}
	path := os.Getenv(env)
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: .ci/run sets it to %s", env, want)
		}
		t.Skipf("%s is not set: it names %s", env, want)
	}
	info, err := os.Stat(path)
	require.NoError(t, err, env)
	require.True(t, !info.IsDir() && info.Mode()&0o111 != 0, "%s=%s is not an executable", env, path)
	return path
}

// TestKolibriImport publishes a channel with topics, a video (with a
// subtitle), a document and an exercise, then has a real Kolibri import it
// over HTTP, by channel id (channel and content) and by token (channel),
// and checks Kolibri's own database and content storage: among them, that
// the nodes' languages (zul, sr-LATN, und) and label ids of all six sets
// arrived exactly as le-utils spells them and that Kolibri's own le-utils
// names the languages (kolibriVocabulary). Then a draft, by the draft's token
// (<id>-next.sqlite3, with no credentials), and after a second version the
// first one by its own token (<id>-1.sqlite3): Kolibri's database says
// which version it imported, and its nodes which database it read.
func TestKolibriImport(t *testing.T) {
	kolibri := kolibriExecutable(t)

	bin := buildStudio(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			var args []string
			if kind == db.Postgres {
				args = []string{"--database-url", dbtest.URL(t, kind)}
			}
			kolibriImport(t, kolibri, bin, args...)
		})
	}
}

// kolibriImport is TestKolibriImport on one database: studio is started
// from bin with args.
func kolibriImport(t *testing.T, kolibri, bin string, args ...string) {
	started := time.Now()
	p := startStudio(t, bin, args...)
	require.NotEmpty(t, p.token, "the first start prints the first admin's token")
	api := newClient(t, p.base, p.token)
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

	// Languages and labels as le-utils spells them (kolibriVocabulary): a
	// three-letter code, a code with a script subtag, "und", and label ids
	// of all six sets, dotted ones and ones with '#' and '&' among them.
	// Topics carry no learning activities or accessibility labels in
	// Kolibri's database (Studio's rule), so only resources have those.
	vocabulary := map[string]kolibriMeta{
		"Watch and read": {Lang: "zul", Labels: map[string][]string{
			"grade_levels": {"wnarlxKo", "BkGYi3lD"}, "resource_types": {"xgFjFhrA"},
			"categories": {"d&WXdXWF.qs0Xlaxq", "BCG3&slG.HLo9TbNq"}, "learner_needs": {"sccgQZDd.sAQsauuo"}}},
		"Practice": {Lang: "sr-LATN", Labels: map[string][]string{
			"grade_levels": {"Z#97dvst"}, "categories": {"d&WXdXWF.qs0Xlaxq.0t5msbL5"}}},
		"A short video": {Lang: "und", Labels: map[string][]string{
			"grade_levels": {"eLt0Mbu4"}, "resource_types": {"WtHeUU1", "rReY3LOO"},
			"learning_activities": {"UD5UGM0z", "3dSeJhqs"}, "accessibility_labels": {"WnIhbgkY", "Dr4cVXkc"},
			"categories": {"d&WXdXWF.i1IdaNwr.#r5ocgid"}, "learner_needs": {"Hsw9k7Bz.#lLv#LB7", "lsoCk5Uy.H&MVs7S#"}}},
		"A one-page document": {Lang: "zul", Labels: map[string][]string{
			"resource_types": {"0Et83gje"}, "learning_activities": {"wA01urpi"}, "accessibility_labels": {"Kxx#meDW"},
			"categories": {"d&WXdXWF.kHKJ&PbV.r7RxB#9t"}}},
		"Three questions": {Lang: "sr-LATN", Labels: map[string][]string{
			"grade_levels": {"FOhG0ib"}, "resource_types": {"WEEETopZ"}, "learning_activities": {"VwRCom7G", "UXADWcXZ"},
			"accessibility_labels": {"uF4CI2wP"}, "categories": {"d&WXdXWF.qs0Xlaxq.nG96nHDc"}, "learner_needs": {"Hsw9k7Bz.OFIbUAK9"}}},
	}
	var topics struct{ CreateContentNodes []kolibriNode }
	api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
		map[string]any{"in": []any{
			vocabulary["Watch and read"].input(map[string]any{"parentId": root.ID, "kind": "topic", "title": "Watch and read"}),
			vocabulary["Practice"].input(map[string]any{"parentId": root.ID, "kind": "topic", "title": "Practice"}),
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
			vocabulary["A short video"].input(resource(watch.ID, "video", "A short video", nil)),
			vocabulary["A one-page document"].input(resource(watch.ID, "document", "A one-page document", nil)),
			vocabulary["Three questions"].input(resource(practice.ID, "exercise", "Three questions", mastery)),
		}}, &resources)
	require.Len(t, resources.CreateContentNodes, 3)
	video, document, exercise := resources.CreateContentNodes[0], resources.CreateContentNodes[1], resources.CreateContentNodes[2]

	videoSum := api.upload("short.mp4", demo.Video(), map[string]any{"preset": "high_res_video", "nodeId": video.ID, "duration": 3})
	pdfSum := api.upload("page.pdf", demo.PDF("Hello, Kolibri", []string{"A page that Kolibri imports."}), map[string]any{"preset": "document", "nodeId": document.ID})
	subtitleSum := api.upload("short.vtt", []byte("WEBVTT\n\n00:00.000 --> 00:02.000\nSawubona\n"),
		map[string]any{"preset": "video_subtitle", "nodeId": video.ID, "language": "sr-LATN"})

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
	require.Equal(t, "vtt", extensions[subtitleSum], "the subtitle is imported")

	wantMeta := map[string]kolibriMeta{} // Kolibri node id → its language and labels
	for _, n := range nodes.ContentNodes {
		wantMeta[n.NodeID] = vocabulary[n.Title]
	}
	kolibriVocabulary(t, kolibri, home, k, channelID, wantMeta, map[string]string{subtitleSum: "sr-LATN"})

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

// kolibriMeta is a node's language and label ids, by Kolibri's column
// names (grade_levels, ...), as le-utils spells them.
type kolibriMeta struct {
	Lang   string
	Labels map[string][]string
}

// input adds the language and labels to a createContentNodes input.
func (m kolibriMeta) input(in map[string]any) map[string]any {
	in["language"] = m.Lang
	for field, ids := range m.Labels {
		// grade_levels → gradeLevels
		parts := strings.Split(field, "_")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
		in[strings.Join(parts, "")] = ids
	}
	return in
}

// kolibriVocabulary checks that the codes arrived in Kolibri's database
// exactly as le-utils spells them, and that Kolibri's own le-utils (the copy
// it vendors in kolibri/dist) knows them: getlang names every language as
// studio does and splits it as the content_language row does, and every
// label id is one of its label constants. want is by Kolibri node id;
// fileLangs are files' languages, by local file id.
func kolibriVocabulary(t *testing.T, bin, home string, k *sql.DB, channelID string, want map[string]kolibriMeta, fileLangs map[string]string) {
	t.Helper()
	codeSet := map[string]bool{}
	modules := map[string]string{} // Kolibri column → le-utils module
	for _, m := range want {
		codeSet[m.Lang] = true
		for field := range m.Labels {
			s, ok := models.LabelSetOf(field)
			require.True(t, ok, "%s is not a label field", field)
			modules[field] = s.Module
		}
	}
	for _, l := range fileLangs {
		codeSet[l] = true
	}
	codes := slices.Sorted(maps.Keys(codeSet))

	// Kolibri's le-utils, asked in Kolibri's own Python: importing kolibri
	// puts kolibri/dist on sys.path.
	script := `
import importlib, json, sys
import kolibri
import le_utils
from le_utils.constants.languages import getlang
args = json.loads(sys.argv[1])
out = {"le_utils": le_utils.__file__, "languages": {}, "labels": {}}
for code in args["codes"]:
    l = getlang(code)
    out["languages"][code] = l and {"name": l.name, "native_name": l.native_name, "primary_code": l.primary_code,
        "subcode": l.subcode, "text_direction": l.text_direction}
for module in args["modules"]:
    m = importlib.import_module("le_utils.constants.labels." + module)
    out["labels"][module] = [v for k, v in vars(m).items() if k.isupper() and isinstance(v, str)]
print(json.dumps(out))
`
	arg, err := json.Marshal(map[string]any{"codes": codes, "modules": slices.Collect(maps.Values(modules))})
	require.NoError(t, err)
	python := filepath.Join(filepath.Dir(bin), "python")
	cmd := exec.Command(python, "-c", script, string(arg))
	cmd.Env = append(os.Environ(), "KOLIBRI_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	require.NoError(t, err, "%s (the Python beside STUDIO_TEST_KOLIBRI): %s", python, stderr.String())
	var le struct {
		LeUtils   string `json:"le_utils"`
		Languages map[string]*struct {
			Name          string  `json:"name"`
			NativeName    string  `json:"native_name"`
			PrimaryCode   string  `json:"primary_code"`
			Subcode       *string `json:"subcode"`
			TextDirection string  `json:"text_direction"`
		}
		Labels map[string][]string
	}
	require.NoError(t, json.Unmarshal(raw, &le), "%s", raw)
	require.Contains(t, le.LeUtils, filepath.Join("kolibri", "dist", "le_utils"), "the le-utils Kolibri vendors answered")

	// content_language: a row for each code, with the code as its id and
	// split into lang_code and lang_subcode as Kolibri's le-utils splits it.
	rows, err := k.Query(`SELECT id, lang_code, lang_subcode, lang_name, lang_direction FROM content_language`)
	require.NoError(t, err)
	type language struct {
		Code, Name, Direction string
		Subcode               *string
	}
	languages := map[string]language{}
	for rows.Next() {
		var id string
		var l language
		require.NoError(t, rows.Scan(&id, &l.Code, &l.Subcode, &l.Name, &l.Direction))
		languages[id] = l
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, code := range codes {
		got, ok := languages[code]
		require.True(t, ok, "content_language has no row %q, exactly so spelt; it has %v", code, slices.Sorted(maps.Keys(languages)))
		l := le.Languages[code]
		require.NotNil(t, l, "Kolibri's getlang(%q) names no language", code)
		require.Equal(t, models.LanguageOf(code).Name, l.Name, "getlang(%q) names the language as studio does", code)
		require.Equal(t, language{Code: l.PrimaryCode, Subcode: l.Subcode, Name: l.NativeName, Direction: l.TextDirection}, got,
			"content_language %q is split and named as getlang(%q) says", code, code)
	}

	// The nodes' languages and label columns, comma-separated ids.
	cols := slices.Clone(models.LabelFields)
	rows, err = k.Query(`SELECT id, lang_id, `+strings.Join(cols, ", ")+` FROM content_contentnode WHERE channel_id = ?`, channelID)
	require.NoError(t, err)
	got := map[string]kolibriMeta{}
	for rows.Next() {
		var id string
		var lang sql.NullString
		vals := make([]sql.NullString, len(cols))
		dest := []any{&id, &lang}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		require.NoError(t, rows.Scan(dest...))
		m := kolibriMeta{Lang: lang.String, Labels: map[string][]string{}}
		for i, v := range vals {
			if v.String != "" {
				m.Labels[cols[i]] = strings.Split(v.String, ",")
			}
		}
		got[id] = m
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for id, w := range want {
		g, ok := got[id]
		require.True(t, ok, "node %s is not in Kolibri's database", id)
		require.Equal(t, w.Lang, g.Lang, "node %s: lang_id", id)
		for _, col := range cols {
			require.ElementsMatch(t, w.Labels[col], g.Labels[col], "node %s: %s", id, col)
			for _, label := range w.Labels[col] {
				require.Contains(t, le.Labels[modules[col]], label, "%s: Kolibri's le-utils (labels.%s) has no label %q", col, modules[col], label)
			}
		}
	}

	// Files' languages.
	rows, err = k.Query(`SELECT f.local_file_id, f.lang_id FROM content_file f
		JOIN content_contentnode n ON n.id = f.contentnode_id WHERE n.channel_id = ?`, channelID)
	require.NoError(t, err)
	gotFiles := map[string]string{}
	for rows.Next() {
		var id string
		var lang sql.NullString
		require.NoError(t, rows.Scan(&id, &lang))
		if _, ok := fileLangs[id]; ok {
			gotFiles[id] = lang.String
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	require.Equal(t, fileLangs, gotFiles, "content_file.lang_id")

	// Kolibri lists the channel's languages from its available nodes'.
	var included []string
	rows, err = k.Query(`SELECT language_id FROM content_channelmetadata_included_languages WHERE channelmetadata_id = ?`, channelID)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		included = append(included, id)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, m := range want {
		require.Contains(t, included, m.Lang, "the channel's included languages")
	}
}
