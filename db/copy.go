package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"studio/models"
)

func isNodeCopy(c Change) bool {
	return c.Table == TableContentNode && c.Type == models.ChangeCopied
}

// copyPlan is a checked copy: what copyTrees needs to make it.
type copyPlan struct {
	k      int // the change's index in its group
	c      Change
	src    *models.ContentNode
	newID  models.ID
	parent *models.ContentNode
	pos    Position
	order  float64
	frozen bool // made by someone who cannot edit the source
	no     int  // the copy's number in the transaction (copy_nodes.copy_no)
}

// copyNodes applies a run of COPIED contentnode changes: from_key's subtree
// is copied to position relative to target, its root taking key as id.
// Copies keep content_id and get new node_ids; files (sharing their blobs),
// questions and tags come along, prerequisites do not. The copies are
// checked one by one, then made together, in a handful of statements
// whatever their number; when one copies what an earlier one made (a copy
// into a subtree that a later change copies), they are made one at a time.
func (a *applier) copyNodes(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var refs, keys []models.ID
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			keys = append(keys, id)
		}
		if c.FromKey != nil {
			refs = append(refs, *c.FromKey)
		}
		if c.Target != nil {
			refs = append(refs, *c.Target)
		}
	}
	// Lock the channels of the targets and of the sources (those the caller
	// may edit) first, then read the nodes under the locks: a source read
	// before its channel's lock may be moved or deleted by another editor
	// before the copy is made.
	if err := a.lockChannels(ctx, refs, keys...); err != nil {
		a.fatal = err
		return errs
	}
	// The ids taken, as read now: a lock taken below may empty the cache.
	taken := map[models.ID]bool{}
	for _, id := range keys {
		if _, ok := a.nodes[id]; ok {
			taken[id] = true
		}
	}
	inUse, err := a.idsInUse(ctx, keys, "content_nodes")
	if err != nil {
		a.fatal = err
		return errs
	}
	for id := range inUse {
		taken[id] = true
	}
	var plans []*copyPlan
	for k, c := range cs {
		p, err := a.checkCopy(ctx, k, c, taken)
		if err != nil {
			errs[k] = a.classify(err)
			if a.fatal != nil {
				return errs
			}
			continue
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return errs
	}
	together, err := a.copiesIndependent(ctx, plans)
	if err != nil {
		a.fatal = err
		return errs
	}
	batches := [][]*copyPlan{plans}
	if !together {
		batches = nil
		for _, p := range plans {
			batches = append(batches, []*copyPlan{p})
		}
	}
	for _, b := range batches {
		if err := a.makeCopies(ctx, b); err != nil {
			for _, p := range b {
				errs[p.k] = a.classify(err)
			}
			if a.fatal != nil || a.stmtFailed {
				return errs
			}
		}
	}
	return errs
}

// copiesIndependent says whether no copy's parent is in the subtree of a
// later copy's source: then making them all at once copies what making them
// one by one would.
func (a *applier) copiesIndependent(ctx context.Context, plans []*copyPlan) (bool, error) {
	if len(plans) < 2 {
		return true, nil
	}
	parents := make([]models.ID, len(plans))
	for i, p := range plans {
		parents[i] = p.parent.ID
	}
	up, err := a.ancestors(ctx, parents)
	if err != nil {
		return false, err
	}
	later := map[models.ID]bool{} // sources of the copies after plans[i]
	for i := len(plans) - 1; i >= 0; i-- {
		cur := plans[i].parent.ID
		for range maxDepth {
			if later[cur] {
				return false, nil
			}
			p, ok := up[cur]
			if !ok {
				return false, nil // not found: play safe
			}
			if p == nil {
				break
			}
			cur = *p
		}
		later[plans[i].src.ID] = true
	}
	return true, nil
}

