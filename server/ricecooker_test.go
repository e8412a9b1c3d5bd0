package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

// chefResponse is an answer of the internal API.
type chefResponse struct {
	Status int
	Body   []byte
}

// json decodes the body.
func (r chefResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "HTTP %d: %s", r.Status, r.Body)
	return m
}

// chef sends a call as ricecooker does: the body JSON-encoded (raw when a
// string or []byte) with no Content-Type, the token as "Token <token>"
// (header, if given, replaces the Authorization header).
func (a *api) chef(token, method, path string, body any, header ...string) chefResponse {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	require.NoError(a.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return chefResponse{Status: resp.StatusCode, Body: raw}
}

// TestChefAuthentication: ricecooker's first call, with its "Token"
// scheme, which every endpoint takes as it takes "Bearer"; /graphql too.
func TestChefAuthentication(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		u := dbtest.User(t, d, "chef@example.org", false)
		token := dbtest.Token(t, d, u)
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			r := a.chef(token, method, "/api/internal/authenticate_user_internal", nil)
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", method, r.Body)
			body := r.json(t)
			require.Equal(t, "chef@example.org", body["username"])
			require.Equal(t, true, body["success"])
			require.Equal(t, u.ID.String(), body["user_id"])
			require.Equal(t, false, body["is_admin"])
		}
		for _, tc := range []struct {
			name, header string
			status       int
		}{
			{"Bearer", "Bearer " + token, http.StatusOK},
			{"Token", "Token " + token, http.StatusOK},
			{"the scheme in lower case", "token " + token, http.StatusOK},
			{"no header", "", http.StatusUnauthorized},
			{"an unknown token", "Token studio_unknown", http.StatusUnauthorized},
			{"not a studio token", "Token abc", http.StatusUnauthorized},
			{"another scheme", "Basic " + token, http.StatusUnauthorized},
			{"no token", "Token", http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := a.chef("", http.MethodPost, "/api/internal/authenticate_user_internal", nil, "Authorization", tc.header)
				require.Equal(t, tc.status, r.Status, "%s", r.Body)
				// /graphql takes the same headers.
				if tc.header != "" {
					g := a.Do("", "{ me { email } }", nil, "Authorization", tc.header)
					if tc.status == http.StatusOK {
						require.Empty(t, g.Errors)
						require.Equal(t, "chef@example.org", get(g.Data, "me", "email"))
					} else {
						require.Equal(t, http.StatusUnauthorized, g.Status)
						require.Equal(t, "UNAUTHENTICATED", g.Code())
					}
				}
			})
		}
		// Every call of the internal API needs the token.
		for _, path := range []string{"/api/internal/check_version", "/api/internal/create_channel", "/api/internal/add_nodes",
			"/api/internal/finish_channel", "/api/internal/publish_channel", "/api/internal/get_channel_status_bulk",
			"/api/internal/file_diff", "/api/internal/file_upload", "/api/file/upload_url"} {
			r := a.chef("", http.MethodPost, path, `{}`)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s", path, r.Body)
			r = a.chef("studio_unknown", http.MethodPost, path, `{}`)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%s: %s", path, r.Body)
		}
	})
}

// TestChefCheckVersion: Studio's thresholds, and its messages; the body is
// JSON with no Content-Type.
func TestChefCheckVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		for _, tc := range []struct {
			version string
			status  int
		}{
			{"0.8.0", 0}, {"0.7.3", 0}, {"1.0", 0}, {"0.10.0", 0}, {"0.7.4b1", 0},
			{"0.7.2", 1}, {"0.7.0", 1},
			{"0.6.99", 2}, {"0.6.21", 2},
			{"0.6.20", 3}, {"0.5", 3}, {"0", 3},
		} {
			r := a.chef(token, http.MethodPost, "/api/internal/check_version", map[string]any{"version": tc.version})
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", tc.version, r.Body)
			body := r.json(t)
			require.EqualValues(t, tc.status, body["status"], tc.version)
			require.Contains(t, body["message"], "v"+tc.version, tc.version)
		}
		r := a.chef(token, http.MethodPost, "/api/internal/check_version", map[string]any{"version": "0.8.0"})
		require.JSONEq(t, `{"success": true, "status": 0, "message": "Ricecooker v0.8.0 is up-to-date."}`, string(r.Body))

		for _, body := range []any{nil, `{}`, `{"version": "latest"}`, `{"version": 8}`, `not json`, `{"version": "0.8.0"} {}`} {
			r := a.chef(token, http.MethodPost, "/api/internal/check_version", body)
			require.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", body, r.Body)
			require.Contains(t, string(r.Body), "BAD_USER_INPUT")
		}
	})
}

