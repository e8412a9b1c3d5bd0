package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// world is a channel edited by ed and viewed by viewer, and a stranger.
type world struct {
	t      *testing.T
	d      *db.DB
	ed     *models.User
	viewer *models.User
	other  *models.User
	ch     *models.Channel
}

func newWorld(t *testing.T, d *db.DB) *world {
	w := &world{t: t, d: d,
		ed:     dbtest.User(t, d, "ed@example.org", false),
		viewer: dbtest.User(t, d, "viewer@example.org", false),
		other:  dbtest.User(t, d, "other@example.org", false)}
	w.ch = dbtest.Channel(t, d, w.ed, "Maths")
	_, err := d.SetMember(context.Background(), w.ed, w.ch.ID, "viewer@example.org", models.RoleViewer)
	require.NoError(t, err)
	return w
}

// apply applies changes by u, not atomically, and requires no fatal error.
func (w *world) apply(u *models.User, cs ...db.Change) *db.Result {
	w.t.Helper()
	res, err := w.d.Apply(context.Background(), u, cs, false)
	require.NoError(w.t, err)
	return res
}

// ok applies changes by the editor and requires every one to apply.
func (w *world) ok(cs ...db.Change) *db.Result {
	w.t.Helper()
	res := w.apply(w.ed, cs...)
	require.Empty(w.t, res.Errors)
	require.Empty(w.t, res.Disallowed)
	return res
}

// fails applies one change by the editor and returns its error message.
func (w *world) fails(c db.Change) db.ChangeError {
	w.t.Helper()
	res := w.apply(w.ed, c)
	require.Len(w.t, res.Errors, 1, "the change applied")
	return res.Errors[0]
}

func (w *world) node(id models.ID) *models.ContentNode { return dbtest.Node(w.t, w.d, id) }

func create(id, parent models.ID, kind, title string, fields map[string]any) db.Change {
	obj := map[string]any{"parent": parent.String(), "kind": kind, "title": title}
	for k, v := range fields {
		obj[k] = v
	}
	return db.Change{Type: models.ChangeCreated, Table: db.TableContentNode, Key: id, Obj: obj}
}

func update(id models.ID, mods map[string]any) db.Change {
	return db.Change{Type: models.ChangeUpdated, Table: db.TableContentNode, Key: id, Mods: mods}
}

func move(id, target models.ID, pos db.Position) db.Change {
	return db.Change{Type: models.ChangeMoved, Table: db.TableContentNode, Key: id, Target: &target, Position: pos}
}

func copyOf(id, from, target models.ID, pos db.Position) db.Change {
	return db.Change{Type: models.ChangeCopied, Table: db.TableContentNode, Key: id, FromKey: &from, Target: &target, Position: pos}
}

var resource = map[string]any{"license": "CC BY", "copyright_holder": "Learning Equality"}

func TestCreateNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		topic, video := models.NewID(), models.NewID()
		res := w.ok(
			create(topic, w.ch.RootID, "topic", "Algebra", map[string]any{"tags": map[string]any{"maths": true}}),
			create(video, topic, "video", "Intro", resource),
		)
		require.Len(t, res.Applied, 2)
		require.Positive(t, res.Applied[0].ServerRev)
		require.Greater(t, res.Applied[1].ServerRev, res.Applied[0].ServerRev)
		// The server tells the client the new node_ids and content_ids.
		require.Len(t, res.Generated, 2)
		n := w.node(video)
		require.Equal(t, map[string]any{"node_id": n.NodeID, "content_id": n.ContentID}, res.Generated[1].Payload["mods"])
		require.Equal(t, w.ch.ID, n.ChannelID)
		require.Equal(t, w.ch.RootID, n.RootID)
		require.True(t, n.Changed)
		require.False(t, n.Complete, "a video without a file is incomplete")
		require.True(t, w.node(topic).Complete)
		tags, err := d.TagsByNode(context.Background(), []models.ID{topic})
		require.NoError(t, err)
		require.Equal(t, []string{"maths"}, tags[topic])
		dbtest.CheckTree(t, d)
	})
}

