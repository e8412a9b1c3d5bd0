package server_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

// The tree calls (create_channel, add_nodes, finish_channel) through HTTP,
// as ricecooker sends them. They need db's chef functions (db/chef.go).

// chefNode is a node dict as ricecooker 0.8.0 sends it (the trace in
// reference/ricecooker-trace.jsonl), with mods applied.
func chefNode(kind, sourceID, title string, mods map[string]any) map[string]any {
	n := map[string]any{"title": title, "language": nil, "description": "", "node_id": models.NewID().String(),
		"content_id": models.NewID().String(), "source_domain": "9a0f1a7f88905dd0a8f4c57d84f3a5b1", "source_id": sourceID,
		"author": "", "aggregator": "", "provider": "", "files": []any{}, "tags": []any{}, "kind": kind,
		"license": nil, "license_description": nil, "copyright_holder": "", "questions": []any{}, "extra_fields": "{}",
		"grade_levels": []any{}, "resource_types": []any{}, "learning_activities": []any{}, "accessibility_labels": []any{},
		"categories": []any{}, "learner_needs": []any{}, "role": "learner"}
	if kind != models.KindTopic {
		n["license"], n["copyright_holder"], n["suggested_duration"] = "CC BY", "Ricecooker Check", nil
	}
	for k, v := range mods {
		n[k] = v
	}
	return n
}

// chefUpload uploads data through upload_url and its PUT, and returns its
// "<md5>.<ext>".
func chefUpload(t *testing.T, a *api, token string, data []byte, ext, preset string) string {
	t.Helper()
	r := a.chef(token, http.MethodPost, "/api/file/upload_url", uploadRequest(data, ext, preset, nil))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, http.StatusOK, put(t, r.json(t)["uploadURL"].(string), token, data).Status)
	return md5hex(data) + "." + ext
}

func createChefChannel(t *testing.T, a *api, token string, id models.ID, name string) (chefResponse, string) {
	t.Helper()
	r := a.chef(token, http.MethodPost, "/api/internal/create_channel", map[string]any{"channel_data": map[string]any{
		"id": id, "name": name, "thumbnail": nil, "language": "en", "description": "Uploaded by a chef", "tagline": "",
		"license": nil, "source_domain": "ricecooker-check.example.org", "source_id": "check", "ricecooker_version": "0.8.0",
		"extra_fields": "{}", "files": []any{}}})
	if r.Status != http.StatusOK {
		return r, ""
	}
	return r, r.json(t)["root"].(string)
}

func addChefNodes(a *api, token, root string, nodes ...map[string]any) chefResponse {
	return a.chef(token, http.MethodPost, "/api/internal/add_nodes", map[string]any{"root_id": root, "content_data": nodes})
}