// checkCopy checks a COPIED change (the k-th of its group), reading nothing
// but what copyNodes did not (such as the parent of a left or right target).
func (a *applier) checkCopy(ctx context.Context, k int, c Change, taken map[models.ID]bool) (*copyPlan, error) {
	newID, err := newKeyID(c.Key)
	if err != nil {
		return nil, err
	}
	if c.FromKey == nil {
		return nil, badField("from_key", "a copy needs the id of the node to copy")
	}
	if c.Target == nil {
		return nil, badField("target", "a copy needs a target node")
	}
	if taken[newID] {
		return nil, models.Errorf(models.CodeConflict, "the id %s is taken (a node or another entity has it); choose another id", newID)
	}
	src, err := a.node(ctx, *c.FromKey)
	if err != nil {
		return nil, err
	}
	srcAccess, err := a.viewChannel(ctx, src.ChannelID)
	if err != nil {
		return nil, err
	}
	if !srcAccess.Access.CanViewNode(srcAccess.Channel, src) {
		return nil, notFound("node", src.ID)
	}
	canEditSource := srcAccess.Access.CanEdit()
	for k := range c.Mods {
		field, _, _ := strings.Cut(k, ".")
		f := models.NodeFieldByColumn(field)
		allowed := f != nil && (f.Has(models.CopyMod) || canEditSource && f.Has(models.Authoring))
		if !allowed {
			return nil, badField("mods."+k, "a copy's root may change only title, description, aggregator, provider, language, role_visibility, extra_fields, suggested_duration and the labels (and license, copyright holder and author when you can edit the source)")
		}
	}
	pos := c.Position
	if pos == "" {
		pos = LastChild
	}
	parent, err := a.parentFor(ctx, *c.Target, pos, c.ChannelID)
	if err != nil {
		return nil, err
	}
	a.outcomes[k].channel = parent.ChannelID
	for _, id := range c.ExcludedDescendants {
		if id == src.ID || id == src.NodeID {
			return nil, badField("excluded_descendants", "excludes the node being copied")
		}
	}
	if len(c.Mods) > 0 {
		// The copy's root has the source's fields: check the mods on
		// them now, so that a copy is made only when they apply.
		cp := *src
		cp.FreezeAuthoringData = false
		if _, err := a.edit(&cp, c.Mods); err != nil {
			return nil, err
		}
	}
	return &copyPlan{k: k, c: c, src: src, newID: newID, parent: parent, pos: pos, frozen: !canEditSource}, nil
}

// makeCopies places and makes copies together, then applies their roots'
// mods and marks their parents changed.
func (a *applier) makeCopies(ctx context.Context, plans []*copyPlan) error {
	for _, p := range plans {
		order, err := a.place(ctx, p.parent.ID, p.pos, *p.c.Target, p.newID)
		if err != nil {
			return err
		}
		p.order = order
		a.copies++
		p.no = a.copies
	}
	if err := a.copyTrees(ctx, plans); err != nil {
		return err
	}
	ids := make([]models.ID, len(plans))
	for i, p := range plans {
		ids[i] = p.newID
	}
	if err := a.loadNodes(ctx, ids); err != nil {
		return err
	}
	var edits []*nodeEdit
	roots := make([]*models.ContentNode, len(plans))
	parents := make([]models.ID, len(plans))
	for i, p := range plans {
		root, ok := a.nodes[p.newID]
		if !ok {
			// Its source was deleted after it was read: it is in a channel
			// the caller may only view, whose lock a copy does not take.
			// The group is undone (its savepoint) and, when it has more
			// than this copy, applied again one change at a time.
			a.stmtFailed = true
			return notFound("node", p.src.ID)
		}
		if len(p.c.Mods) > 0 {
			// Mods may set the authoring fields that an editor of the source may.
			frozen := root.FreezeAuthoringData
			root.FreezeAuthoringData = false
			e, err := a.edit(root, p.c.Mods)
			if err != nil {
				return err
			}
			e.n.FreezeAuthoringData = frozen
			edits = append(edits, e)
			root = e.n
		}
		roots[i], parents[i] = root, p.parent.ID
	}
	if len(edits) > 0 {
		if err := a.saveEdits(ctx, edits); err != nil {
			return err
		}
	}
	for i, p := range plans {
		a.generate(p.k, TableContentNode, roots[i].ID, map[string]any{"node_id": roots[i].NodeID, "content_id": roots[i].ContentID})
	}
	return a.markChanged(ctx, parents...)
}

// copiedColumns are content_nodes' columns that a copy takes from its source as they are.
var copiedColumns = strings.Join(models.NodeColumns(models.Copied), ", ")

