package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/models"
)

// CheckTree fails t, listing what is wrong, unless every tree in d satisfies
// the invariants TreeViolations checks. Call it after code that moves, copies
// or deletes nodes.
func CheckTree(t testing.TB, d *db.DB) {
	t.Helper()
	v, err := TreeViolations(t, d)
	require.NoError(t, err, "dbtest: read the trees")
	if len(v) == 0 {
		return
	}
	// A broken subtree yields a line per node; the first lines say why.
	const show = 50
	total, more := len(v), ""
	if total > show {
		more = fmt.Sprintf("\n  … and %d more", total-show)
		v = v[:show]
	}
	t.Errorf("dbtest: %d tree invariant violation(s):\n  %s%s", total, strings.Join(v, "\n  "), more)
}

// TreeViolations checks every channel's main and trash trees and returns one
// message, naming the ids, per thing wrong; none means the trees are sound:
//
//  1. each channel's root_id and trash_root_id name existing, distinct nodes
//     with parent_id NULL, root_id their own id and channel_id the channel;
//  2. every node is reachable from some channel's root or trash root (so there
//     are no orphans and no parent_id cycles), and every node with parent_id
//     NULL is such a root;
//  3. every node reachable from a root has that root as root_id and the root's
//     channel as channel_id;
//  4. siblings have distinct sort_order values.
//
// It reads all channels and nodes in two queries and checks them in Go, which
// is linear and the same on both databases. The database should be quiescent:
// the two reads are not one snapshot.
func TreeViolations(t testing.TB, d *db.DB) ([]string, error) {
	ctx, sql := context.Background(), d.ForTest(t)
	chans, err := loadTreeChannels(ctx, sql)
	if err != nil {
		return nil, err
	}
	nodes, err := loadTreeNodes(ctx, sql)
	if err != nil {
		return nil, err
	}
	return treeViolations(chans, nodes), nil
}

type treeChannel struct {
	id, root, trash models.ID
	// more are its other trees: a chef's upload, the staging tree, trees
	// replaced and not collected yet.
	more []namedRoot
}

type namedRoot struct {
	field string
	id    models.ID
}

type treeNode struct {
	id, channel, root models.ID
	parent            sql.Null[models.ID]
	sort              float64
}

func loadTreeChannels(ctx context.Context, d *bun.DB) ([]treeChannel, error) {
	rows, err := d.QueryContext(ctx, "SELECT id, root_id, trash_root_id, chef_root_id, staging_root_id FROM channels ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("dbtest: read channels: %w", err)
	}
	defer rows.Close()
	var out []treeChannel
	byID := map[models.ID]int{}
	for rows.Next() {
		var c treeChannel
		var chef, staging sql.Null[models.ID]
		if err := rows.Scan(&c.id, &c.root, &c.trash, &chef, &staging); err != nil {
			return nil, fmt.Errorf("dbtest: read channels: %w", err)
		}
		if chef.Valid {
			c.more = append(c.more, namedRoot{"chef_root_id", chef.V})
		}
		if staging.Valid {
			c.more = append(c.more, namedRoot{"staging_root_id", staging.V})
		}
		byID[c.id] = len(out)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dbtest: read channels: %w", err)
	}
	var garbage []struct {
		Root    models.ID `bun:"root_id"`
		Channel models.ID `bun:"channel_id"`
	}
	if err := d.NewRaw("SELECT root_id, channel_id FROM garbage_trees ORDER BY root_id").Scan(ctx, &garbage); err != nil {
		return nil, fmt.Errorf("dbtest: read garbage trees: %w", err)
	}
	for _, g := range garbage {
		if i, ok := byID[g.Channel]; ok {
			out[i].more = append(out[i].more, namedRoot{"garbage tree", g.Root})
		}
	}
	return out, nil
}

