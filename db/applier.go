package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"modernc.org/sqlite"

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

	// outcomes of the group being applied, one per change.
	outcomes []outcome
	// log holds the entries of applied changes, in order, until flush.
	log     []*models.Change
	written map[models.ID]bool
}

type outcome struct {
	channel   models.ID
	generated []*models.Change
}

func newApplier(d *DB, tx bun.Tx, u *models.User, atomic bool) *applier {
	return &applier{d: d, tx: tx, u: u, atomic: atomic, now: now(), written: map[models.ID]bool{}}
}

// forget drops what the applier cached, after a savepoint rollback undid it.
func (a *applier) forget() {
	a.channels, a.viewed, a.nodes, a.siblings = nil, nil, nil, nil
}

// isConstraint reports an SQLite constraint violation.
func isConstraint(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && liteErr.Code()&0xff == 19 // SQLITE_CONSTRAINT
}

// editChannel locks a channel for writing by the caller and checks they may
// edit it. Writers of one channel serialise on this lock (PostgreSQL's row
// lock; SQLite's single writer), so tree operations never interleave.
//
// What was read before the lock may have changed while waiting for it, so
// taking a new lock forgets every cached node: all that is cached was read
// under the locks held.
func (a *applier) editChannel(ctx context.Context, id models.ID) (*ChannelAccess, error) {
	if ca, ok := a.channels[id]; ok {
		return ca, nil
	}
	a.nodes, a.siblings = nil, nil
	var rows []channelRow
	q := a.d.selectChannels(a.tx, a.u, &rows).Where("c.id = ?", id)
	if a.d.Kind == Postgres {
		q = q.For("UPDATE OF c")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: lock channel: %w", err)
	}
	if len(rows) == 0 {
		return nil, disallow(notFound("channel", id))
	}
	ca := decideRows(a.u, rows)[0]
	switch {
	case !ca.Access.CanView():
		return nil, disallow(notFound("channel", id))
	case !ca.Access.CanEdit():
		return nil, disallow(models.Errorf(models.CodeForbidden, "you may view channel %s but not edit it", id))
	}
	if a.channels == nil {
		a.channels = map[models.ID]*ChannelAccess{}
	}
	a.channels[id] = &ca
	return &ca, nil
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
func (a *applier) editableNode(ctx context.Context, id models.ID, channelID *models.ID) (*models.ContentNode, *ChannelAccess, error) {
	for {
		n, err := a.node(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if channelID != nil && *channelID != n.ChannelID {
			return nil, nil, disallow(models.Errorf(models.CodeNotFound, "node %s is not in channel %s", id, *channelID))
		}
		_, held := a.channels[n.ChannelID]
		ca, err := a.editChannel(ctx, n.ChannelID)
		if err != nil || held {
			return n, ca, err
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

// flush appends the applied changes and what they generated to the log, in
// one statement, and fills in their revs.
func (a *applier) flush(ctx context.Context, res *Result) error {
	if err := appendChanges(ctx, a.tx, a.log...); err != nil {
		return err
	}
	for i := range res.Applied {
		if e := res.Applied[i].entry; e != nil {
			res.Applied[i].ServerRev = e.ServerRev
		}
	}
	for id := range a.written {
		res.Channels = append(res.Channels, id)
	}
	return a.announce(ctx, res.Channels)
}
