package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

// budgetFixture is a fresh channel for one run of one operation: a topic
// Target and, beside it, n leaves L0… of the operation's kind.
type budgetFixture struct {
	root   models.ID
	target models.ID
	leaves []models.ID
	files  []models.ID // the leaves' files, in leaf order
	items  []any       // assessment items made by the operation's prepare step
}

// TestStatementBudgets: every multi-id operation runs as many SQL
// statements for 100 ids as for ten (and for one, but for what several
// says). An operation not yet constant has slope > 0: its count must be
// exactly base + slope*n.
func TestStatementBudgets(t *testing.T) {
	cases := []struct {
		name  string
		kind  string // of the leaves
		slope int    // statements per id; 0 when constant
		// several is what a call with more than one id adds, once (such
		// as reading the target's children to place the others after
		// the first).
		several int
		// logged is the change-log entries an id makes, when not one;
		// -1 for none.
		logged int
		// prepare runs before counting (not counted).
		prepare func(a *api, token string, f *budgetFixture)
		query   string
		vars    func(f *budgetFixture) map[string]any
		// check looks at the result of the counted call.
		check func(t *testing.T, d *db.DB, f *budgetFixture, data map[string]any)
	}{
		{name: "contentNodes", kind: "video", logged: -1,
			query: `query($ids: [ID!]!) { contentNodes(ids: $ids) { id } }`,
			vars:  func(f *budgetFixture) map[string]any { return map[string]any{"ids": anyIDs(f.leaves)} },
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["contentNodes"], len(f.leaves))
			}},
		{name: "updateContentNodes", kind: "video",
			query: `mutation($in: [UpdateContentNodeInput!]!) { updateContentNodes(input: $in) { id title } }`,
			vars: func(f *budgetFixture) map[string]any {
				in := make([]any, len(f.leaves))
				for i, id := range f.leaves {
					in[i] = map[string]any{"id": id.String(), "title": fmt.Sprintf("New %d", i), "addTags": []any{"t"}}
				}
				return map[string]any{"in": in}
			},
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Equal(t, "New 0", get(data, "updateContentNodes", 0, "title"))
			}},
		{name: "moveContentNodes", kind: "video",
			query: `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t) { id } }`,
			vars: func(f *budgetFixture) map[string]any {
				return map[string]any{"ids": anyIDs(f.leaves), "t": f.target.String()}
			},
			check: func(t *testing.T, d *db.DB, f *budgetFixture, _ map[string]any) {
				n := dbtest.Node(t, d, f.leaves[len(f.leaves)-1])
				require.Equal(t, f.target, *n.ParentID)
			}},
		// The nodes after the first go right of the one before: the
		// target's children are read once, to place them.
		{name: "moveContentNodes first child", kind: "video", several: 1,
			query: `mutation($ids: [ID!]!, $t: ID!) { moveContentNodes(ids: $ids, target: $t, position: FIRST_CHILD) { id } }`,
			vars: func(f *budgetFixture) map[string]any {
				return map[string]any{"ids": anyIDs(f.leaves), "t": f.target.String()}
			},
			check: func(t *testing.T, d *db.DB, f *budgetFixture, _ map[string]any) {
				n := dbtest.Node(t, d, f.leaves[len(f.leaves)-1])
				require.Equal(t, f.target, *n.ParentID)
			}},
		// Several copies are made together once the target's ancestors
		// show that none copies what another makes: one statement.
		{name: "copyContentNodes", kind: "video", logged: 2, several: 1, // the copy, and its new node_id
			query: `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
			vars: func(f *budgetFixture) map[string]any {
				in := make([]any, len(f.leaves))
				for i, id := range f.leaves {
					in[i] = map[string]any{"sourceId": id.String(), "target": f.target.String()}
				}
				return map[string]any{"in": in}
			},
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["copyContentNodes"], len(f.leaves))
			}},
		{name: "deleteContentNodes to the trash", kind: "video",
			query: `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids) }`,
			vars:  func(f *budgetFixture) map[string]any { return map[string]any{"ids": anyIDs(f.leaves)} },
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["deleteContentNodes"], len(f.leaves))
			}},
		{name: "deleteContentNodes permanently", kind: "video",
			query: `mutation($ids: [ID!]!) { deleteContentNodes(ids: $ids, permanent: true) }`,
			vars:  func(f *budgetFixture) map[string]any { return map[string]any{"ids": anyIDs(f.leaves)} },
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["deleteContentNodes"], len(f.leaves))
			}},
		{name: "createAssessmentItems", kind: "exercise",
			query: `mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { id } }`,
			vars: func(f *budgetFixture) map[string]any {
				in := make([]any, len(f.leaves))
				for i, id := range f.leaves {
					in[i] = map[string]any{"nodeId": id.String(), "type": "input_question", "question": fmt.Sprintf("Q%d?", i)}
				}
				return map[string]any{"in": in}
			},
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["createAssessmentItems"], len(f.leaves))
			}},
		{name: "updateAssessmentItems", kind: "exercise", prepare: createItems,
			query: `mutation($in: [UpdateAssessmentItemInput!]!) { updateAssessmentItems(input: $in) { id question } }`,
			vars: func(f *budgetFixture) map[string]any {
				in := make([]any, len(f.items))
				for i, k := range f.items {
					m := map[string]any{"question": "Changed?"}
					for key, v := range k.(map[string]any) {
						m[key] = v
					}
					in[i] = m
				}
				return map[string]any{"in": in}
			},
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Equal(t, "Changed?", get(data, "updateAssessmentItems", len(f.items)-1, "question"))
			}},
		{name: "deleteAssessmentItems", kind: "exercise", prepare: createItems,
			query: `mutation($in: [AssessmentItemKey!]!) { deleteAssessmentItems(input: $in) { nodeId } }`,
			vars:  func(f *budgetFixture) map[string]any { return map[string]any{"in": f.items} },
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["deleteAssessmentItems"], len(f.items))
			}},
		{name: "updateFiles", kind: "video",
			query: `mutation($in: [UpdateFileInput!]!) { updateFiles(input: $in) { id language { id } } }`,
			vars: func(f *budgetFixture) map[string]any {
				in := make([]any, len(f.files))
				for i, id := range f.files {
					in[i] = map[string]any{"id": id.String(), "language": "fr", "nodeId": f.leaves[(i+1)%len(f.leaves)].String()}
				}
				return map[string]any{"in": in}
			},
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Equal(t, "fr", get(data, "updateFiles", len(f.files)-1, "language", "id"))
			}},
		{name: "deleteFiles", kind: "video",
			query: `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`,
			vars:  func(f *budgetFixture) map[string]any { return map[string]any{"ids": anyIDs(f.files)} },
			check: func(t *testing.T, _ *db.DB, f *budgetFixture, data map[string]any) {
				require.Len(t, data["deleteFiles"], len(f.files))
			}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := newAPI(t, d, server.Config{Debug: true})
		u := dbtest.User(t, d, "ed@example.org", false)
		token := dbtest.Token(t, d, u)
		// The token's user is remembered for a while: stop the cache's
		// clock so a slow machine does not add a lookup to one count.
		stopped := time.Now()
		d.SetTokenClock(func() time.Time { return stopped })
		a.OK(token, `{ me { id } }`, nil)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				counts := map[int]int{}
				for _, n := range []int{1, 10, 100} {
					f := newBudgetFixture(t, d, u, c.kind, n)
					if c.prepare != nil {
						c.prepare(a, token, f)
					}
					r := a.Do(token, c.query, c.vars(f))
					require.Empty(t, r.Errors, "%d ids", n)
					c.check(t, d, f, r.Data)
					counts[n] = int(r.Extensions["sqlQueries"].(float64))
				}
				t.Logf("%s: %d, %d, %d statements for 1, 10, 100 ids", c.name, counts[1], counts[10], counts[100])
				dbtest.CheckTree(t, d)
				base := counts[1] - c.slope
				want := map[int]int{1: counts[1], 10: base + 10*c.slope + c.several, 100: base + 100*c.slope + c.several}
				logged := max(c.logged, 0)
				if c.logged == 0 {
					logged = 1
				}
				for _, n := range []int{10, 100} {
					if d.Kind == db.Postgres && n*logged >= 20 {
						// From 20 entries on the change log is appended
						// with COPY, after taking the revs from the sequence.
						want[n]++
					}
				}
				require.Equal(t, want, counts)
			})
		}
	})
}

// newBudgetFixture makes a channel with a topic Target and n leaves of kind.
func newBudgetFixture(t *testing.T, d *db.DB, u *models.User, kind string, n int) *budgetFixture {
	ch := dbtest.Channel(t, d, u, fmt.Sprintf("%s %d", kind, n))
	var lit strings.Builder
	lit.WriteString("topic Target\n")
	for i := range n {
		fmt.Fprintf(&lit, "%s L%d\n", kind, i)
	}
	nodes := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), lit.String())
	f := &budgetFixture{root: ch.RootID, target: nodes["Target"].ID}
	for i := range n {
		f.leaves = append(f.leaves, nodes[fmt.Sprintf("L%d", i)].ID)
	}
	var files []models.File
	require.NoError(t, d.ForTest(t).NewSelect().Model(&files).Where("node_id IN (?)", bun.List(f.leaves)).Scan(context.Background()))
	byNode := map[models.ID]models.ID{}
	for _, fl := range files {
		byNode[*fl.NodeID] = fl.ID
	}
	for _, id := range f.leaves {
		if fid, ok := byNode[id]; ok {
			f.files = append(f.files, fid)
		}
	}
	return f
}

// createItems gives each leaf one question, recorded in f.items as keys.
func createItems(a *api, token string, f *budgetFixture) {
	in := make([]any, len(f.leaves))
	for i, id := range f.leaves {
		in[i] = map[string]any{"nodeId": id.String(), "type": "input_question", "question": "Q?"}
	}
	data := a.OK(token, `mutation($in: [CreateAssessmentItemInput!]!) { createAssessmentItems(input: $in) { nodeId assessmentId } }`, map[string]any{"in": in})
	for _, it := range data["createAssessmentItems"].([]any) {
		f.items = append(f.items, map[string]any{"nodeId": get(it, "nodeId"), "assessmentId": get(it, "assessmentId")})
	}
}

func anyIDs(ids []models.ID) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