// Studio's behaviours (studio-backend.md §6), by item number.
func TestStudioBehaviours(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		topic, video, ex := models.NewID(), models.NewID(), models.NewID()
		w.ok(create(topic, w.ch.RootID, "topic", "Algebra", nil),
			create(video, topic, "video", "Intro", resource),
			create(ex, topic, "exercise", "Practice", map[string]any{"extra_fields": map[string]any{"randomize": true}}))

		t.Run("3 parent changes only by a move", func(t *testing.T) {
			e := w.fails(update(video, map[string]any{"parent": w.ch.RootID.String()}))
			require.Equal(t, models.CodeBadUserInput, e.Code)
			require.Contains(t, e.Message, "only be changed by a move")
		})
		t.Run("4 kind is immutable", func(t *testing.T) {
			e := w.fails(update(video, map[string]any{"kind": "audio"}))
			require.Contains(t, e.Message, "content kind cannot be changed after creation")
			require.Equal(t, "video", w.node(video).Kind)
		})
		t.Run("5 an exercise needs randomize", func(t *testing.T) {
			e := w.fails(create(models.NewID(), topic, "exercise", "No randomize", nil))
			require.Equal(t, "extra_fields.randomize", e.Field)
			require.Contains(t, e.Message, "required for exercise content")
		})
		t.Run("8 update descendants", func(t *testing.T) {
			w.ok(db.Change{Type: models.ChangeUpdatedDescendants, Table: db.TableContentNode, Key: topic, Mods: map[string]any{"language": "fr"}})
			for _, id := range []models.ID{topic, video, ex} {
				require.Equal(t, "fr", w.node(id).LanguageCode)
			}
			e := w.fails(db.Change{Type: models.ChangeUpdatedDescendants, Table: db.TableContentNode, Key: video, Mods: map[string]any{"language": "en"}})
			require.Contains(t, e.Message, "only a topic")
		})
		t.Run("9 a false claim of completeness", func(t *testing.T) {
			res := w.ok(update(ex, map[string]any{"complete": true}))
			require.False(t, w.node(ex).Complete)
			require.Len(t, res.Generated, 1)
			require.Equal(t, map[string]any{"complete": false}, res.Generated[0].Payload["mods"])
		})
		t.Run("10 dot paths into extra_fields", func(t *testing.T) {
			w.ok(update(ex, map[string]any{"extra_fields.options.modality": "QUIZ"}))
			require.Equal(t, map[string]any{"modality": "QUIZ"}, w.node(ex).ExtraFields["options"])
			require.Equal(t, true, w.node(ex).ExtraFields["randomize"])
			w.ok(update(ex, map[string]any{"extra_fields.options.modality": nil}))
			require.Equal(t, map[string]any{}, w.node(ex).ExtraFields["options"])
		})
		t.Run("13 labels accumulate and null removes", func(t *testing.T) {
			w.ok(update(video, map[string]any{"categories.d&WXdXWF.qs0Xlaxq": true}))
			w.ok(update(video, map[string]any{"categories.PbGoe2MV": true}))
			require.Equal(t, map[string]any{"d&WXdXWF.qs0Xlaxq": true, "PbGoe2MV": true}, w.node(video).Categories)
			w.ok(update(video, map[string]any{"categories.PbGoe2MV": nil}))
			require.Equal(t, map[string]any{"d&WXdXWF.qs0Xlaxq": true}, w.node(video).Categories)
		})
		t.Run("14 tags", func(t *testing.T) {
			w.ok(update(video, map[string]any{"tags": map[string]any{"a": true, "b": true}}))
			w.ok(update(video, map[string]any{"tags.a": nil, "tags.c": true}))
			tags, err := d.TagsByNode(ctx, []models.ID{video})
			require.NoError(t, err)
			require.Equal(t, []string{"b", "c"}, tags[video])
			e := w.fails(update(video, map[string]any{"tags": []any{"x"}}))
			require.Contains(t, e.Message, "must be a map")
			e = w.fails(update(video, map[string]any{"tags." + strings.Repeat("x", 31): true}))
			require.Contains(t, e.Message, "30")
			tags, _ = d.TagsByNode(ctx, []models.ID{video})
			require.Equal(t, []string{"b", "c"}, tags[video])
		})
		t.Run("15 every update bumps modified", func(t *testing.T) {
			before := w.node(video).ModifiedAt
			time.Sleep(2 * time.Millisecond)
			w.ok(update(video, map[string]any{"title": "Intro!"}))
			require.True(t, w.node(video).ModifiedAt.After(before))
			require.Equal(t, w.ed.ID, *w.node(video).ModifiedByID)
		})
		t.Run("11 an invalid criterion claimed complete is not saved", func(t *testing.T) {
			e := w.fails(update(video, map[string]any{"complete": true,
				"extra_fields.options.completion_criteria": map[string]any{"model": "mastery", "threshold": map[string]any{"mastery_model": "do_all"}}}))
			require.Equal(t, "extra_fields.options.completion_criteria", e.Field)
			require.Nil(t, w.node(video).ExtraFields["options"])
		})
		t.Run("12 determined_by_resource drops its threshold", func(t *testing.T) {
			html := models.NewID()
			w.ok(create(html, topic, "html5", "Game", nil))
			w.ok(update(html, map[string]any{"extra_fields.options.completion_criteria": map[string]any{"model": "determined_by_resource", "threshold": 5}}))
			cc := w.node(html).ExtraFields["options"].(map[string]any)["completion_criteria"].(map[string]any)
			require.Equal(t, map[string]any{"model": "determined_by_resource"}, cc)
		})
	})
}

