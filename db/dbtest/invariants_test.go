package dbtest_test

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

// treeFixture is two channels with healthy trees: Maths has nodes in both
// its main tree and its trash.
type treeFixture struct {
	ch, other *models.Channel
	n         map[string]*models.ContentNode
}

func newTreeFixture(t *testing.T, d *db.DB) treeFixture {
	t.Helper()
	u := dbtest.User(t, d, "ed@example.org", false)
	ch := dbtest.Channel(t, d, u, "Maths")
	other := dbtest.Channel(t, d, u, "Other")
	n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), `
topic Algebra
  topic Linear
    video Lines
    exercise Slopes
  document Notes
topic Geometry
  video Circles`)
	for k, v := range dbtest.Tree(t, d, dbtest.Node(t, d, ch.TrashRootID), "topic Old\n  video Gone") {
		n[k] = v
	}
	dbtest.Tree(t, d, dbtest.Node(t, d, other.RootID), "video Elsewhere")
	return treeFixture{ch: ch, other: other, n: n}
}

func violations(t *testing.T, d *db.DB) []string {
	t.Helper()
	v, err := dbtest.TreeViolations(t, d)
	require.NoError(t, err)
	return v
}

func TestTreeHealthy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		require.Empty(t, violations(t, d), "an empty database")
		newTreeFixture(t, d)
		require.Empty(t, violations(t, d))
		dbtest.CheckTree(t, d)
	})
}

func TestTreeViolations(t *testing.T) {
	ctx := context.Background()
	setParent := func(t *testing.T, d *db.DB, id models.ID, parent any) {
		t.Helper()
		q := d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).Where("id = ?", id)
		if parent == nil {
			q = q.Set("parent_id = NULL")
		} else {
			q = q.Set("parent_id = ?", parent)
		}
		_, err := q.Exec(ctx)
		require.NoError(t, err)
	}
	set := func(t *testing.T, d *db.DB, id models.ID, column string, value any) {
		t.Helper()
		_, err := d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).
			Set("? = ?", bun.Ident(column), value).Where("id = ?", id).Exec(ctx)
		require.NoError(t, err)
	}
	id := func(n *models.ContentNode) string { return n.ID.String() }

	for _, c := range []struct {
		name string
		// corrupt breaks the fixture and returns the violations it expects:
		// each is a set of substrings that one message must all contain.
		corrupt func(t *testing.T, d *db.DB, f treeFixture) [][]string
	}{
		{"cycle", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			// Algebra under its own child Linear: both leave the tree, with
			// the nodes below them. (A sort_order of its own, or it would
			// share Lines's.)
			setParent(t, d, f.n["Algebra"].ID, f.n["Linear"].ID)
			set(t, d, f.n["Algebra"].ID, "sort_order", 9)
			return [][]string{
				{"cycle", id(f.n["Algebra"]), id(f.n["Linear"])},
				{"unreachable", id(f.n["Lines"])},
				{"unreachable", id(f.n["Slopes"])},
				{"unreachable", id(f.n["Notes"])},
			}
		}},
		{"self cycle", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			setParent(t, d, f.n["Circles"].ID, f.n["Circles"].ID)
			return [][]string{{"cycle", id(f.n["Circles"]) + " -> " + id(f.n["Circles"])}}
		}},
		{"wrong channel_id", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			set(t, d, f.n["Lines"].ID, "channel_id", f.other.ID)
			return [][]string{{id(f.n["Lines"]), "channel_id " + f.other.ID.String(), f.ch.RootID.String()}}
		}},
		{"wrong root_id", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			// Slopes claims the trash tree but hangs in the main one.
			set(t, d, f.n["Slopes"].ID, "root_id", f.ch.TrashRootID)
			return [][]string{{id(f.n["Slopes"]), "root_id " + f.ch.TrashRootID.String(), f.ch.RootID.String()}}
		}},
		{"moved without its root_id", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			// Old moved from the trash to the main tree, root_id left behind:
			// Old and Gone are both wrong.
			setParent(t, d, f.n["Old"].ID, f.ch.RootID)
			set(t, d, f.n["Old"].ID, "sort_order", 3)
			return [][]string{
				{id(f.n["Old"]), "root_id " + f.ch.TrashRootID.String()},
				{id(f.n["Gone"]), "root_id " + f.ch.TrashRootID.String()},
			}
		}},
		{"duplicate sort_order", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			set(t, d, f.n["Geometry"].ID, "sort_order", f.n["Algebra"].SortOrder)
			return [][]string{{"sort_order", f.ch.RootID.String(), id(f.n["Algebra"]), id(f.n["Geometry"])}}
		}},
		{"parentless non-root", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			setParent(t, d, f.n["Linear"].ID, nil)
			return [][]string{
				{"parent_id NULL", id(f.n["Linear"])},
				{"unreachable", id(f.n["Lines"]), "descends from " + id(f.n["Linear"])},
				{"unreachable", id(f.n["Slopes"]), "descends from " + id(f.n["Linear"])},
			}
		}},
		{"missing trash root", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			// channels.trash_root_id has no foreign key; the old trash root
			// is left parentless.
			missing := models.NewID()
			_, err := d.ForTest(t).ExecContext(ctx, "UPDATE channels SET trash_root_id = ? WHERE id = ?", missing, f.ch.ID)
			require.NoError(t, err)
			return [][]string{
				{"trash_root_id", missing.String(), "does not exist"},
				{"parent_id NULL", f.ch.TrashRootID.String()},
				{"unreachable", id(f.n["Old"])},
				{"unreachable", id(f.n["Gone"])},
			}
		}},
		{"root with a parent", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			setParent(t, d, f.ch.TrashRootID, f.ch.RootID)
			return [][]string{{"trash_root_id", f.ch.TrashRootID.String(), "parent_id " + f.ch.RootID.String()}}
		}},
		{"root of another channel", func(t *testing.T, d *db.DB, f treeFixture) [][]string {
			// The channels table, not the root row, says whose tree it is,
			// so only the root is reported, not its child Elsewhere.
			set(t, d, f.other.RootID, "channel_id", f.ch.ID)
			return [][]string{{f.other.RootID.String(), "channel_id " + f.ch.ID.String()}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				f := newTreeFixture(t, d)
				require.Empty(t, violations(t, d), "before corrupting")
				want := c.corrupt(t, d, f)
				got := violations(t, d)
				require.Len(t, got, len(want), "violations:\n%s", strings.Join(got, "\n"))
				for _, w := range want {
					require.True(t, anyContainsAll(got, w), "no violation mentions all of %q in:\n%s", w, strings.Join(got, "\n"))
				}
			})
		})
	}
}

