package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/demo"
	"studio/kolibri/kolibritest"
)

// TestKolibriImportBack is the round trip through a real Kolibri: studio
// publishes a channel with every kind of content (topics, a video with a
// subtitle and a thumbnail, a document, an audio file, an exercise with
// four kinds of question and images, tags, prerequisites, labels, several
// languages); Kolibri imports it, and its own server serves it; another
// studio imports the channel from that Kolibri (and, again, from the
// folder `kolibri manage exportchannel` writes), publishes it, and the two
// content databases must be equal, table by table, every row, ids and all
// (the version and times excepted). On each database.
func TestKolibriImportBack(t *testing.T) {
	kolibri := kolibriExecutable(t)
	started := time.Now()
	bin := buildStudio(t)

	a := startStudio(t, bin)
	api := newClient(t, a.base, a.token)
	channelID := importBackChannel(t, api)
	require.Equal(t, 1, *publishAndWait(t, api, channelID, "For Kolibri and back", false))
	published := download(t, a.base+"/content/databases/"+channelID+"-1.sqlite3")

	// Kolibri imports it, channel and content, then exports it to a folder.
	home := t.TempDir()
	runKolibri(t, kolibri, home, "manage", "importchannel", "network", channelID, "--baseurl", a.base+"/")
	runKolibri(t, kolibri, home, "manage", "importcontent", "--fail-on-error", "network", channelID, "--baseurl", a.base+"/")
	drive := t.TempDir()
	runKolibri(t, kolibri, home, "manage", "exportchannel", channelID, drive)
	runKolibri(t, kolibri, home, "manage", "exportcontent", channelID, drive)
	require.FileExists(t, filepath.Join(drive, "content", "databases", channelID+".sqlite3"))
	k := startKolibriIn(t, kolibri, home)
	k.waitUp(t)
	t.Logf("Kolibri serves the channel at %s after %v", k.base, time.Since(started).Round(time.Second))

	for _, src := range []struct{ name, source string }{{"from Kolibri's server", k.base}, {"from an exported folder", drive}} {
		for _, kind := range dbtest.Kinds() {
			t.Run(src.name+"/"+string(kind), func(t *testing.T) {
				var args []string
				if kind == db.Postgres {
					args = []string{"--database-url", dbtest.URL(t, kind)}
				}
				b := startStudio(t, bin, args...)
				bapi := newClient(t, b.base, b.token)
				job := importAndWait(t, bapi, src.source, channelID)
				require.Empty(t, job.Import.Warnings, "the import left nothing out")
				require.Equal(t, 1, *job.Import.SourceVersion)
				var ch struct {
					Channel struct {
						ImportedFrom struct{ SourceChannelID string }
					}
				}
				bapi.do(`query($id: ID!) { channel(id: $id) { importedFrom { sourceChannelId } } }`, map[string]any{"id": channelID}, &ch)
				require.Equal(t, channelID, ch.Channel.ImportedFrom.SourceChannelID)
				require.Equal(t, 2, *publishAndWait(t, bapi, channelID, "Published back", false), "the next version of the source's")
				republished := download(t, b.base+"/content/databases/"+channelID+"-2.sqlite3")
				diffs, err := kolibritest.Compare(context.Background(), published, republished)
				require.NoError(t, err)
				for _, d := range diffs {
					t.Errorf("%s", d)
				}
			})
		}
	}
	t.Logf("TestKolibriImportBack took %v", time.Since(started).Round(time.Second))
}

// importJob is what the test reads of an import's job.
type importJob struct {
	State    string
	Progress int
	Error    *string
	Import   struct {
		SourceVersion *int
		Warnings      []string
	}
}