func TestMove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), `
topic A
  topic A1
    video A1a
  video A2
topic B
video C`)
		w.ok(move(n["C"].ID, n["A"].ID, db.FirstChild))
		w.ok(move(n["B"].ID, n["A1"].ID, db.Right))
		w.ok(move(n["A2"].ID, n["A1"].ID, db.Left))
		require.Equal(t, []string{"C", "A2", "A1", "B"}, childTitles(t, d, n["A"].ID))
		require.True(t, w.node(w.ch.RootID).Changed)

		t.Run("never into itself or a descendant", func(t *testing.T) {
			before := snapshotNodes(t, d)
			for _, c := range []db.Change{
				move(n["A"].ID, n["A1a"].ID, db.LastChild),
				move(n["A"].ID, n["A1"].ID, db.FirstChild),
				move(n["A"].ID, n["A"].ID, db.LastChild),
				move(n["A"].ID, n["A1"].ID, db.Right),
			} {
				e := w.fails(c)
				require.Equal(t, models.CodeBadUserInput, e.Code, e.Message)
			}
			require.Equal(t, before, snapshotNodes(t, d))
		})
		t.Run("25 across channels, keeping provenance", func(t *testing.T) {
			other := dbtest.Channel(t, d, w.ed, "Other")
			w.ok(move(n["A1"].ID, other.RootID, db.LastChild))
			for _, id := range []models.ID{n["A1"].ID, n["A1a"].ID} {
				moved := w.node(id)
				require.Equal(t, other.ID, moved.ChannelID)
				require.Equal(t, other.RootID, moved.RootID)
				require.Nil(t, moved.OriginalChannelID)
				require.Nil(t, moved.SourceChannelID)
			}
			require.True(t, w.node(other.RootID).Changed)
			require.True(t, w.node(n["A"].ID).Changed)
			dbtest.CheckTree(t, d)
		})
		t.Run("a viewer may not move", func(t *testing.T) {
			res := w.apply(w.viewer, move(n["B"].ID, w.ch.RootID, db.LastChild))
			requireDisallowed(t, res, 0)
		})
		dbtest.CheckTree(t, d)
	})
}

func childTitles(t *testing.T, d *db.DB, parent models.ID) []string {
	t.Helper()
	p, err := d.ChildrenPages(context.Background(), []models.ID{parent}, 1000, "")
	require.NoError(t, err)
	if p[parent] == nil {
		return nil
	}
	return titles(p[parent].Nodes)
}

