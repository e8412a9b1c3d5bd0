package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/server"
)

// TestRelayNode: node and nodes find anything by id, whatever its type,
// and only what the caller may view; their statements do not grow with
// the number of ids (100 of mixed types cost what 10 do).
func TestRelayNode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAPI(t, d, server.Config{})
		admin := dbtest.User(t, d, "admin@example.org", true)
		ed := dbtest.User(t, d, "ed@example.org", false)
		edToken, adminToken := dbtest.Token(t, d, ed), dbtest.Token(t, d, admin)
		strangerToken := dbtest.Token(t, d, dbtest.User(t, d, "stranger@example.org", false))
		ch := dbtest.Channel(t, d, ed, "Maths")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), dbtest.Topics(10, 9)+"exercise Ex\n")
		_, err := d.Apply(ctx, ed, []db.Change{
			{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: n["Ex"].ID, Mods: map[string]any{"extra_fields.randomize": true}},
			{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []models.ID{n["Ex"].ID, models.NewID()}, Obj: map[string]any{"type": "input_question", "question": "?"}},
		}, true)
		require.NoError(t, err)
		items, err := d.AssessmentItemsByNode(ctx, []models.ID{n["Ex"].ID})
		require.NoError(t, err)
		item := items[n["Ex"].ID][0].ID // its own id, not its assessment_id
		var nodeIDs []models.ID
		for _, x := range n {
			nodeIDs = append(nodeIDs, x.ID)
		}
		files, err := d.FilesByNode(ctx, nodeIDs)
		require.NoError(t, err)
		var fileID models.ID
		for _, fs := range files {
			fileID = fs[0].ID
			break
		}
		job, err := jobs.RequestPublish(ctx, d, a.jobs, ed, ch.ID, "", false)
		require.NoError(t, err)

		ids := []string{ch.ID.String(), n["Ex"].ID.String(), fileID.String(), item.String(), models.JobID(job).String(), ed.ID.String(), models.NewID().String()}
		query := `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`
		typenames := func(token string) []any {
			t.Helper()
			var out []any
			for _, v := range a.OK(token, query, map[string]any{"ids": ids})["nodes"].([]any) {
				if v == nil {
					out = append(out, nil)
					continue
				}
				require.Equal(t, ids[len(out)], get(v, "id"))
				out = append(out, get(v, "__typename"))
			}
			return out
		}
		require.Equal(t, []any{"Channel", "ContentNode", "File", "AssessmentItem", "Job", "User", nil}, typenames(edToken))
		require.Equal(t, []any{nil, nil, nil, nil, nil, nil, nil}, typenames(strangerToken), "nothing of a private channel, nor another user")
		require.Equal(t, []any{nil, nil, nil, nil, nil, nil, nil}, typenames(""))
		require.Equal(t, "Channel", get(a.OK(edToken, `query($id: ID!) { node(id: $id) { __typename ... on Channel { name } } }`, map[string]any{"id": ch.ID}), "node", "__typename"))

		// Statements: 10 ids against 100, mixed.
		mixed := func(k int) []string {
			var out []string
			for i := 0; len(out) < k; i++ {
				out = append(out, nodeIDs[i%len(nodeIDs)].String(), ch.ID.String(), fileID.String(), item.String(), models.JobID(job).String())
			}
			return out[:k]
		}
		count := func(k int) any {
			r := a.Do(adminToken, query, map[string]any{"ids": mixed(k)}, "X-Studio-Debug", "1")
			require.Empty(t, r.Errors, "%s", r.Body)
			return r.Extensions["sqlQueries"]
		}
		d.SetTokenClock(func() time.Time { return time.Unix(0, 0) }) // the token stays remembered
		count(1)                                                     // which this remembers
		require.Equal(t, count(10), count(100), "statements for 10 and 100 ids")
		r := a.Do(edToken, query, map[string]any{"ids": make([]string, 1001)})
		require.Equal(t, "BAD_USER_INPUT", r.Code(), "at most 1,000 ids")

		// No client-chosen id can be a job's: job ids begin with 16 zeros,
		// NewID's never do.
		jobShaped := models.JobID(987654).String()
		for _, q := range []string{
			`mutation($id: ID!, $p: ID!) { createContentNodes(input: [{id: $id, parentId: $p, kind: topic, title: "T"}]) { id } }`,
			`mutation($id: ID!) { createChannel(input: {id: $id, name: "C", language: "en"}) { id } }`,
		} {
			r := a.Do(edToken, q, map[string]any{"id": jobShaped, "p": ch.RootID})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s", r.Body)
			require.Contains(t, string(r.Body), "kept for jobs")
		}

		// Nor another entity's: ids are unique across types, as node(id) needs.
		for _, c := range []struct{ query, id string }{
			{`mutation($id: ID!, $p: ID!) { createContentNodes(input: [{id: $id, parentId: $p, kind: topic, title: "T"}]) { id } }`, ch.ID.String()},
			{`mutation($id: ID!, $p: ID!) { createContentNodes(input: [{id: $id, parentId: $p, kind: topic, title: "T"}]) { id } }`, ed.ID.String()},
			{`mutation($id: ID!) { createChannel(input: {id: $id, name: "C", language: "en"}) { id } }`, fileID.String()},
			{`mutation($id: ID!, $p: ID!) { copyContentNodes(input: [{id: $id, sourceId: $p, target: $p}]) { id } }`, item.String()},
		} {
			r := a.Do(edToken, c.query, map[string]any{"id": c.id, "p": ch.RootID})
			require.Equal(t, "CONFLICT", r.Code(), "%s", r.Body)
		}
	})
}