func loadTreeNodes(ctx context.Context, d *bun.DB) ([]treeNode, error) {
	// Ordered by id so that the messages come out in a stable order.
	rows, err := d.QueryContext(ctx,
		"SELECT id, parent_id, channel_id, root_id, sort_order FROM content_nodes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("dbtest: read nodes: %w", err)
	}
	defer rows.Close()
	var out []treeNode
	for rows.Next() {
		var n treeNode
		if err := rows.Scan(&n.id, &n.parent, &n.channel, &n.root, &n.sort); err != nil {
			return nil, fmt.Errorf("dbtest: read nodes: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dbtest: read nodes: %w", err)
	}
	return out, nil
}

// treeRoot is a channel's root or trash root, as the channels table names it.
type treeRoot struct {
	channel models.ID
	field   string // "root_id" or "trash_root_id"
}

func (r treeRoot) String() string { return "channel " + r.channel.String() + "'s " + r.field }

func treeViolations(chans []treeChannel, nodes []treeNode) []string {
	var v []string
	bad := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }

	index := make(map[models.ID]int, len(nodes))
	for i, n := range nodes {
		index[n.id] = i
	}

	// 1. The roots the channels name. rootOf keeps the first claim on a node,
	// so a node claimed twice is traversed once, as the first claimant's tree.
	rootOf := make(map[int]treeRoot, 2*len(chans))
	var roots []int // in channel order, each channel's root before its trash
	for _, c := range chans {
		if c.root == c.trash {
			bad("channel %s: root_id and trash_root_id are both %s", c.id, c.root)
		}
		for _, r := range append([]namedRoot{{"root_id", c.root}, {"trash_root_id", c.trash}}, c.more...) {
			claim := treeRoot{c.id, r.field}
			i, ok := index[r.id]
			if !ok {
				bad("%s: node %s does not exist", claim, r.id)
				continue
			}
			if prev, taken := rootOf[i]; taken {
				if prev.channel != c.id {
					bad("node %s is both %s and %s", r.id, prev, claim)
				}
				continue
			}
			rootOf[i] = claim
			roots = append(roots, i)
			n := nodes[i]
			if n.parent.Valid {
				bad("%s: node %s has parent_id %s, want NULL", claim, n.id, n.parent.V)
			}
			if n.root != n.id {
				bad("%s: node %s has root_id %s, want its own id", claim, n.id, n.root)
			}
			if n.channel != c.id {
				bad("%s: node %s has channel_id %s, want %s", claim, n.id, n.channel, c.id)
			}
		}
	}

	// Children by parent, as indexes; the parent_id foreign key should make a
	// missing parent impossible, but say so rather than skip the node.
	children := make([][]int, len(nodes))
	parent := make([]int, len(nodes)) // -1: parent_id NULL or missing
	for i, n := range nodes {
		parent[i] = -1
		if !n.parent.Valid {
			continue
		}
		p, ok := index[n.parent.V]
		if !ok {
			bad("node %s has parent_id %s, which does not exist", n.id, n.parent.V)
			continue
		}
		parent[i] = p
		children[p] = append(children[p], i)
	}

	// 2 and 3. Walk down from every root. A root met under another node is
	// not descended into there (its parent_id is reported above); its own walk
	// checks its tree.
	reached := make([]bool, len(nodes))
	for _, r := range roots {
		claim := rootOf[r]
		reached[r] = true
		stack := []int{r}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, c := range children[x] {
				if _, isRoot := rootOf[c]; isRoot || reached[c] {
					continue
				}
				reached[c] = true
				stack = append(stack, c)
				n := nodes[c]
				if n.root != nodes[r].id {
					bad("node %s has root_id %s, but it is in the tree of %s %s", n.id, n.root, claim, nodes[r].id)
				}
				if n.channel != claim.channel {
					bad("node %s has channel_id %s, but it is in the tree of %s %s", n.id, n.channel, claim, nodes[r].id)
				}
			}
		}
	}

	// 2. Explain the unreached nodes. Following parent_id up from one ends at
	// a parentless node that is no root, a missing parent, or a cycle; report
	// that cause once, and each node below it as descending from it.
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int8, len(nodes))
	cause := make([]int, len(nodes))
	for i := range nodes {
		if reached[i] || state[i] != unseen {
			continue
		}
		var path []int
		x := i
		for x >= 0 && !reached[x] && state[x] == unseen {
			state[x] = onPath
			path = append(path, x)
			x = parent[x]
		}
		var top int
		switch {
		case x >= 0 && state[x] == onPath: // path[k:] is a cycle
			k := 0
			for path[k] != x {
				k++
			}
			ids := make([]string, 0, len(path)-k+1)
			for _, y := range path[k:] {
				ids = append(ids, nodes[y].id.String())
			}
			ids = append(ids, nodes[x].id.String())
			bad("nodes %s form a parent_id cycle (each node's parent follows it), unreachable from every channel root",
				strings.Join(ids, " -> "))
			for _, y := range path[k:] {
				state[y], cause[y] = done, x
			}
			path, top = path[:k], x
		case x >= 0 && state[x] == done: // joins a path explained before
			top = cause[x]
		default: // x < 0: the path's last node has no parent, or a missing one
			last := path[len(path)-1]
			if !nodes[last].parent.Valid {
				bad("node %s has parent_id NULL but is no channel's root_id or trash_root_id", nodes[last].id)
			} // a missing parent was reported above
			state[last], cause[last] = done, last
			path, top = path[:len(path)-1], last
		}
		for _, y := range path {
			state[y], cause[y] = done, top
			bad("node %s is unreachable from every channel root: it descends from %s", nodes[y].id, nodes[top].id)
		}
	}

	// 4. Sibling sort orders. Roots have no parent, so no siblings.
	type sibling struct {
		parent int
		sort   float64
	}
	first := make(map[sibling]int, len(nodes))
	var dupKeys []sibling
	dups := map[sibling][]string{}
	for i, n := range nodes {
		if parent[i] < 0 {
			continue
		}
		k := sibling{parent[i], n.sort}
		j, seen := first[k]
		if !seen {
			first[k] = i
			continue
		}
		if dups[k] == nil {
			dupKeys = append(dupKeys, k)
			dups[k] = []string{nodes[j].id.String()}
		}
		dups[k] = append(dups[k], n.id.String())
	}
	for _, k := range dupKeys {
		bad("children of node %s share sort_order %v: %s", nodes[k.parent].id, k.sort, strings.Join(dups[k], ", "))
	}
	return v
}