// snapshotNodes is every node, file, question, tag and prerequisite row, to
// compare the database before and after a refused write.
func snapshotNodes(t *testing.T, d *db.DB) map[string]any {
	t.Helper()
	ctx := context.Background()
	var ns []models.ContentNode
	require.NoError(t, d.ForTest(t).NewSelect().Model(&ns).Order("id").Scan(ctx))
	out := map[string]any{"nodes": ns}
	for _, table := range []string{"files", "assessment_items", "content_tags", "prerequisites", "changes"} {
		n, err := d.ForTest(t).NewSelect().TableExpr(table).Count(ctx)
		require.NoError(t, err)
		out[table] = n
	}
	return out
}

func TestCopy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), `
topic Unit
  video Lesson
  exercise Quiz
  topic Extra
    document Notes
topic Target
  video First
  video Second`)
		w.ok(update(n["Lesson"].ID, map[string]any{"tags.algebra": true, "author": "Ann"}),
			update(n["Quiz"].ID, map[string]any{"extra_fields": map[string]any{"randomize": true}}),
			db.Change{Type: models.ChangeCreated, Table: db.TableAssessmentItem, Key: []any{n["Quiz"].ID.String(), models.NewID().String()},
				Obj: map[string]any{"type": "single_selection", "question": "1+1?", "answers": []any{
					map[string]any{"answer": "2", "correct": true, "order": 1}, map[string]any{"answer": "3", "correct": false, "order": 2}}}},
			db.Change{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []any{n["Quiz"].ID.String(), n["Lesson"].ID.String()}})
		// Publish the source tree as clean, to see the copy's flags set.
		_, err := d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).Set("changed = false, published = true").Where("channel_id = ?", w.ch.ID).Exec(ctx)
		require.NoError(t, err)

		copyID := models.NewID()
		c := copyOf(copyID, n["Unit"].ID, n["First"].ID, db.Right)
		c.Mods = map[string]any{"title": "Unit (copy)"}
		c.ExcludedDescendants = []models.ID{n["Extra"].ID}
		res := w.ok(c)
		require.Len(t, res.Applied, 1)

		// 16, 20, 22: the client's id, right after the target, with mods, without the excluded subtree.
		require.Equal(t, []string{"First", "Unit (copy)", "Second"}, childTitles(t, d, n["Target"].ID))
		cp := w.node(copyID)
		require.Equal(t, []string{"Lesson", "Quiz"}, childTitles(t, d, copyID))
		// 18: content_id kept, node_id new, metadata, files, questions and tags copied, no prerequisites.
		src := w.node(n["Unit"].ID)
		require.Equal(t, src.ContentID, cp.ContentID)
		require.NotEqual(t, src.NodeID, cp.NodeID)
		require.True(t, cp.Changed)
		require.False(t, cp.Published)
		require.Equal(t, w.ch.ID, *cp.SourceChannelID)
		require.Equal(t, src.NodeID, *cp.SourceNodeID)
		kids, err := d.ChildrenPages(ctx, []models.ID{copyID}, 10, "")
		require.NoError(t, err)
		lesson, quiz := kids[copyID].Nodes[0], kids[copyID].Nodes[1]
		require.Equal(t, "Ann", lesson.Author)
		require.Equal(t, n["Lesson"].ContentID, lesson.ContentID)
		files, err := d.FilesByNode(ctx, []models.ID{lesson.ID, n["Lesson"].ID})
		require.NoError(t, err)
		require.Equal(t, files[n["Lesson"].ID][0].Checksum, files[lesson.ID][0].Checksum)
		require.NotEqual(t, files[n["Lesson"].ID][0].ID, files[lesson.ID][0].ID)
		items, err := d.AssessmentItemsByNode(ctx, []models.ID{quiz.ID, n["Quiz"].ID})
		require.NoError(t, err)
		require.Len(t, items[quiz.ID], 1)
		require.Equal(t, items[n["Quiz"].ID][0].AssessmentID, items[quiz.ID][0].AssessmentID)
		tags, err := d.TagsByNode(ctx, []models.ID{lesson.ID})
		require.NoError(t, err)
		require.Equal(t, []string{"algebra"}, tags[lesson.ID])
		pre, err := d.PrerequisitesByNode(ctx, []models.ID{quiz.ID, n["Quiz"].ID})
		require.NoError(t, err)
		require.Empty(t, pre[quiz.ID])
		require.Len(t, pre[n["Quiz"].ID], 1)
		// 19: the target is changed, the source untouched.
		require.True(t, w.node(n["Target"].ID).Changed)
		require.False(t, w.node(n["Unit"].ID).Changed)
		// 23: an editor's copy inherits freeze_authoring_data (false here).
		require.False(t, cp.FreezeAuthoringData)

		t.Run("20 right of the target at any batch size", func(t *testing.T) {
			var cs []db.Change
			for range 5 {
				cs = append(cs, copyOf(models.NewID(), n["Lesson"].ID, n["Second"].ID, db.Right))
			}
			w.ok(cs...)
			got := childTitles(t, d, n["Target"].ID)
			require.Equal(t, []string{"First", "Unit (copy)", "Second", "Lesson", "Lesson", "Lesson", "Lesson", "Lesson"}, got)
		})
		t.Run("16 and 23 permissions", func(t *testing.T) {
			theirs := dbtest.Channel(t, d, w.other, "Theirs")
			// Copying from a channel the user cannot view errors.
			e := w.fails(copyOf(models.NewID(), theirs.RootID, n["Target"].ID, db.LastChild))
			require.Equal(t, models.CodeNotFound, e.Code)
			// Copying into a channel the user cannot edit is disallowed.
			res := w.apply(w.viewer, copyOf(models.NewID(), n["Lesson"].ID, n["Target"].ID, db.LastChild))
			requireDisallowed(t, res, 0)
			// A viewer's copy into their own channel freezes authoring data,
			// and they may not change the license on it.
			mine := dbtest.Channel(t, d, w.viewer, "Mine")
			frozen := models.NewID()
			res = w.apply(w.viewer, copyOf(frozen, n["Lesson"].ID, mine.RootID, db.LastChild))
			require.Empty(t, res.Errors)
			require.True(t, w.node(frozen).FreezeAuthoringData)
			bad := copyOf(models.NewID(), n["Lesson"].ID, mine.RootID, db.LastChild)
			bad.Mods = map[string]any{"license": "CC BY-SA"}
			res = w.apply(w.viewer, bad)
			require.Len(t, res.Errors, 1)
			res = w.apply(w.viewer, update(frozen, map[string]any{"author": "Me"}))
			require.Len(t, res.Errors, 1)
			require.Contains(t, res.Errors[0].Message, "frozen")
		})
		t.Run("24 copy chains", func(t *testing.T) {
			b := dbtest.Channel(t, d, w.ed, "B")
			c := dbtest.Channel(t, d, w.ed, "C")
			inB, inC := models.NewID(), models.NewID()
			w.ok(copyOf(inB, n["Lesson"].ID, b.RootID, db.LastChild))
			w.ok(copyOf(inC, inB, c.RootID, db.LastChild))
			require.Equal(t, w.ch.ID, *w.node(inC).OriginalChannelID)
			require.Equal(t, n["Lesson"].NodeID, *w.node(inC).OriginalSourceNodeID)
			require.Equal(t, b.ID, *w.node(inC).SourceChannelID)
			require.Equal(t, w.node(inB).NodeID, *w.node(inC).SourceNodeID)
		})
		t.Run("a copy's id must be new", func(t *testing.T) {
			e := w.fails(copyOf(copyID, n["Lesson"].ID, n["Target"].ID, db.LastChild))
			require.Equal(t, models.CodeConflict, e.Code)
		})
		dbtest.CheckTree(t, d)
	})
}

func TestDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "topic A\n  video B\nvideo C")
		w.ok(db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: n["A"].ID})
		_, err := d.NodesByID(ctx, []models.ID{n["A"].ID, n["B"].ID})
		require.NoError(t, err)
		got, _ := d.NodesByID(ctx, []models.ID{n["A"].ID, n["B"].ID})
		require.Empty(t, got, "the subtree is gone")
		files, err := d.FilesByNode(ctx, []models.ID{n["B"].ID})
		require.NoError(t, err)
		require.Empty(t, files)
		// Deleting what is gone succeeds, so that a retried delete does.
		w.ok(db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: n["A"].ID})
		// A viewer's delete is disallowed and deletes nothing.
		res := w.apply(w.viewer, db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: n["C"].ID})
		requireDisallowed(t, res, 0)
		require.Equal(t, "C", w.node(n["C"].ID).Title)
		e := w.fails(db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: w.ch.RootID})
		require.Contains(t, e.Message, "root")
		dbtest.CheckTree(t, d)
	})
}

func TestPrerequisites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "video A\nvideo B\nvideo C")
		trash := dbtest.Tree(t, d, w.node(w.ch.TrashRootID), "video T")
		pre := func(a, b models.ID) db.Change {
			return db.Change{Type: models.ChangeCreated, Table: db.TablePrerequisite, Key: []any{a.String(), b.String()}}
		}
		// 27: both directions of a pair of nodes may be created, one at a time.
		w.ok(pre(n["A"].ID, n["B"].ID), pre(n["C"].ID, n["A"].ID))
		for name, c := range map[string]db.Change{
			"self":       pre(n["A"].ID, n["A"].ID),
			"reciprocal": pre(n["B"].ID, n["A"].ID),
			"cross-tree": pre(n["A"].ID, trash["T"].ID),
		} {
			e := w.fails(c)
			require.Equal(t, models.CodeBadUserInput, e.Code, name)
		}
		res := w.apply(w.viewer, pre(n["B"].ID, n["C"].ID))
		requireDisallowed(t, res, 0)
		got, err := d.PrerequisitesByNode(context.Background(), []models.ID{n["A"].ID})
		require.NoError(t, err)
		require.Equal(t, []string{"B"}, titles(got[n["A"].ID]))
		w.ok(db.Change{Type: models.ChangeDeleted, Table: db.TablePrerequisite, Key: []any{n["A"].ID.String(), n["B"].ID.String()}})
		got, _ = d.PrerequisitesByNode(context.Background(), []models.ID{n["A"].ID})
		require.Empty(t, got[n["A"].ID])
	})
}