// TestChefPayloadsRefused: malformed create_channel, add_nodes and
// finish_channel bodies are 400 with the field named, before the database
// is asked.
func TestChefPayloadsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		token := dbtest.Token(t, d, dbtest.User(t, d, "chef@example.org", false))
		id := models.NewID().String()
		node := func(mods map[string]any) map[string]any {
			n := map[string]any{"node_id": models.NewID().String(), "content_id": models.NewID().String(), "kind": "exercise",
				"title": "An exercise", "license": "CC BY", "extra_fields": `{"mastery_model": "do_all"}`,
				"questions": []any{map[string]any{"assessment_id": models.NewID().String(), "type": "single_selection",
					"question": "?", "answers": `[{"answer": "a", "correct": true, "order": 0}]`, "hints": "[]", "files": []any{}}}}
			for k, v := range mods {
				n[k] = v
			}
			return n
		}
		question := func(mods map[string]any) map[string]any {
			q := node(nil)["questions"].([]any)[0].(map[string]any)
			for k, v := range mods {
				q[k] = v
			}
			return node(map[string]any{"questions": []any{q}})
		}
		addNodes := func(nodes ...any) map[string]any { return map[string]any{"root_id": id, "content_data": nodes} }
		sameQuestion := node(nil)
		sameQuestion["questions"] = append(sameQuestion["questions"].([]any), sameQuestion["questions"].([]any)[0])
		for _, tc := range []struct {
			name, path string
			body       any
			want       string
		}{
			{"create_channel without channel_data", "/api/internal/create_channel", `{}`, "channel_data is missing"},
			{"a channel id that is not one", "/api/internal/create_channel", map[string]any{"channel_data": map[string]any{"id": "x"}}, "channel_data.id"},
			{"extra_fields not JSON", "/api/internal/create_channel", map[string]any{"channel_data": map[string]any{"id": id, "extra_fields": "{"}}, "channel_data.extra_fields"},
			{"extra_fields a list", "/api/internal/create_channel", map[string]any{"channel_data": map[string]any{"id": id, "extra_fields": "[]"}}, "an object"},
			{"a thumbnail not named by its md5", "/api/internal/create_channel", map[string]any{"channel_data": map[string]any{"id": id, "thumbnail": "logo.png"}}, "channel_data.thumbnail"},
			{"a root id that is not one", "/api/internal/add_nodes", map[string]any{"root_id": "root", "content_data": []any{}}, "root_id"},
			{"a node without a node id", "/api/internal/add_nodes", addNodes(node(map[string]any{"node_id": nil})), "content_data[0]"},
			{"a node without a kind", "/api/internal/add_nodes", addNodes(node(nil), node(map[string]any{"kind": nil})), "content_data[1]"},
			{"a node without a content id", "/api/internal/add_nodes", addNodes(node(map[string]any{"content_id": nil})), "content_id is missing"},
			{"a copy without its source", "/api/internal/add_nodes", addNodes(map[string]any{"node_id": id, "source_channel_id": id}), "source_node_id"},
			{"a title that is a number", "/api/internal/add_nodes", addNodes(node(map[string]any{"title": 3})), "content_data[0]"},
			{"extra_fields that are not JSON", "/api/internal/add_nodes", addNodes(node(map[string]any{"extra_fields": "{mastery"})), "extra_fields"},
			{"a file not named by its md5", "/api/internal/add_nodes", addNodes(node(map[string]any{"files": []any{map[string]any{"filename": "a.pdf", "preset": "document"}}})), "files[0]"},
			{"a file without a preset", "/api/internal/add_nodes", addNodes(node(map[string]any{"files": []any{map[string]any{"filename": strings.Repeat("a", 32) + ".pdf"}}})), "no preset"},
			{"labels that are not ids", "/api/internal/add_nodes", addNodes(node(map[string]any{"categories": "all"})), "label ids"},
			{"answers that are not a JSON list", "/api/internal/add_nodes", addNodes(question(map[string]any{"answers": `{"a": 1}`})), "answers"},
			{"hints that are not JSON", "/api/internal/add_nodes", addNodes(question(map[string]any{"hints": `[{`})), "hints"},
			{"an assessment id that is not one", "/api/internal/add_nodes", addNodes(question(map[string]any{"assessment_id": "q1"})), "assessment_id"},
			{"an assessment id twice", "/api/internal/add_nodes", addNodes(sameQuestion), "another question's"},
			{"finish_channel with a bad id", "/api/internal/finish_channel", map[string]any{"channel_id": "x", "stage": false}, "channel_id"},
			{"publish_channel with a bad id", "/api/internal/publish_channel", map[string]any{"channel_id": 12}, "JSON"},
			{"get_channel_status_bulk with a bad id", "/api/internal/get_channel_status_bulk", map[string]any{"channel_ids": []any{"x"}}, "channel_ids[0]"},
			{"a body that is not JSON", "/api/internal/add_nodes", `root_id=1`, "JSON"},
			{"an empty body", "/api/internal/create_channel", nil, "empty"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := a.chef(token, http.MethodPost, tc.path, tc.body)
				require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
				require.Contains(t, string(r.Body), tc.want)
				require.Contains(t, string(r.Body), "BAD_USER_INPUT")
			})
		}
		// A body over the limit is refused, not read to its end.
		r := a.chef(token, http.MethodPost, "/api/internal/add_nodes", `{"root_id": "`+strings.Repeat("a", 9<<20)+`"}`)
		require.Equal(t, http.StatusBadRequest, r.Status)
		require.Contains(t, string(r.Body), "over the limit")
		// ricecooker sends at most 10 nodes a call; more than 1,000 is refused.
		many := make([]any, 1001)
		for i := range many {
			many[i] = map[string]any{}
		}
		r = a.chef(token, http.MethodPost, "/api/internal/add_nodes", map[string]any{"root_id": id, "content_data": many})
		require.Equal(t, http.StatusBadRequest, r.Status)
		require.Contains(t, string(r.Body), "at most 1000")
	})
}

