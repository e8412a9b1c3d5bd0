package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// chef is a chef's upload into one channel, as ricecooker makes it.
type chef struct {
	t      *testing.T
	d      *db.DB
	u      *models.User
	ch     db.ChefChannel
	stored map[string]bool // "<md5>.<ext>" in the blob store
}

func newChef(t *testing.T, d *db.DB, u *models.User) *chef {
	return &chef{t: t, d: d, u: u, stored: map[string]bool{},
		ch: db.ChefChannel{ID: models.NewID(), Name: "Chef's channel", Language: "en", SourceID: "chef-1",
			SourceDomain: "example.org", RicecookerVersion: "0.8.0"}}
}

func (c *chef) has(ctx context.Context, checksum, ext string) (bool, error) {
	return c.stored[checksum+"."+ext], nil
}

func (c *chef) begin() models.ID {
	c.t.Helper()
	_, root, err := c.d.BeginChefTree(context.Background(), c.u, c.ch)
	require.NoError(c.t, err)
	return root
}

func (c *chef) add(parent models.ID, nodes ...db.ChefNode) map[models.ID]models.ID {
	c.t.Helper()
	ids, err := c.d.AddChefNodes(context.Background(), c.u, parent, nodes, c.has)
	require.NoError(c.t, err)
	return ids
}

// file names a stored blob of preset.
func (c *chef) file(preset, ext string) db.ChefFile {
	sum := models.NewID().String()
	c.stored[sum+"."+ext] = true
	return db.ChefFile{Filename: sum + "." + ext, Preset: preset, Size: 100}
}

func topic(title string) db.ChefNode {
	return db.ChefNode{NodeID: models.NewID(), ContentID: models.NewID(), Kind: models.KindTopic, Title: title, SourceID: title}
}

func (c *chef) document(title string) db.ChefNode {
	return db.ChefNode{NodeID: models.NewID(), ContentID: models.NewID(), Kind: models.KindDocument, Title: title,
		License: "CC BY", CopyrightHolder: "Chef", SourceID: title, Files: []db.ChefFile{c.file("document", "pdf")},
		Labels: map[string][]string{"learning_activities": {"wA01urpi"}}, Tags: []string{"maths"}}
}

func (c *chef) exercise(title string) db.ChefNode {
	q := db.ChefQuestion{AssessmentID: models.NewID(), Type: models.QuestionSingleSelection, Question: "2 + 2?",
		Answers: []any{map[string]any{"answer": "4", "correct": true, "order": 1}, map[string]any{"answer": "5", "correct": false, "order": 2}},
		Hints:   []any{}, Files: []db.ChefFile{c.file("exercise_image", "png")}}
	return db.ChefNode{NodeID: models.NewID(), ContentID: models.NewID(), Kind: models.KindExercise, Title: title,
		License: "CC BY", CopyrightHolder: "Chef", SourceID: title,
		ExtraFields: map[string]any{"mastery_model": "m_of_n", "m": 1.0, "n": 1.0, "randomize": true},
		Questions:   []db.ChefQuestion{q}}
}

func channelOf(t *testing.T, d *db.DB, u *models.User, id models.ID) *models.Channel {
	t.Helper()
	got, err := d.ChannelsByID(context.Background(), u, []models.ID{id})
	require.NoError(t, err)
	require.Contains(t, got, id)
	return got[id].Channel
}