// TestAtomicBatch: a batch with one bad item is refused whole, the error
// names that item, and the database is as it was.
func TestAtomicBatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		before := snapshotNodes(t, d)
		cs := []db.Change{
			create(models.NewID(), w.ch.RootID, "topic", "Good", nil),
			create(models.NewID(), w.ch.RootID, "movie", "Bad kind", nil),
			create(models.NewID(), w.ch.RootID, "video", "Good too", nil),
			create(models.NewID(), w.ch.RootID, "exercise", "No randomize", nil),
		}
		res, err := d.Apply(context.Background(), w.ed, cs, true)
		require.Error(t, err)
		var me *models.Error
		require.ErrorAs(t, err, &me)
		require.Equal(t, models.CodeBadUserInput, me.Code)
		require.Len(t, me.Items, 2)
		require.Equal(t, 1, me.Items[0].Index)
		require.Equal(t, "kind", me.Items[0].Field)
		require.Equal(t, 3, me.Items[1].Index)
		require.Len(t, res.Errors, 2)
		require.Equal(t, before, snapshotNodes(t, d))

		// Not atomic: the good ones apply, the bad ones are reported.
		res = w.apply(w.ed, cs...)
		require.Len(t, res.Applied, 2)
		require.Len(t, res.Errors, 2)
		require.Equal(t, []string{"Good", "Good too"}, childTitles(t, d, w.ch.RootID))
		dbtest.CheckTree(t, d)
	})
}

// TestMoveCostIsConstant: a move runs the same statements in a channel of
// 300 nodes as in one of 5,000.
func TestMoveCostIsConstant(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		counts := map[int]int64{}
		for _, size := range []int{300, 5000} {
			ch := dbtest.Channel(t, d, w.ed, fmt.Sprint(size))
			n := dbtest.Tree(t, d, w.node(ch.RootID), wideTree(size))
			ctx, counter := db.WithCounter(context.Background())
			_, err := d.Apply(ctx, w.ed, []db.Change{move(n["V0.0.1"].ID, n["T0.1"].ID, db.FirstChild)}, true)
			require.NoError(t, err)
			counts[size] = counter.Load()
		}
		require.Equal(t, counts[300], counts[5000])
	})
}