// TestChefTree uploads a small tree as ricecooker does and deploys it:
// nothing shows before finish_channel; the ids sent are kept; a second
// add_nodes of the same nodes adds nothing; a missing blob is a per-call
// error.
func TestChefTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		pdf := chefUpload(t, a, token, []byte("%PDF-1.4 the chef's document"), "pdf", "document")

		channelID := models.NewID()
		r, root := createChefChannel(t, a, token, channelID, "Ricecooker check")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, channelID.String(), r.json(t)["channel_id"])

		topic := chefNode(models.KindTopic, "topic-1", "Topic one", nil)
		r = addChefNodes(a, token, root, topic)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		rootIDs := r.json(t)["root_ids"].(map[string]any)
		topicID, ok := rootIDs[topic["node_id"].(string)].(string)
		require.True(t, ok, "root_ids names the topic: %s", r.Body)

		doc := chefNode(models.KindDocument, "doc-1", "A document", map[string]any{"tags": []any{"check"},
			"learning_activities": []any{"wA01urpi"},
			"files": []any{map[string]any{"size": 28, "preset": "document", "filename": pdf, "original_filename": "sample.pdf",
				"language": nil, "source_url": nil, "duration": nil}}})
		exercise := chefNode(models.KindExercise, "ex-1", "An exercise", map[string]any{
			"extra_fields": `{"mastery_model": "m_of_n", "m": 1, "n": 1, "randomize": true}`,
			"questions": []any{map[string]any{"assessment_id": models.NewID().String(), "type": "single_selection", "files": []any{},
				"question": "What is 2 + 2?", "hints": `[{"hint": "Count.", "order": 0}]`,
				"answers":  `[{"answer": "3", "correct": false, "order": 0}, {"answer": "4", "correct": true, "order": 1}]`,
				"raw_data": "", "source_url": nil, "randomize": false}}})
		r = addChefNodes(a, token, topicID, doc, exercise)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		rootIDs = r.json(t)["root_ids"].(map[string]any)
		require.Len(t, rootIDs, 2, "root_ids has every node_id sent")

		// Sent again (a retried call), nothing is added, and root_ids still
		// names every node, which ricecooker needs to go on.
		r = addChefNodes(a, token, topicID, doc, exercise)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, rootIDs, r.json(t)["root_ids"])

		// A file the store does not have fails the call, not the server.
		missing := chefNode(models.KindDocument, "doc-2", "Missing", map[string]any{"files": []any{map[string]any{
			"size": 3, "preset": "document", "filename": md5hex([]byte("never uploaded")) + ".pdf"}}})
		r = addChefNodes(a, token, topicID, missing)
		require.NotEqual(t, http.StatusOK, r.Status)
		require.Less(t, r.Status, 500, "%s", r.Body)

		tree := `query($id: ID!) { channel(id: $id) { name root { children { edges { node {
			nodeId contentId kind title children { edges { node { nodeId contentId kind title complete tags
				files { checksum } assessmentItems { assessmentId } } } } } } } } } }`
		before := a.OK(token, tree, map[string]any{"id": channelID})
		require.Empty(t, get(before, "channel", "root", "children", "edges"), "nothing shows before finish_channel")

		r = a.chef(token, http.MethodPost, "/api/internal/finish_channel", map[string]any{"channel_id": channelID, "stage": false})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, channelID.String(), r.json(t)["new_channel"])

		after := a.OK(token, tree, map[string]any{"id": channelID})
		require.Equal(t, "Ricecooker check", get(after, "channel", "name"))
		top := get(after, "channel", "root", "children", "edges", 0, "node")
		require.Equal(t, topic["node_id"], get(top, "nodeId"))
		require.Equal(t, topic["content_id"], get(top, "contentId"))
		kids := get(top, "children", "edges").([]any)
		require.Len(t, kids, 2)
		for i, sent := range []map[string]any{doc, exercise} {
			n := get(kids[i], "node")
			require.Equal(t, sent["node_id"], get(n, "nodeId"), "node_id kept")
			require.Equal(t, sent["content_id"], get(n, "contentId"), "content_id kept")
			require.Equal(t, true, get(n, "complete"), "%v", n)
		}
		require.Equal(t, md5hex([]byte("%PDF-1.4 the chef's document")), get(kids[0], "node", "files", 0, "checksum"))
		require.Len(t, get(kids[1], "node", "assessmentItems"), 1)

		r = a.chef(token, http.MethodPost, "/api/internal/publish_channel", map[string]any{"channel_id": channelID})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})
}

// TestChefTreePermissions: a chef uploads only into channels it edits, and
// under topics of its own upload.
func TestChefTreePermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		channelID := models.NewID()
		r, root := createChefChannel(t, a, token, channelID, "The chef's")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = addChefNodes(a, token, root, chefNode(models.KindDocument, "doc-1", "A document", map[string]any{"license": "CC BY"}))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var docID string
		for _, id := range r.json(t)["root_ids"].(map[string]any) {
			docID = id.(string)
		}

		// Someone else's channel id.
		r, _ = createChefChannel(t, a, stranger, channelID, "Taken over")
		require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, "%s", r.Body)
		require.Equal(t, "The chef's", get(a.OK(token, `query($id: ID!) { channel(id: $id) { name } }`,
			map[string]any{"id": channelID}), "channel", "name"))

		for _, tc := range []struct {
			name, token, parent string
			status              int
		}{
			{"under a node the caller cannot edit", stranger, root, http.StatusNotFound},
			{"under an unknown node", token, models.NewID().String(), http.StatusNotFound},
			{"under a resource", token, docID, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := addChefNodes(a, tc.token, tc.parent, chefNode(models.KindTopic, "t", "A topic", nil))
				require.Equal(t, tc.status, r.Status, "%s", r.Body)
			})
		}

		r = a.chef(stranger, http.MethodPost, "/api/internal/finish_channel", map[string]any{"channel_id": channelID, "stage": false})
		require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, "%s", r.Body)
		r = a.chef(token, http.MethodPost, "/api/internal/finish_channel", map[string]any{"channel_id": models.NewID(), "stage": false})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	})
}