// TestCheckTreeFails shows CheckTree reports through t.Errorf.
func TestCheckTreeFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newTreeFixture(t, d)
		_, err := d.ForTest(t).NewUpdate().Model((*models.ContentNode)(nil)).
			Set("parent_id = NULL").Where("id = ?", f.n["Linear"].ID).Exec(context.Background())
		require.NoError(t, err)
		r := &recorder{TB: t}
		dbtest.CheckTree(r, d)
		require.Len(t, r.errors, 1)
		require.Contains(t, r.errors[0], "3 tree invariant violation(s)")
		require.Contains(t, r.errors[0], f.n["Linear"].ID.String())
	})
}

// recorder is a testing.TB that keeps errors instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func anyContainsAll(msgs, parts []string) bool {
	for _, m := range msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			return true
		}
	}
	return false
}

// BenchmarkTreeViolations checks 100,000 nodes: 1,000 topics of 99 children.
func BenchmarkTreeViolations(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	u := dbtest.User(b, d, "ed@example.org", false)
	ch := dbtest.Channel(b, d, u, "Big")
	var lit strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&lit, "topic T%d\n", i)
		for j := range 99 {
			fmt.Fprintf(&lit, "  topic T%d.%d\n", i, j)
		}
	}
	dbtest.Tree(b, d, dbtest.Node(b, d, ch.RootID), lit.String())
	for b.Loop() {
		v, err := dbtest.TreeViolations(b, d)
		if err != nil || len(v) > 0 {
			b.Fatal(err, v)
		}
	}
}