// copyTrees copies the subtrees of plans' sources under their parents, each
// root taking its new id and order, in a handful of statements for all of
// them that move no rows through Go: the subtrees are mapped to new ids in
// a temporary table, and nodes, questions, files (sharing their blobs) and
// tags are copied by INSERT … SELECT. Copies keep content_id and get new
// node_ids; their source and original ids chain to the source; they are
// changed and unpublished; frozen marks a copy by someone who cannot edit
// the source. Copy numbers of plans are consecutive.
func (a *applier) copyTrees(ctx context.Context, plans []*copyPlan) error {
	if err := a.makeCopyMaps(ctx); err != nil {
		return err
	}
	id, float, newIDExpr := a.d.dialect.idType, a.d.dialect.floatType, a.d.dialect.newID
	first, last := plans[0].no, plans[len(plans)-1].no
	var mapRows, rootRows []string
	var mapArgs, rootArgs, skipArgs []any
	skip := ""
	for _, p := range plans {
		mapRows = append(mapRows, "(CAST(? AS integer), CAST(? AS "+id+"), CAST(? AS "+id+"))")
		mapArgs = append(mapArgs, p.no, p.src.ID, p.newID)
		rootRows = append(rootRows, "(CAST(? AS integer), CAST(? AS "+id+"), CAST(? AS "+id+"), CAST(? AS "+id+"), CAST(? AS "+float+"), CAST(? AS boolean))")
		rootArgs = append(rootArgs, p.no, p.parent.ChannelID, p.parent.RootID, p.parent.ID, p.order, p.frozen)
		if ex := p.c.ExcludedDescendants; len(ex) > 0 {
			skip += " AND NOT (sub.copy_no = ? AND (c.id IN (?) OR c.node_id IN (?)))"
			skipArgs = append(skipArgs, p.no, bun.List(ex), bun.List(ex))
		}
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"map nodes", `INSERT INTO copy_nodes (copy_no, old_id, depth, new_id, new_node_id)
			WITH RECURSIVE roots (copy_no, id, new_id) AS (VALUES ` + strings.Join(mapRows, ", ") + `),
			sub (copy_no, id, new_id, depth) AS (
				SELECT copy_no, id, new_id, 0 FROM roots
				UNION ALL
				SELECT sub.copy_no, c.id, sub.new_id, sub.depth + 1 FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id` + skip + `
			)
			SELECT sub.copy_no, sub.id, sub.depth,
				CASE WHEN sub.depth = 0 THEN sub.new_id ELSE ` + newIDExpr + ` END,
				` + newIDExpr + `
			FROM sub`, append(mapArgs, skipArgs...)},
		{"copy nodes", `INSERT INTO content_nodes (id, channel_id, root_id, parent_id, sort_order, node_id, ` + copiedColumns + `,
				changed, published, freeze_authoring_data, source_channel_id, source_node_id, original_channel_id,
				original_source_node_id, created_at, modified_at, created_by_id, modified_by_id)
			WITH roots (copy_no, channel_id, root_id, parent_id, sort_order, frozen) AS (VALUES ` + strings.Join(rootRows, ", ") + `)
			SELECT m.new_id, r.channel_id, r.root_id, CASE WHEN m.depth = 0 THEN r.parent_id ELSE pm.new_id END,
				CASE WHEN m.depth = 0 THEN r.sort_order ELSE s.sort_order END, m.new_node_id, ` + prefixed("s.", copiedColumns) + `,
				?, ?, (s.freeze_authoring_data OR r.frozen), s.channel_id, s.node_id, COALESCE(s.original_channel_id, s.channel_id),
				COALESCE(s.original_source_node_id, s.node_id), ?, ?, ?, ?
			FROM copy_nodes AS m JOIN roots AS r ON r.copy_no = m.copy_no JOIN content_nodes AS s ON s.id = m.old_id
			LEFT JOIN copy_nodes AS pm ON pm.copy_no = m.copy_no AND pm.old_id = s.parent_id
			WHERE m.copy_no BETWEEN ? AND ?`,
			append(rootArgs, true, false, a.now, a.now, a.u.ID, a.u.ID, first, last)},
		{"map questions", `INSERT INTO copy_items (copy_no, old_id, new_id, node_id)
			SELECT m.copy_no, ai.id, ` + newIDExpr + `, m.new_id
			FROM assessment_items AS ai JOIN copy_nodes AS m ON ai.node_id = m.old_id
			WHERE m.copy_no BETWEEN ? AND ?`, []any{first, last}},
		{"copy questions", `INSERT INTO assessment_items (id, node_id, assessment_id, type, question, answers, hints,
				raw_data, sort_order, randomize, source_url, created_at, modified_at)
			SELECT ci.new_id, ci.node_id, ai.assessment_id, ai.type, ai.question, ai.answers, ai.hints,
				ai.raw_data, ai.sort_order, ai.randomize, ai.source_url, ?, ?
			FROM copy_items AS ci JOIN assessment_items AS ai ON ai.id = ci.old_id
			WHERE ci.copy_no BETWEEN ? AND ?`, []any{a.now, a.now, first, last}},
		{"copy files", `INSERT INTO files (id, node_id, assessment_item_id, checksum, size, extension, preset,
				language, duration, original_filename, source_url, uploaded_by_id, created_at, modified_at)
			SELECT ` + newIDExpr + `, m.new_id, NULL, ` + prefixed("f.", fileColumns) + `, ?, ?
			FROM files AS f JOIN copy_nodes AS m ON f.node_id = m.old_id
			WHERE m.copy_no BETWEEN ? AND ?`, []any{a.now, a.now, first, last}},
		{"copy question files", `INSERT INTO files (id, node_id, assessment_item_id, checksum, size, extension, preset,
				language, duration, original_filename, source_url, uploaded_by_id, created_at, modified_at)
			SELECT ` + newIDExpr + `, NULL, ci.new_id, ` + prefixed("f.", fileColumns) + `, ?, ?
			FROM files AS f JOIN copy_items AS ci ON f.assessment_item_id = ci.old_id
			WHERE ci.copy_no BETWEEN ? AND ?`, []any{a.now, a.now, first, last}},
		{"copy tags", `INSERT INTO content_tags (node_id, name)
			SELECT m.new_id, t.name FROM content_tags AS t JOIN copy_nodes AS m ON t.node_id = m.old_id
			WHERE m.copy_no BETWEEN ? AND ?`, []any{first, last}},
	}
	for _, st := range steps {
		if _, err := a.tx.NewRaw(st.sql, st.args...).Exec(ctx); err != nil {
			return fmt.Errorf("db: copy: %s: %w", st.what, err)
		}
	}
	return nil
}