// completeChannel makes a channel that can be published: a language and a
// complete resource.
func completeChannel(t *testing.T, d *db.DB, u *models.User, name string) *models.Channel {
	t.Helper()
	ch := dbtest.Channel(t, d, u, name)
	dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "topic T\n  document D\n")
	return ch
}

// TestChefPublishChannel: publish_channel enqueues the publish and answers
// at once; get_channel_status_bulk says it is publishing. Only editors may.
func TestChefPublishChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{})
		editor := dbtest.User(t, d, "chef@example.org", false)
		token := dbtest.Token(t, d, editor)
		stranger := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		ch := completeChannel(t, d, editor, "Chef's")
		other := completeChannel(t, d, editor, "Other")
		ctx := context.Background()

		statuses := func(token string, ids ...models.ID) chefResponse {
			return a.chef(token, http.MethodPost, "/api/internal/get_channel_status_bulk", map[string]any{"channel_ids": ids})
		}
		r := statuses(token, ch.ID, other.ID)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, map[string]any{ch.ID.String(): "active", other.ID.String(): "active"}, r.json(t)["statuses"])

		// A stranger may neither publish nor ask.
		r = a.chef(stranger, http.MethodPost, "/api/internal/publish_channel", map[string]any{"channel_id": ch.ID})
		require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, "%s", r.Body)
		jobs, err := d.ChannelJobIDs(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Empty(t, jobs)
		require.Equal(t, http.StatusNotFound, statuses(stranger, ch.ID).Status)
		require.Equal(t, http.StatusNotFound, statuses(token, ch.ID, models.NewID()).Status, "every channel must be known")

		r = a.chef(token, http.MethodPost, "/api/internal/publish_channel", map[string]any{"channel_id": ch.ID, "version_notes": "From a chef"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, map[string]any{"success": true, "channel": ch.ID.String()}, r.json(t))
		jobs, err = d.ChannelJobIDs(ctx, ch.ID, 10)
		require.NoError(t, err)
		require.Len(t, jobs, 1, "the publish is queued (no worker runs here)")
		r = statuses(token, ch.ID, other.ID)
		require.Equal(t, map[string]any{ch.ID.String(): "publishing", other.ID.String(): "active"}, r.json(t)["statuses"])

		// An upload waiting to be deployed.
		_, _, err = d.BeginChefTree(ctx, editor, db.ChefChannel{ID: other.ID, Name: "Other", Language: "en"})
		require.NoError(t, err)
		_, err = d.FinishChefTree(ctx, editor, other.ID, true)
		require.NoError(t, err)
		r = statuses(token, other.ID)
		require.Equal(t, map[string]any{other.ID.String(): "staged"}, r.json(t)["statuses"])

		// A channel that cannot be published is 400, with nothing queued.
		empty := dbtest.Channel(t, d, editor, "Empty")
		r = a.chef(token, http.MethodPost, "/api/internal/publish_channel", map[string]any{"channel_id": empty.ID})
		require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)

		// A deleted channel's status.
		_, err = d.DeleteChannel(ctx, editor, other.ID)
		require.NoError(t, err)
		r = statuses(token, other.ID)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, map[string]any{other.ID.String(): "deleted"}, r.json(t)["statuses"])
	})
}
