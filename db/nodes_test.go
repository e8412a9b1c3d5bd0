package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

func titles(ns []*models.ContentNode) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Title
	}
	return out
}

func TestTreeReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Maths")
		root := dbtest.Node(t, d, ch.RootID)
		n := dbtest.Tree(t, d, root, `
topic Algebra
  video Intro
  topic Equations
    exercise Linear
    document Notes
  audio Podcast
topic Geometry
video Overview`)

		pages, err := d.ChildrenPages(ctx, []models.ID{root.ID, n["Algebra"].ID, n["Geometry"].ID}, 2, "")
		require.NoError(t, err)
		require.Equal(t, []string{"Algebra", "Geometry"}, titles(pages[root.ID].Nodes))
		require.True(t, pages[root.ID].HasNextPage)
		require.Equal(t, []string{"Intro", "Equations"}, titles(pages[n["Algebra"].ID].Nodes))
		require.Nil(t, pages[n["Geometry"].ID], "a leaf has no page")

		// The cursor continues where the page ended.
		next, err := d.ChildrenPages(ctx, []models.ID{root.ID}, 2, pages[root.ID].Cursors[1])
		require.NoError(t, err)
		require.Equal(t, []string{"Overview"}, titles(next[root.ID].Nodes))
		require.False(t, next[root.ID].HasNextPage)

		counts, err := d.ChildCounts(ctx, []models.ID{root.ID, n["Algebra"].ID, n["Intro"].ID})
		require.NoError(t, err)
		require.Equal(t, map[models.ID]int{root.ID: 3, n["Algebra"].ID: 3}, counts)

		res, err := d.ResourceCounts(ctx, []models.ID{root.ID, n["Algebra"].ID, n["Equations"].ID, n["Intro"].ID})
		require.NoError(t, err)
		require.Equal(t, 5, res[root.ID])
		require.Equal(t, 4, res[n["Algebra"].ID])
		require.Equal(t, 2, res[n["Equations"].ID])
		require.Equal(t, 0, res[n["Intro"].ID])

		anc, err := d.Ancestors(ctx, []models.ID{n["Linear"].ID, root.ID})
		require.NoError(t, err)
		require.Equal(t, []string{"Maths", "Algebra", "Equations"}, titles(anc[n["Linear"].ID]))
		require.Empty(t, anc[root.ID])

		files, err := d.FilesByNode(ctx, []models.ID{n["Intro"].ID, n["Algebra"].ID})
		require.NoError(t, err)
		require.Len(t, files[n["Intro"].ID], 1)
		require.Equal(t, "high_res_video", files[n["Intro"].ID][0].PresetID)
		require.Empty(t, files[n["Algebra"].ID])

		_, err = d.ChildrenPages(ctx, []models.ID{root.ID}, db.MaxChildrenPage+1, "")
		requireCode(t, models.CodeBadUserInput, err)
		_, err = d.ChildrenPages(ctx, []models.ID{root.ID}, 10, "not-a-cursor")
		requireCode(t, models.CodeBadUserInput, err)
	})
}

func TestChannelNodesFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Science")
		other := dbtest.Channel(t, d, u, "Other")
		n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Physics
  video Motion of bodies
  document Forces 100%
  exercise Practice_1`)
		dbtest.Tree(t, d, dbtest.Node(t, d, other.RootID), "video Motion elsewhere")
		// Practice was edited an hour after it was created, and published.
		_, err := d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).
			Set("modified_at = ?", n["Practice_1"].CreatedAt.Add(time.Hour)).Set("published = ?", true).
			Where("id = ?", n["Practice_1"].ID).Exec(ctx)
		require.NoError(t, err)
		_, err = d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).Set("complete = ?", false).Where("id = ?", n["Physics"].ID).Exec(ctx)
		require.NoError(t, err)

		list := func(q db.NodeQuery) []string {
			t.Helper()
			if q.First == 0 {
				q.First = 100
			}
			p, err := d.ChannelNodes(ctx, ch.ID, q)
			require.NoError(t, err)
			n, err := d.CountChannelNodes(ctx, ch.ID, q)
			require.NoError(t, err)
			require.Len(t, p.Nodes, n)
			return titles(p.Nodes)
		}
		all := []string{"Science", "Science", "Physics", "Motion of bodies", "Forces 100%", "Practice_1"}
		require.ElementsMatch(t, all, list(db.NodeQuery{}))
		require.ElementsMatch(t, []string{"Motion of bodies", "Forces 100%"}, list(db.NodeQuery{Kinds: []string{"video", "document"}}))
		require.ElementsMatch(t, []string{"Motion of bodies", "Forces 100%", "Practice_1"}, list(db.NodeQuery{HasFiles: ptr(true)}))
		require.ElementsMatch(t, []string{"Science", "Science", "Physics"}, list(db.NodeQuery{HasFiles: ptr(false)}))
		require.ElementsMatch(t, []string{"Practice_1"}, list(db.NodeQuery{Published: ptr(true)}))
		require.ElementsMatch(t, []string{"Physics"}, list(db.NodeQuery{Complete: ptr(false)}))
		require.Empty(t, list(db.NodeQuery{Changed: ptr(false)}))
		require.ElementsMatch(t, []string{"Practice_1"}, list(db.NodeQuery{ModifiedAfterCreatedSeconds: ptr(1800)}))
		require.Empty(t, list(db.NodeQuery{ModifiedAfterCreatedSeconds: ptr(7200)}))
		require.ElementsMatch(t, []string{"Practice_1"}, list(db.NodeQuery{ModifiedSince: ptr(n["Practice_1"].CreatedAt.Add(30 * time.Minute))}))
		require.ElementsMatch(t, []string{"Motion of bodies"}, list(db.NodeQuery{TitleContains: "MOTION"}))
		// LIKE's wildcards are matched literally.
		require.ElementsMatch(t, []string{"Forces 100%"}, list(db.NodeQuery{TitleContains: "0%"}))
		require.ElementsMatch(t, []string{"Practice_1"}, list(db.NodeQuery{TitleContains: "e_"}))

		// Pages of two follow one another to the end.
		var paged []string
		after := ""
		for {
			p, err := d.ChannelNodes(ctx, ch.ID, db.NodeQuery{First: 2, After: after})
			require.NoError(t, err)
			paged = append(paged, titles(p.Nodes)...)
			if !p.HasNextPage {
				break
			}
			after = p.Cursors[len(p.Cursors)-1]
		}
		require.ElementsMatch(t, all, paged)

		_, err = d.ChannelNodes(ctx, ch.ID, db.NodeQuery{First: 10, Kinds: []string{"movie"}})
		requireCode(t, models.CodeBadUserInput, err)
		_, err = d.ChannelNodes(ctx, ch.ID, db.NodeQuery{First: db.MaxNodesPage + 1})
		requireCode(t, models.CodeBadUserInput, err)
		_, err = d.ChannelNodes(ctx, ch.ID, db.NodeQuery{First: 10, ModifiedAfterCreatedSeconds: ptr(-1)})
		requireCode(t, models.CodeBadUserInput, err)
	})
}

// TestChannelNodesUseIndexes shows, on PostgreSQL, that every filter of
// Channel.nodes and every join of the tree reads is served by an index.
// Sequential scans are disabled so that the small test table does not make
// the planner prefer them; a filter without a usable index would still scan.
func TestChannelNodesUseIndexes(t *testing.T) {
	d := dbtest.Open(t, db.Postgres)
	ctx := context.Background()
	u := dbtest.User(t, d, "ed@example.org", false)
	ch := dbtest.Channel(t, d, u, "Science")
	dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "topic A\n  video B")
	since := time.Now()

	conn, err := d.ForTest(t).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "SET enable_seqscan = off")
	require.NoError(t, err)

	filter := func(q db.NodeQuery) string {
		var ns []*models.ContentNode
		return d.NodeFilterSQL(conn.NewSelect().Model(&ns), ch.ID, q).String()
	}
	queries := map[string]string{
		"kinds":          filter(db.NodeQuery{Kinds: []string{"video"}}),
		"complete":       filter(db.NodeQuery{Complete: ptr(true)}),
		"published":      filter(db.NodeQuery{Published: ptr(true)}),
		"changed":        filter(db.NodeQuery{Changed: ptr(false)}),
		"has files":      filter(db.NodeQuery{HasFiles: ptr(true)}),
		"no files":       filter(db.NodeQuery{HasFiles: ptr(false)}),
		"modified since": filter(db.NodeQuery{ModifiedSince: &since}),
		"edit lag":       filter(db.NodeQuery{ModifiedAfterCreatedSeconds: ptr(60)}),
		"title":          filter(db.NodeQuery{TitleContains: "motion"}),
		"page":           filter(db.NodeQuery{First: 10}) + " ORDER BY cn.created_at, cn.id LIMIT 11",
		"children":       "SELECT * FROM content_nodes cn WHERE cn.parent_id IN ('" + ch.RootID.String() + "') ORDER BY cn.sort_order, cn.id",
		"files":          "SELECT * FROM files f WHERE f.node_id IN ('" + ch.RootID.String() + "')",
		"tags":           "SELECT * FROM content_tags tg WHERE tg.node_id IN ('" + ch.RootID.String() + "')",
		"items":          "SELECT * FROM assessment_items ai WHERE ai.node_id IN ('" + ch.RootID.String() + "')",
		"prerequisites":  "SELECT * FROM prerequisites pr WHERE pr.target_node_id IN ('" + ch.RootID.String() + "')",
		"members":        "SELECT * FROM channel_members m WHERE m.user_id = '" + u.ID.String() + "'",
		"changes":        "SELECT max(server_rev) FROM changes chg WHERE chg.channel_id IN ('" + ch.ID.String() + "')",
	}
	for name, q := range queries {
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+q)
		require.NoError(t, err, name)
		var plan []string
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		require.NoError(t, rows.Close())
		text := strings.Join(plan, "\n")
		require.NotContains(t, text, "Seq Scan", "%s:\n%s\n%s", name, q, text)
		require.Contains(t, text, "Index", "%s:\n%s\n%s", name, q, text)
	}
}