// TestChefTree: a chef's upload is a tree beside the live one, with the
// chef's ids kept; finishing with stage false makes it the main tree, the
// old one goes to the garbage and is collected; the next upload with the
// same ids makes the same Kolibri ids.
func TestChefTree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "chef@example.org", false)
		c := newChef(t, d, u)
		root := c.begin()
		ch := channelOf(t, d, u, c.ch.ID)
		require.Equal(t, "chef-1", ch.SourceID)
		require.Equal(t, "0.8.0", ch.RicecookerVersion)
		require.NotEqual(t, ch.RootID, root, "the upload is a tree of its own")
		live := ch.RootID

		unit := topic("Unit")
		doc, ex := c.document("Doc"), c.exercise("Quiz")
		ids := c.add(root, unit)
		ids2 := c.add(ids[unit.NodeID], doc, ex)
		require.Empty(t, childTitles(t, d, live), "the live tree is untouched until finish")

		n := dbtest.Node(t, d, ids2[doc.NodeID])
		require.Equal(t, doc.NodeID, n.NodeID, "node_id as the chef sent it")
		require.Equal(t, doc.ContentID, n.ContentID, "content_id as the chef sent it")
		require.Equal(t, "Doc", n.SourceID)
		require.True(t, n.Complete, "a document with its file and license is complete")
		require.Equal(t, map[string]any{"wA01urpi": true}, n.LearningActivities)
		q := dbtest.Node(t, d, ids2[ex.NodeID])
		require.True(t, q.Complete, "an exercise with its question is complete")
		items, err := d.AssessmentItemsByNode(ctx, []models.ID{q.ID})
		require.NoError(t, err)
		require.Len(t, items[q.ID], 1)

		// A node already there is skipped, and still named in the answer.
		again := c.add(ids[unit.NodeID], doc)
		require.Equal(t, ids2[doc.NodeID], again[doc.NodeID])
		require.Equal(t, []string{"Doc", "Quiz"}, childTitles(t, d, ids[unit.NodeID]))

		ch, err = d.FinishChefTree(ctx, u, c.ch.ID, false)
		require.NoError(t, err)
		require.Equal(t, root, ch.RootID, "the upload is the main tree")
		require.Nil(t, ch.ChefRootID)
		require.Equal(t, []string{"Unit"}, childTitles(t, d, channelOf(t, d, u, c.ch.ID).RootID))
		dbtest.CheckTree(t, d)

		// A second run of the same chef: the same ids, nothing doubled.
		root2 := c.begin()
		ids = c.add(root2, unit)
		ids2 = c.add(ids[unit.NodeID], doc, ex)
		_, err = d.FinishChefTree(ctx, u, c.ch.ID, false)
		require.NoError(t, err)
		require.Equal(t, doc.NodeID, dbtest.Node(t, d, ids2[doc.NodeID]).NodeID)
		collected, err := d.CollectGarbageTrees(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, collected, "the first empty main tree and the first upload")
		gone, err := d.NodesByID(ctx, []models.ID{live, root})
		require.NoError(t, err)
		require.Empty(t, gone, "replaced trees are collected")
		dbtest.CheckTree(t, d)
	})
}

// TestChefStaging: with stage true the upload waits as the staging tree,
// which an editor deploys; a second staged upload replaces the first.
func TestChefStaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "chef@example.org", false)
		c := newChef(t, d, u)
		root := c.begin()
		c.add(root, c.document("First"))
		ch, err := d.FinishChefTree(ctx, u, c.ch.ID, true)
		require.NoError(t, err)
		require.Equal(t, root, *ch.StagingRootID)
		require.NotEqual(t, root, ch.RootID, "the main tree stays")

		root2 := c.begin()
		c.add(root2, c.document("Second"))
		ch, err = d.FinishChefTree(ctx, u, c.ch.ID, true)
		require.NoError(t, err)
		require.Equal(t, root2, *ch.StagingRootID)

		other := dbtest.User(t, d, "other@example.org", false)
		_, err = d.DeployStagingTree(ctx, other, c.ch.ID)
		require.Equal(t, models.CodeNotFound, models.CodeOf(err), "a stranger cannot deploy: %v", err)

		ch, err = d.DeployStagingTree(ctx, u, c.ch.ID)
		require.NoError(t, err)
		require.Equal(t, root2, ch.RootID)
		require.Nil(t, ch.StagingRootID)
		require.Equal(t, []string{"Second"}, childTitles(t, d, ch.RootID))
		_, err = d.DeployStagingTree(ctx, u, c.ch.ID)
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err), "nothing left to deploy")
		dbtest.CheckTree(t, d)
		_, err = d.CollectGarbageTrees(ctx)
		require.NoError(t, err)
		dbtest.CheckTree(t, d)
	})
}

