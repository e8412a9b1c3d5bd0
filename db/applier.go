package db

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// applier applies one batch of changes inside one transaction. It caches
// what it reads (channels it locked, nodes, sibling orders) for the batch.
type applier struct {
	d      *DB
	tx     bun.Tx
	u      *models.User
	atomic bool
	now    time.Time

	fatal      error // ends the batch
	stmtFailed bool  // a statement failed: the savepoint must be rolled back

	channels map[models.ID]*ChannelAccess // locked for writing in this transaction
	viewed   map[models.ID]*ChannelAccess // read only (copy sources)
	nodes    map[models.ID]*models.ContentNode
	siblings map[models.ID]*siblings

	// copyMaps says the temporary tables of copies are ready in this
	// transaction; copies numbers the copies made, which share them.
	copyMaps bool
	copies   int

	// moves are the moves of the group being applied not yet written;
	// anything that reads the tree writes them first (flushMoves).
	moves *pendingMoves

	// outcomes of the group being applied, one per change.
	outcomes []outcome
	// log holds the entries of applied changes, in order, for the door.
	log     []*models.Change
	written map[models.ID]bool
}

type outcome struct {
	channel   models.ID
	generated []*models.Change
	// logged is what the change's log entry says beyond the change itself,
	// for clients that keep a cache: the parent a node left
	// (previous_parent), the nodes UPDATED_DESCENDANTS changed (touched).
	logged map[string]any
}

// note adds key to what the k-th change's log entry says (outcome.logged).
func (a *applier) note(k int, key string, v any) {
	if a.outcomes[k].logged == nil {
		a.outcomes[k].logged = map[string]any{}
	}
	a.outcomes[k].logged[key] = v
}

func newApplier(d *DB, tx bun.Tx, u *models.User, atomic bool) *applier {
	return &applier{d: d, tx: tx, u: u, atomic: atomic, now: now(), written: map[models.ID]bool{}}
}

// forget drops what the applier cached, after a savepoint rollback undid it.
func (a *applier) forget() {
	a.channels, a.viewed, a.nodes, a.siblings = nil, nil, nil, nil
	a.copyMaps = false
}

// editChannel locks a channel for writing by the caller and checks they may
// edit it. Writers of one channel serialise on this lock (PostgreSQL's row
// lock; SQLite's single writer), so tree operations never interleave.
//
// Access is decided before the lock is taken: someone who may not edit the
// channel must not hold up its editors. On PostgreSQL access is decided
// again under the lock, as it may have changed meanwhile.
//
// What was read before the lock may have changed while waiting for it, so
// taking a new lock forgets every cached node: all that is cached was read
// under the locks held.
func (a *applier) editChannel(ctx context.Context, id models.ID) (*ChannelAccess, error) {
	if ca, ok := a.channels[id]; ok {
		return ca, nil
	}
	ca, err := a.editAccess(ctx, id, false)
	if err != nil {
		return nil, err
	}
	a.nodes, a.siblings = nil, nil
	if a.d.dialect.rowLocks {
		if ca, err = a.editAccess(ctx, id, true); err != nil {
			return nil, err
		}
	}
	if a.channels == nil {
		a.channels = map[models.ID]*ChannelAccess{}
	}
	a.channels[id] = ca
	return ca, nil
}

// editAccess reads a channel, with its row locked if lock, and refuses it
// unless the caller may edit it.
func (a *applier) editAccess(ctx context.Context, id models.ID, lock bool) (*ChannelAccess, error) {
	var rows []channelRow
	q := a.d.selectChannels(a.tx, a.u, &rows).Where("c.id = ?", id)
	if lock {
		q = q.For("UPDATE OF c")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lock channel: %w", err)
	}
	if len(rows) == 0 {
		return nil, disallow(notFound("channel", id))
	}
	ca := decideRows(a.u, rows)[0]
	if err := refuseEdit(ca, id); err != nil {
		return nil, disallow(err)
	}
	return &ca, nil
}

// refuseEdit is the error an edit of channel id meets with access ca: not
// found to whoever may not see it, forbidden to a viewer; nil to an editor.
func refuseEdit(ca ChannelAccess, id models.ID) error {
	switch {
	case ca.Channel == nil || !ca.Access.CanView():
		return notFound("channel", id)
	case !ca.Access.CanEdit():
		return models.Errorf(models.CodeForbidden, "you may view channel %s but not edit it", id)
	}
	return nil
}

// CheckEdit says, before any work is done for it, whether u may edit
// channel id, with the error the edit would meet; the edit decides again
// under its lock. It keeps a caller who may not edit the channel from
// making the server do anything for them (an import's lookup of its source).
func (d *DB) CheckEdit(ctx context.Context, u *models.User, id models.ID) error {
	got, err := d.ChannelsByID(ctx, u, []models.ID{id})
	if err != nil {
		return err
	}
	return refuseEdit(got[id], id)
}