// makeCopyMaps makes the temporary tables that map copied nodes and
// questions to their copies, once a transaction: every copy of a batch
// shares them, its rows told apart by the copy's number. Making and
// dropping two tables a copy made a batch of 1,000 copies slow on
// PostgreSQL, where each is a write to the catalog. PostgreSQL drops them
// at commit; SQLite keeps them with the connection, so they are emptied
// before a transaction's first copy. (After a savepoint rollback they may be
// there or not, hence IF NOT EXISTS.)
func (a *applier) makeCopyMaps(ctx context.Context) error {
	if a.copyMaps {
		return nil
	}
	id, onCommit := a.d.dialect.idType, a.d.dialect.tempOnCommit
	for _, st := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS copy_nodes (copy_no integer NOT NULL, old_id ` + id + ` NOT NULL,
			depth integer NOT NULL, new_id ` + id + ` NOT NULL, new_node_id ` + id + ` NOT NULL,
			PRIMARY KEY (copy_no, old_id))` + onCommit,
		`CREATE TEMP TABLE IF NOT EXISTS copy_items (copy_no integer NOT NULL, old_id ` + id + ` NOT NULL,
			new_id ` + id + ` NOT NULL, node_id ` + id + ` NOT NULL, PRIMARY KEY (copy_no, old_id))` + onCommit,
		`DELETE FROM copy_nodes`,
		`DELETE FROM copy_items`,
	} {
		if _, err := a.tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("db: copy: make maps: %w", err)
		}
	}
	a.copyMaps = true
	return nil
}

const fileColumns = `checksum, size, extension, preset, language, duration, original_filename, source_url, uploaded_by_id`

// prefixed qualifies a list of columns with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
