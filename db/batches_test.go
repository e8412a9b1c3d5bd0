package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestBatchedTreeWrites: moves and deletions of many nodes are applied
// together (a few statements for the lot), and a batch ends exactly as the
// same changes applied one by one do, also when they depend on each other:
// a node moved below one moved before it, a node moved out of a subtree that
// moves to another tree, a move into a node that moved, a cycle, a node
// deleted after (or before) its ancestor, a copy into a subtree that a later
// change copies.
func TestBatchedTreeWrites(t *testing.T) {
	const literal = `
topic A
  topic A1
    video A1a
  video A2
topic B
  video B1
video C`
	type step struct {
		op     string // move, copy (key is the source), delete
		key    string
		target string // a title, "trash" or "other" (another channel's root)
		pos    db.Position
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"moves within a tree", []step{{"move", "C", "A", db.FirstChild}, {"move", "B", "A1", db.Right}, {"move", "A2", "A1", db.Left}}},
		{"chained to the right", []step{{"move", "C", "A1", db.FirstChild}, {"move", "B1", "C", db.Right}, {"move", "A2", "B1", db.Right}}},
		{"to the trash", []step{{"move", "A2", "trash", db.LastChild}, {"move", "C", "trash", db.LastChild}, {"move", "B", "trash", db.LastChild}}},
		{"an ancestor then a descendant", []step{{"move", "A1", "trash", db.LastChild}, {"move", "A1a", "B", db.FirstChild}}},
		{"a descendant then an ancestor", []step{{"move", "A1a", "B", db.FirstChild}, {"move", "B", "other", db.LastChild}}},
		{"below a node that then leaves", []step{{"move", "C", "A1", db.LastChild}, {"move", "A", "other", db.LastChild}, {"move", "B1", "C", db.Left}}},
		{"into a node that moved", []step{{"move", "B", "A1", db.LastChild}, {"move", "C", "B", db.FirstChild}, {"move", "A2", "B1", db.Right}}},
		{"a cycle", []step{{"move", "A1", "B", db.LastChild}, {"move", "B", "A1a", db.Left}, {"move", "C", "A1", db.FirstChild}}},
		{"a node and its ancestor", []step{{"delete", "A1a", "", ""}, {"delete", "A", "", ""}, {"delete", "C", "", ""}}},
		{"an ancestor and its node", []step{{"delete", "A", "", ""}, {"delete", "A1a", "", ""}, {"delete", "B1", "", ""}}},
		{"copies", []step{{"copy", "A", "B", db.FirstChild}, {"copy", "C", "B", db.LastChild}, {"copy", "A1a", "A2", db.Right}}},
		{"a copy into what a later one copies", []step{{"copy", "C", "A1", db.LastChild}, {"copy", "A", "B", db.LastChild}}},
		{"a copy of what an earlier one copied into", []step{{"copy", "A", "B", db.LastChild}, {"copy", "C", "A1", db.LastChild}}},
		{"a copy to another channel", []step{{"copy", "A", "other", db.LastChild}, {"copy", "B", "other", db.FirstChild}}},
		{"moves then a delete", []step{{"move", "C", "A1", db.LastChild}, {"move", "A2", "C", db.Left}, {"delete", "A1", "", ""}}},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		// run applies the steps in a fresh pair of channels, in one batch
		// or one change at a time, and returns the trees and the number
		// of changes logged.
		run := func(steps []step, batch bool) (string, int, []string) {
			ch := dbtest.Channel(t, d, u, "Main")
			other := dbtest.Channel(t, d, u, "Other")
			n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), literal)
			var cs []db.Change
			for _, s := range steps {
				key := n[s.key].ID
				if s.op == "delete" {
					cs = append(cs, db.Change{Type: models.ChangeDeleted, Table: db.TableContentNode, Key: key})
					continue
				}
				var target models.ID
				switch s.target {
				case "trash":
					target = ch.TrashRootID
				case "other":
					target = other.RootID
				default:
					target = n[s.target].ID
				}
				if s.op == "copy" {
					cs = append(cs, db.Change{Type: models.ChangeCopied, Table: db.TableContentNode, Key: models.NewID(),
						FromKey: &key, Target: &target, Position: s.pos, Mods: map[string]any{"description": "copied"}})
					continue
				}
				cs = append(cs, db.Change{Type: models.ChangeMoved, Table: db.TableContentNode, Key: key, Target: &target, Position: s.pos})
			}
			var errs []string
			apply := func(cs []db.Change) {
				res, err := d.Apply(ctx, u, cs, false)
				require.NoError(t, err)
				for _, e := range res.Errors {
					errs = append(errs, fmt.Sprintf("%s: %s", e.Code, e.Message))
				}
			}
			if batch {
				apply(cs)
			} else {
				for _, c := range cs {
					apply([]db.Change{c})
				}
			}
			dbtest.CheckTree(t, d)
			logged, err := d.ForTest(t).NewSelect().TableExpr("changes").Where("channel_id IN (?)", bunList(ch.ID, other.ID)).Count(ctx)
			require.NoError(t, err)
			var b strings.Builder
			for _, root := range []struct {
				name string
				id   models.ID
			}{{"main", ch.RootID}, {"trash", ch.TrashRootID}, {"other", other.RootID}} {
				fmt.Fprintf(&b, "%s\n", root.name)
				writeTree(t, d, &b, root.id, 1)
			}
			return b.String(), int(logged), errs
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				oneByOne, logged, errs := run(c.steps, false)
				together, loggedTogether, errsTogether := run(c.steps, true)
				require.Equal(t, oneByOne, together)
				require.Equal(t, logged, loggedTogether, "changes logged")
				require.Equal(t, len(errs), len(errsTogether), "errors: %v, %v", errs, errsTogether)
			})
		}
	})
}

// writeTree writes the titles below parent, indented, with each node's
// channel and tree checked against its parent's.
func writeTree(t *testing.T, d *db.DB, b *strings.Builder, parent models.ID, depth int) {
	p := dbtest.Node(t, d, parent)
	var kids []*models.ContentNode
	require.NoError(t, d.ForTest(t).NewSelect().Model(&kids).Where("parent_id = ?", parent).Order("sort_order", "id").Scan(context.Background()))
	for _, k := range kids {
		require.Equal(t, p.RootID, k.RootID, k.Title)
		require.Equal(t, p.ChannelID, k.ChannelID, k.Title)
		fmt.Fprintf(b, "%s%s changed=%v %q\n", strings.Repeat("  ", depth), k.Title, k.Changed, k.Description)
		writeTree(t, d, b, k.ID, depth+1)
	}
}

func bunList(ids ...models.ID) any { return bun.List(ids) }