// lockChannels takes the locks of the channels of nodes, in the order of
// their ids, so that two writers of the same channels never wait for each
// other in a circle (a deadlock). Refusals are left for each change to
// report; only an error that ends the batch is returned.
//
// A node's channel is known only from a read before its lock, so the nodes
// (with the extra ones, such as the ids a change is to create) are read
// again under the locks, and a node that meanwhile went to another channel
// has that one locked too: when lockChannels returns, every node of nodes
// that exists was read while the lock of its channel was held, unless the
// caller may not edit that channel.
func (a *applier) lockChannels(ctx context.Context, nodes []models.ID, extra ...models.ID) error {
	all := append(append([]models.ID(nil), nodes...), extra...)
	tried := map[models.ID]bool{}
	for {
		if err := a.loadNodes(ctx, all); err != nil {
			return err
		}
		var ids []models.ID
		for _, id := range nodes {
			if n, ok := a.nodes[id]; ok && !tried[n.ChannelID] {
				tried[n.ChannelID] = true
				ids = append(ids, n.ChannelID)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if err := a.lockChannelIDs(ctx, ids); err != nil {
			return err
		}
	}
}

// lockChannelIDs takes the locks of the channels ids not held yet, in the
// order of their ids. A channel the caller may not edit is left for its
// changes to refuse. Taking a lock forgets every cached node (editChannel).
func (a *applier) lockChannelIDs(ctx context.Context, ids []models.ID) error {
	var todo []models.ID
	seen := map[models.ID]bool{}
	for _, id := range ids {
		if _, held := a.channels[id]; !held && !seen[id] {
			seen[id] = true
			todo = append(todo, id)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].String() < todo[j].String() })
	for _, id := range todo {
		if _, err := a.editChannel(ctx, id); err != nil && !isDisallowed(err) {
			return err
		}
	}
	return nil
}

// lockBatch takes, before a batch of several groups of changes runs, the
// locks of the channels of the nodes its node changes write to or copy from
// (keys, targets, parents and copies' sources), in the order of their ids,
// as each group's handler does for its group: batches that write to the
// same channels, in whatever order, then take their locks in the same order
// and do not deadlock. Changes that reach further channels (through a
// file's or a question's node) lock them when they meet them; retryTx
// retries the rare deadlock that is left.
func (a *applier) lockBatch(ctx context.Context, changes []Change) error {
	if len(changes) < 2 || groupEnd(changes, 0) == len(changes) {
		return nil // one group: its handler locks what it needs, in this order
	}
	var ids []models.ID
	for _, c := range changes {
		if c.Table != TableContentNode {
			continue
		}
		if id, err := keyID(c.Key); err == nil {
			ids = append(ids, id) // for a created node, whether the id is taken
		}
		if c.Target != nil {
			ids = append(ids, *c.Target)
		} else if p, err := idValue("parent", c.Obj["parent"]); err == nil {
			ids = append(ids, p)
		}
		if c.FromKey != nil {
			ids = append(ids, *c.FromKey)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return a.lockChannels(ctx, ids)
}

// viewChannel loads a channel the caller only reads from, such as a copy's source.
func (a *applier) viewChannel(ctx context.Context, id models.ID) (*ChannelAccess, error) {
	if ca, ok := a.channels[id]; ok {
		return ca, nil
	}
	if ca, ok := a.viewed[id]; ok {
		return ca, nil
	}
	var rows []channelRow
	if err := a.d.selectChannels(a.tx, a.u, &rows).Where("c.id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: load channel: %w", err)
	}
	if len(rows) == 0 {
		return nil, notFound("channel", id)
	}
	ca := decideRows(a.u, rows)[0]
	if a.viewed == nil {
		a.viewed = map[models.ID]*ChannelAccess{}
	}
	a.viewed[id] = &ca
	return &ca, nil
}

// loadNodes reads the nodes with ids that are not cached yet, in one statement.
func (a *applier) loadNodes(ctx context.Context, ids []models.ID) error {
	var missing []models.ID
	for _, id := range ids {
		if _, ok := a.nodes[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := a.flushMoves(ctx); err != nil {
		return err
	}
	var ns []*models.ContentNode
	if err := a.tx.NewSelect().Model(&ns).Where("cn.id IN (?)", list(missing)).Scan(ctx); err != nil {
		return fmt.Errorf("db: load nodes: %w", err)
	}
	if a.nodes == nil {
		a.nodes = map[models.ID]*models.ContentNode{}
	}
	for _, n := range ns {
		a.nodes[n.ID] = n
	}
	return nil
}

// cache remembers a node as this transaction left it.
func (a *applier) cache(n *models.ContentNode) {
	if a.nodes == nil {
		a.nodes = map[models.ID]*models.ContentNode{}
	}
	a.nodes[n.ID] = n
}

// node returns a node of this transaction, or NOT_FOUND.
func (a *applier) node(ctx context.Context, id models.ID) (*models.ContentNode, error) {
	if err := a.loadNodes(ctx, []models.ID{id}); err != nil {
		return nil, err
	}
	if n, ok := a.nodes[id]; ok {
		return n, nil
	}
	return nil, notFound("node", id)
}

// editableNode returns a node the caller may edit, with its channel locked
// and the node read under the lock. A change that names a channel must name
// the node's.
func (a *applier) editableNode(ctx context.Context, id models.ID, channelID *models.ID) (*models.ContentNode, error) {
	for {
		n, err := a.node(ctx, id)
		if err != nil {
			return nil, err
		}
		if channelID != nil && *channelID != n.ChannelID {
			return nil, disallow(models.Errorf(models.CodeNotFound, "node %s is not in channel %s", id, *channelID))
		}
		_, held := a.channels[n.ChannelID]
		_, err = a.editChannel(ctx, n.ChannelID)
		if err != nil || held {
			return n, err
		}
		// Newly locked: read the node again, in case it moved meanwhile.
	}
}

// isRoot says whether n is the root of one of its channel's trees.
func isRoot(n *models.ContentNode) bool { return n.ParentID == nil }

// markChanged sets changed on nodes (the parents of what was added, moved or
// removed), as Studio does, and bumps their modification time.
func (a *applier) markChanged(ctx context.Context, ids ...models.ID) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := a.tx.NewUpdate().Model((*models.ContentNode)(nil)).
		Set("changed = ?", true).Set("modified_at = ?", a.now).Set("modified_by_id = ?", a.u.ID).
		Where("id IN (?)", list(ids)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: mark changed: %w", err)
	}
	for _, id := range ids {
		if n, ok := a.nodes[id]; ok {
			n.Changed, n.ModifiedAt, n.ModifiedByID = true, a.now, &a.u.ID
		}
	}
	return nil
}

// generate records a change the server makes in reply to the k-th change of the group.
func (a *applier) generate(k int, table string, key any, mods map[string]any) {
	ch := a.outcomes[k].channel
	a.outcomes[k].generated = append(a.outcomes[k].generated, &models.Change{
		ChannelID: &ch, CreatedByID: &a.u.ID, Table: table, Type: models.ChangeUpdated,
		Key: key, Payload: map[string]any{"mods": mods},
	})
}

// alsoLog logs the k-th change of the group in a second channel too, for a
// change that takes something from one channel to another (a move, a file),
// so that the clients of both hear of it and both are woken. The second
// entry is the server's: it carries no client rev, so that each of a
// client's changes is logged once under its rev.
func (a *applier) alsoLog(k int, c Change, channel models.ID) {
	e := a.logEntry(c, channel)
	e.ClientRev = nil
	maps.Copy(e.Payload, a.outcomes[k].logged)
	a.outcomes[k].generated = append(a.outcomes[k].generated, e)
	a.written[channel] = true
}

// logEntry is the change-log entry of an applied change.
func (a *applier) logEntry(c Change, channel models.ID) *models.Change {
	p := map[string]any{}
	if c.Obj != nil {
		p["obj"] = c.Obj
	}
	if c.Mods != nil {
		p["mods"] = c.Mods
	}
	if c.Target != nil {
		p["target"] = *c.Target
	}
	if c.Position != "" {
		p["position"] = c.Position
	}
	if c.FromKey != nil {
		p["from_key"] = *c.FromKey
	}
	if len(c.ExcludedDescendants) > 0 {
		p["excluded_descendants"] = c.ExcludedDescendants
	}
	return &models.Change{ChannelID: &channel, CreatedByID: &a.u.ID, ClientRev: c.ClientRev,
		Table: c.Table, Type: c.Type, Key: c.Key, Payload: p}
}

// otherTables are the tables whose ids share one space with content
// nodes' and channels' (Query.node finds any of them by id), each with
// what its rows are called.
var otherTables = []struct{ table, what string }{
	{"channels", "a channel"}, {"content_nodes", "a content node"}, {"files", "a file"},
	{"assessment_items", "a question"}, {"users", "a user"},
}

// idsInUse says which of ids another table than own already uses, and
// what has each: one statement, whatever the number of ids. A client may
// choose the ids of what it creates; none may be another entity's.
func (a *applier) idsInUse(ctx context.Context, ids []models.ID, own string) (map[models.ID]string, error) {
	out := map[models.ID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var parts []string
	var args []any
	for _, t := range otherTables {
		if t.table != own {
			parts = append(parts, "SELECT id, ? AS what FROM "+t.table+" WHERE id IN (?)")
			args = append(args, t.what, list(ids))
		}
	}
	var rows []struct {
		ID   models.ID `bun:"id"`
		What string    `bun:"what"`
	}
	if err := a.tx.NewRaw(strings.Join(parts, " UNION ALL "), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("db: ids in use: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.What
	}
	return out, nil
}