func requireDisallowed(t *testing.T, res *db.Result, indexes ...int) {
	t.Helper()
	var got []int
	for _, d := range res.Disallowed {
		got = append(got, d.Index)
	}
	require.Equal(t, indexes, got)
	require.Empty(t, res.Applied)
}

// TestUpdateBatches: a batch of updates is applied in order, twice to the
// same node included, and a bad one fails alone.
func TestUpdateBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "video A\nvideo B")
		res := w.apply(w.ed,
			update(n["A"].ID, map[string]any{"title": "A1", "tags.x": true}),
			update(n["B"].ID, map[string]any{"title": "B1"}),
			update(n["B"].ID, map[string]any{"kind": "audio"}),
			update(n["A"].ID, map[string]any{"title": "A2", "tags.x": nil, "tags.y": true}),
		)
		require.Len(t, res.Applied, 3)
		require.Len(t, res.Errors, 1)
		require.Equal(t, 2, res.Errors[0].Index)
		require.Equal(t, "A2", w.node(n["A"].ID).Title)
		require.Equal(t, "B1", w.node(n["B"].ID).Title)
		tags, err := d.TagsByNode(context.Background(), []models.ID{n["A"].ID})
		require.NoError(t, err)
		require.Equal(t, []string{"y"}, tags[n["A"].ID])
		for i := 1; i < len(res.Applied); i++ {
			require.Greater(t, res.Applied[i].ServerRev, res.Applied[i-1].ServerRev)
		}
	})
}

func TestFileChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		n := dbtest.Tree(t, d, w.node(w.ch.RootID), "video A\nvideo B")
		files, err := d.FilesByNode(ctx, []models.ID{n["A"].ID, n["B"].ID})
		require.NoError(t, err)
		fa, fb := files[n["A"].ID][0], files[n["B"].ID][0]
		file := func(typ models.ChangeType, id models.ID, mods map[string]any) db.Change {
			return db.Change{Type: typ, Table: db.TableFile, Key: id, Mods: mods}
		}

		e := w.fails(db.Change{Type: models.ChangeCreated, Table: db.TableFile, Key: models.NewID(), Obj: map[string]any{"checksum": "x"}})
		require.Contains(t, e.Message, "uploading")
		w.ok(file(models.ChangeUpdated, fa.ID, map[string]any{"language": "fr", "duration": 30}))
		require.Equal(t, models.CodeBadUserInput, w.fails(file(models.ChangeUpdated, fa.ID, map[string]any{"duration": -1})).Code)
		require.Equal(t, models.CodeBadUserInput, w.fails(file(models.ChangeUpdated, fa.ID, map[string]any{"preset": "document"})).Code)

		// Moving B's file to A leaves B without one: incomplete.
		require.True(t, w.node(n["B"].ID).Complete)
		w.ok(file(models.ChangeUpdated, fb.ID, map[string]any{"contentnode": n["A"].ID.String()}))
		require.False(t, w.node(n["B"].ID).Complete)
		require.True(t, w.node(n["A"].ID).Complete)

		// 28: on a copy, deleting a file gives the copy a content_id of its
		// own; the original keeps its own.
		cp := models.NewID()
		w.ok(copyOf(cp, n["A"].ID, w.ch.RootID, db.LastChild))
		require.Equal(t, n["A"].ContentID, w.node(cp).ContentID)
		copied, err := d.FilesByNode(ctx, []models.ID{cp})
		require.NoError(t, err)
		w.ok(file(models.ChangeDeleted, copied[cp][0].ID, nil))
		require.NotEqual(t, n["A"].ContentID, w.node(cp).ContentID)
		require.Equal(t, n["A"].ContentID, w.node(n["A"].ID).ContentID)
		// Deleting on the original does not change its content_id.
		w.ok(file(models.ChangeDeleted, fa.ID, nil))
		require.Equal(t, n["A"].ContentID, w.node(n["A"].ID).ContentID)
		// A viewer may not touch files.
		requireDisallowed(t, w.apply(w.viewer, file(models.ChangeDeleted, fb.ID, nil)), 0)
	})
}