// TestChefRefusals: bad calls are refused with a code, and change nothing.
func TestChefRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "chef@example.org", false)
		other := dbtest.User(t, d, "other@example.org", false)
		c := newChef(t, d, u)
		root := c.begin()
		c.add(root, c.document("Doc"))

		missing := c.document("Missing")
		missing.Files = []db.ChefFile{{Filename: models.NewID().String() + ".pdf", Preset: "document", Size: 1}}
		for _, tc := range []struct {
			name   string
			u      *models.User
			parent models.ID
			nodes  []db.ChefNode
			code   models.Code
		}{
			{"a file not stored", u, root, []db.ChefNode{c.document("Fine"), missing}, models.CodeNotFound},
			{"an unknown parent", u, models.NewID(), []db.ChefNode{c.document("X")}, models.CodeNotFound},
			{"a resource as parent", u, firstChild(t, d, root), []db.ChefNode{c.document("X")}, models.CodeBadUserInput},
			{"a stranger's tree", other, root, []db.ChefNode{c.document("X")}, models.CodeNotFound},
			{"an unknown license", u, root, []db.ChefNode{func() db.ChefNode { n := c.document("X"); n.License = "Mine"; return n }()}, models.CodeBadUserInput},
			{"an unknown label", u, root, []db.ChefNode{func() db.ChefNode {
				n := c.document("X")
				n.Labels = map[string][]string{"categories": {"nope"}}
				return n
			}()}, models.CodeBadUserInput},
			{"a long tag", u, root, []db.ChefNode{func() db.ChefNode {
				n := c.document("X")
				n.Tags = []string{"a tag that is much longer than thirty characters"}
				return n
			}()}, models.CodeBadUserInput},
			{"a question twice", u, root, []db.ChefNode{func() db.ChefNode {
				n := c.exercise("X")
				n.Questions = append(n.Questions, n.Questions[0])
				return n
			}()}, models.CodeBadUserInput},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := d.AddChefNodes(ctx, tc.u, tc.parent, tc.nodes, c.has)
				require.Equal(t, tc.code, models.CodeOf(err), "%v", err)
				require.Equal(t, []string{"Doc"}, childTitles(t, d, root), "nothing was added")
			})
		}

		// Someone else's channel id cannot be taken over by "creating" it.
		theirs := newChef(t, d, other)
		theirs.ch.ID = c.ch.ID
		_, _, err := d.BeginChefTree(ctx, other, theirs.ch)
		require.Error(t, err)
		require.Contains(t, []models.Code{models.CodeNotFound, models.CodeForbidden}, models.CodeOf(err), "%v", err)
		dbtest.CheckTree(t, d)
	})
}

func firstChild(t *testing.T, d *db.DB, parent models.ID) models.ID {
	t.Helper()
	p, err := d.ChildrenPages(context.Background(), []models.ID{parent}, 1, "")
	require.NoError(t, err)
	require.NotEmpty(t, p[parent].Nodes)
	return p[parent].Nodes[0].ID
}