// importAndWait imports channel from source and waits for the job.
func importAndWait(t *testing.T, api *client, source, channel string) importJob {
	t.Helper()
	var res struct{ ImportChannel struct{ ID string } }
	api.do(`mutation($s: String!, $c: String!) { importChannel(source: $s, channel: $c) { id } }`,
		map[string]any{"s": source, "c": channel}, &res)
	began := time.Now()
	for {
		var j struct{ Job *importJob }
		api.do(`query($id: ID!) { job(id: $id) { state progress error import { sourceVersion warnings } } }`,
			map[string]any{"id": res.ImportChannel.ID}, &j)
		require.NotNil(t, j.Job)
		switch j.Job.State {
		case "COMPLETED":
			t.Logf("imported from %s in %v", source, time.Since(began).Round(10*time.Millisecond))
			return *j.Job
		case "FAILED", "CANCELLED":
			t.Fatalf("import from %s: %s: %s", source, j.Job.State, jobError(j.Job.Error))
		}
		require.Less(t, time.Since(began), 2*time.Minute, "import still %s (%d%%): %s", j.Job.State, j.Job.Progress, jobError(j.Job.Error))
		time.Sleep(100 * time.Millisecond)
	}
}

// download fetches url into a file of the test's.
func download(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	path := filepath.Join(t.TempDir(), filepath.Base(url))
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

// importBackChannel makes the channel TestKolibriImportBack sends round.
func importBackChannel(t *testing.T, api *client) string {
	t.Helper()
	var created struct {
		CreateChannel struct {
			ID   string
			Root struct{ ID string }
		}
	}
	api.do(`mutation($in: CreateChannelInput!) { createChannel(input: $in) { id root { id } } }`,
		map[string]any{"in": map[string]any{"name": "Import back test", "description": "To Kolibri and back", "tagline": "Round trip", "language": "en"}}, &created)
	channelID, root := created.CreateChannel.ID, created.CreateChannel.Root.ID
	create := func(in ...any) []kolibriNode {
		var out struct{ CreateContentNodes []kolibriNode }
		api.do(`mutation($in: [CreateContentNodeInput!]!) { createContentNodes(input: $in) { `+kolibriNodeFields+` } }`,
			map[string]any{"in": in}, &out)
		require.Len(t, out.CreateContentNodes, len(in))
		return out.CreateContentNodes
	}
	topics := create(
		map[string]any{"parentId": root, "kind": "topic", "title": "Watch and read", "language": "zul", "description": "Videos and books",
			"gradeLevels": []string{"wnarlxKo"}, "categories": []string{"d&WXdXWF.qs0Xlaxq"}},
		map[string]any{"parentId": root, "kind": "topic", "title": "Practice", "language": "sr-LATN", "resourceTypes": []string{"xgFjFhrA"}},
	)
	watch, practice := topics[0].ID, topics[1].ID
	listen := create(map[string]any{"parentId": watch, "kind": "topic", "title": "Listen"})[0].ID
	resource := func(parent, kind, title string, more map[string]any) map[string]any {
		in := map[string]any{"parentId": parent, "kind": kind, "title": title, "license": "CC BY", "copyrightHolder": "Learning Equality",
			"author": "TestKolibriImportBack", "description": "About " + title}
		for k, v := range more {
			in[k] = v
		}
		return in
	}
	mastery := map[string]any{"randomize": true, "options": map[string]any{"completion_criteria": map[string]any{
		"model": "mastery", "threshold": map[string]any{"mastery_model": "m_of_n", "m": 2, "n": 3}}}}
	nodes := create(
		resource(watch, "video", "A short video", map[string]any{"language": "und", "tags": []string{"motion", "light"},
			"learningActivities": []string{"UD5UGM0z", "3dSeJhqs"}, "accessibilityLabels": []string{"WnIhbgkY"}}),
		resource(watch, "document", "A page", map[string]any{"language": "zul", "tags": []string{"reading"}, "roleVisibility": "coach",
			"license": "Special Permissions", "licenseDescription": "Ask us first", "learningActivities": []string{"wA01urpi"}}),
		resource(listen, "audio", "A tune", map[string]any{"learnerNeeds": []string{"sccgQZDd.sAQsauuo"}}),
		resource(practice, "exercise", "Four questions", map[string]any{"language": "sr-LATN", "extraFields": mastery, "tags": []string{"motion"},
			"categories": []string{"d&WXdXWF.qs0Xlaxq.0t5msbL5"}}),
	)
	video, document, audio, exercise := nodes[0].ID, nodes[1].ID, nodes[2].ID, nodes[3].ID

	api.upload("short.mp4", demo.Video(), map[string]any{"preset": "high_res_video", "nodeId": video, "duration": 3})
	api.upload("short.vtt", []byte("WEBVTT\n\n00:00.000 --> 00:02.000\nSawubona\n"), map[string]any{"preset": "video_subtitle", "nodeId": video, "language": "sr-LATN"})
	api.upload("thumb.png", demo.Thumbnail(), map[string]any{"preset": "video_thumbnail", "nodeId": video})
	api.upload("page.pdf", demo.PDF("A page", []string{"To Kolibri and back."}), map[string]any{"preset": "document", "nodeId": document})
	api.upload("tune.mp3", demo.Audio(), map[string]any{"preset": "audio", "nodeId": audio, "duration": 2})

	// Questions of four kinds, two with images.
	picture, diagram := demo.Thumbnail(), append(demo.Thumbnail(), 0) // distinct bytes
	sum := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
	raw := `{"question":{"content":"Simplify: ![diagram](${☣ CONTENTSTORAGE}/` + sum(diagram) + `.png)\n\n[[☃ expression 1]]","images":{},` +
		`"widgets":{"expression 1":{"type":"expression","graded":true,"options":{"answerForms":[{"value":"x+1","form":true,"simplify":false,"considered":"correct"}]}}}},` +
		`"answerArea":{"calculator":false},"itemDataVersion":{"major":0,"minor":1},"hints":[]}`
	var items struct {
		CreateAssessmentItems []struct{ ID, AssessmentID string }
	}
	api.do(`mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { id assessmentId } }`,
		map[string]any{"in": []any{
			map[string]any{"nodeId": exercise, "type": "single_selection", "order": 1, "randomize": true,
				"question": "Which picture? ![a picture](${☣ CONTENTSTORAGE}/" + sum(picture) + ".png =64x48)",
				"answers":  []any{map[string]any{"answer": "This", "correct": true, "order": 1}, map[string]any{"answer": "That", "correct": false, "order": 2}},
				"hints":    []any{map[string]any{"hint": "Look closely.", "order": 1}}},
			map[string]any{"nodeId": exercise, "type": "multiple_selection", "order": 2, "question": "Which are even?",
				"answers": []any{map[string]any{"answer": "2", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": false, "order": 2},
					map[string]any{"answer": "8", "correct": true, "order": 3}}},
			map[string]any{"nodeId": exercise, "type": "input_question", "order": 3, "question": "What is 6 × 7?",
				"answers": []any{map[string]any{"answer": "42", "correct": true, "order": 1}}},
			map[string]any{"nodeId": exercise, "type": "perseus_question", "order": 4, "question": "", "rawData": raw},
		}}, &items)
	require.Len(t, items.CreateAssessmentItems, 4)
	api.upload("picture.png", picture, map[string]any{"preset": "exercise_image", "assessmentItemId": items.CreateAssessmentItems[0].ID})
	api.upload("diagram.png", diagram, map[string]any{"preset": "exercise_image", "assessmentItemId": items.CreateAssessmentItems[3].ID})

	var pre struct{ AddPrerequisites []struct{ ID string } }
	api.do(`mutation($in: [PrerequisiteInput!]!) { addPrerequisites(input: $in) { id } }`, map[string]any{"in": []any{
		map[string]any{"nodeId": exercise, "prerequisiteId": video}, map[string]any{"nodeId": exercise, "prerequisiteId": document}}}, &pre)

	var check struct{ ContentNodes []*kolibriNode }
	ids := []string{watch, practice, listen, video, document, audio, exercise}
	api.do(`query($ids: [ID!]!) { contentNodes(ids: $ids) { `+kolibriNodeFields+` } }`, map[string]any{"ids": ids}, &check)
	for _, n := range check.ContentNodes {
		require.True(t, n.Complete, "%s %q is complete, or the publish leaves it out", n.Kind, n.Title)
	}
	return channelID
}