// TestChefKilledHalfWay: a chef that stops after some add_nodes calls
// leaves the live channel exactly as it was; the next run starts afresh.
func TestChefKilledHalfWay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "chef@example.org", false)
		c := newChef(t, d, u)
		root := c.begin()
		c.add(root, c.document("Live"))
		_, err := d.FinishChefTree(ctx, u, c.ch.ID, false)
		require.NoError(t, err)
		before := channelOf(t, d, u, c.ch.ID)

		half := c.begin()
		unit := topic("Half")
		ids := c.add(half, unit)
		c.add(ids[unit.NodeID], c.document("A"), c.document("B"))
		// … and the chef dies here.
		after := channelOf(t, d, u, c.ch.ID)
		require.Equal(t, before.RootID, after.RootID)
		require.Equal(t, []string{"Live"}, childTitles(t, d, after.RootID))

		next := c.begin()
		require.NotEqual(t, half, next)
		_, err = d.CollectGarbageTrees(ctx)
		require.NoError(t, err)
		gone, err := d.NodesByID(ctx, []models.ID{half})
		require.NoError(t, err)
		require.Empty(t, gone, "the unfinished upload was collected")
		require.Equal(t, []string{"Live"}, childTitles(t, d, channelOf(t, d, u, c.ch.ID).RootID))
		dbtest.CheckTree(t, d)
	})
}

// TestChefStatementsPerCall: an add_nodes call of ten nodes runs the same
// statements however many came before it and however many questions and
// files its nodes have.
func TestChefStatementsPerCall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		u := dbtest.User(t, d, "chef@example.org", false)
		c := newChef(t, d, u)
		root := c.begin()
		batch := func(questions int) []db.ChefNode {
			var ns []db.ChefNode
			for i := range 10 {
				if i%2 == 0 {
					ns = append(ns, c.document("D"))
					continue
				}
				e := c.exercise("E")
				for range questions - 1 {
					q := e.Questions[0]
					q.AssessmentID = models.NewID()
					e.Questions = append(e.Questions, q)
				}
				ns = append(ns, e)
			}
			return ns
		}
		var counts []int64
		for _, questions := range []int{1, 1, 5} {
			ctx, n := db.WithCounter(context.Background())
			_, err := d.AddChefNodes(ctx, u, root, batch(questions), c.has)
			require.NoError(t, err)
			counts = append(counts, n.Load())
		}
		t.Logf("statements a call of 10 nodes: %v", counts)
		require.Equal(t, counts[0], counts[1], "later calls cost the same")
		require.Equal(t, counts[0], counts[2], "more questions cost no statements")
	})
}

// TestClientIDsKept: a node created with node_id and content_id keeps them
// (as Studio allows for imports); an update cannot change them; a copy gets
// a node_id of its own and keeps the content_id.
func TestClientIDsKept(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		nodeID, contentID, id := models.NewID(), models.NewID(), models.NewID()
		w.ok(db.Change{Type: models.ChangeCreated, Table: db.TableContentNode, Key: id, Obj: map[string]any{
			"parent": w.ch.RootID.String(), "kind": "topic", "title": "Kept",
			"node_id": nodeID.String(), "content_id": contentID.String()}})
		n := dbtest.Node(t, d, id)
		require.Equal(t, nodeID, n.NodeID)
		require.Equal(t, contentID, n.ContentID)

		w.ok(db.Change{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: id, Mods: map[string]any{
			"node_id": models.NewID().String(), "content_id": models.NewID().String()}})
		n = dbtest.Node(t, d, id)
		require.Equal(t, nodeID, n.NodeID, "ids are set on creation only")
		require.Equal(t, contentID, n.ContentID)

		copyID := models.NewID()
		w.ok(db.Change{Type: models.ChangeCopied, Table: db.TableContentNode, Key: copyID, FromKey: &id, Target: &w.ch.RootID, Position: db.LastChild})
		cp := dbtest.Node(t, d, copyID)
		require.NotEqual(t, nodeID, cp.NodeID)
		require.Equal(t, contentID, cp.ContentID)

		_, err := d.Apply(ctx, w.ed, []db.Change{{Type: models.ChangeCreated, Table: db.TableContentNode, Key: models.NewID(),
			Obj: map[string]any{"parent": w.ch.RootID.String(), "kind": "topic", "title": "Bad", "node_id": "nope"}}}, true)
		require.Equal(t, models.CodeBadUserInput, models.CodeOf(err), "%v", err)
	})
}
