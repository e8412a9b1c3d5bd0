package db

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"studio/models"
)

// createNodes applies a run of CREATED contentnode changes: each is checked
// and placed on its own, and the good ones are inserted together.
func (a *applier) createNodes(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var refs, keys []models.ID
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			keys = append(keys, id)
		}
		if c.Target != nil {
			refs = append(refs, *c.Target)
		} else if p, err := idValue("parent", c.Obj["parent"]); err == nil {
			refs = append(refs, p)
		}
	}
	// Lock the parents' channels first (in a fixed order), then read parents
	// and taken keys under the locks, in one statement. A parent that is
	// refused here (or is created by this batch) is reported or found by its
	// own change below.
	if err := a.lockChannels(ctx, refs, keys...); err != nil {
		a.fatal = err
		return errs
	}
	var nodes []*models.ContentNode
	var tags []models.Tag
	parents := map[models.ID]bool{}
	for k, c := range cs {
		e, err := a.newNode(ctx, c)
		if err != nil {
			errs[k] = a.classify(err)
			if a.fatal != nil {
				return errs
			}
			continue
		}
		n := e.n
		a.cache(n)
		nodes = append(nodes, n)
		for _, t := range uniqueTags(e.addTags, nil) {
			tags = append(tags, models.Tag{NodeID: n.ID, Name: t})
		}
		parents[*n.ParentID] = true
		a.outcomes[k].channel = n.ChannelID
		a.generate(k, TableContentNode, n.ID, map[string]any{"node_id": n.NodeID, "content_id": n.ContentID})
		if e.claimsComplete && !n.Complete {
			a.generate(k, TableContentNode, n.ID, map[string]any{"complete": false})
		}
	}
	if len(nodes) == 0 {
		return errs
	}
	if err := insertNodes(ctx, a.tx, nodes); err != nil {
		for k := range errs {
			if errs[k] == nil {
				errs[k] = a.classify(err)
			}
		}
		return errs
	}
	if err := a.insertTags(ctx, tags); err != nil {
		errs[0] = a.classify(err)
		return errs
	}
	if err := a.markChanged(ctx, keysOf(parents)...); err != nil {
		a.fatal = err
	}
	return errs
}

// newNode checks a CREATED change and builds its node, placed under its parent.
func (a *applier) newNode(ctx context.Context, c Change) (*nodeEdit, error) {
	id, err := keyID(c.Key)
	if err != nil {
		return nil, err
	}
	if _, taken := a.nodes[id]; taken {
		return nil, models.Errorf(models.CodeConflict, "a node with id %s already exists; choose another id", id)
	}
	if c.Obj == nil {
		return nil, badField("obj", "a created node needs its fields in obj")
	}
	// Where it goes: under obj.parent, or next to or under target.
	pos, target := c.Position, c.Target
	if target == nil {
		p, err := idValue("parent", c.Obj["parent"])
		if err != nil {
			return nil, err
		}
		target = &p
	}
	if pos == "" {
		pos = LastChild
	}
	parent, err := a.parentFor(ctx, *target, pos, c.ChannelID)
	if err != nil {
		return nil, err
	}
	n := &models.ContentNode{
		ID: id, ChannelID: parent.ChannelID, RootID: parent.RootID, ParentID: &parent.ID,
		NodeID: models.NewID(), ContentID: models.NewID(), RoleVisibility: models.RoleLearner,
		Changed: true, CreatedAt: a.now, ModifiedAt: a.now, CreatedByID: &a.u.ID, ModifiedByID: &a.u.ID,
	}
	normalizeNode(n)
	e := &nodeEdit{n: n}
	if err := a.applyFields(e, c.Obj, true); err != nil {
		return nil, err
	}
	if n.Kind == "" {
		return nil, badField("kind", "is required: one of %v", models.Kinds)
	}
	if n.Kind == models.KindExercise {
		if _, ok := n.ExtraFields["randomize"].(bool); !ok {
			return nil, badField("extra_fields.randomize", "this field is required for exercise content (true or false)")
		}
	}
	if err := checkCompletionCriteria(e); err != nil {
		return nil, err
	}
	n.Complete = models.IsComplete(n, false, nil, nil)
	if n.SortOrder, err = a.place(ctx, parent.ID, pos, *target, n.ID); err != nil {
		return nil, err
	}
	return e, nil
}

// parentFor returns the node that will be the parent of one placed at pos
// relative to target: target itself, or its parent for left and right. The
// parent must be an editable topic.
func (a *applier) parentFor(ctx context.Context, target models.ID, pos Position, channelID *models.ID) (*models.ContentNode, error) {
	t, err := a.editableNode(ctx, target, channelID)
	if err != nil {
		return nil, err
	}
	switch pos {
	case FirstChild, LastChild:
	case Left, Right:
		if t.ParentID == nil {
			return nil, badField("target", "a tree's root has no siblings; place the node under it instead")
		}
		if t, err = a.node(ctx, *t.ParentID); err != nil {
			return nil, err
		}
	default:
		return nil, badField("position", "%q is not first-child, last-child, left or right", pos)
	}
	if t.Kind != models.KindTopic {
		return nil, badField("target", "only topics have children, and %s is a %s", t.ID, t.Kind)
	}
	return t, nil
}

// applyFields applies an obj or mods in a stable order: a JSON field before
// dot paths into it.
func (a *applier) applyFields(e *nodeEdit, fields map[string]any, creating bool) error {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := e.set(k, fields[k], creating); err != nil {
			return err
		}
	}
	return nil
}

// checkCompletionCriteria applies Studio's rules to options.completion_criteria:
// the model must suit the kind always, and the whole criterion must be valid
// when the client marks the node complete.
func checkCompletionCriteria(e *nodeEdit) error {
	opts, _ := e.n.ExtraFields["options"].(map[string]any)
	cc, ok := opts["completion_criteria"].(map[string]any)
	if !ok {
		return nil
	}
	models.NormalizeCompletionCriteria(cc)
	if err := models.ValidateCompletionCriteria(e.n.Kind, cc, e.claimsComplete); err != nil {
		return badField("extra_fields.options.completion_criteria", "%v", err)
	}
	return nil
}

func (a *applier) insertTags(ctx context.Context, tags []models.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	_, err := a.tx.NewInsert().Model(&tags).On("CONFLICT (node_id, name) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: insert tags: %w", err)
	}
	return nil
}

func uniqueTags(add, remove []string) []string {
	gone := map[string]bool{}
	for _, t := range remove {
		gone[t] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range add {
		if !seen[t] && !gone[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func keysOf(m map[models.ID]bool) []models.ID {
	out := make([]models.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// updateNodes applies a run of UPDATED contentnode changes, each to a
// different node: the nodes and what decides their completeness are read
// together, each change is checked on its own, and the good ones are
// written in one statement.
func (a *applier) updateNodes(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	ids := make([]models.ID, 0, len(cs))
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			ids = append(ids, id)
		}
	}
	// Lock the nodes' channels (in a fixed order), then read the nodes under
	// the locks. Refusals are reported change by change below.
	if err := a.lockChannels(ctx, ids); err != nil {
		a.fatal = err
		return errs
	}
	var edits []*nodeEdit
	for k, c := range cs {
		e, err := a.updateOne(ctx, k, c)
		if err != nil {
			errs[k] = a.classify(err)
			continue
		}
		edits = append(edits, e)
	}
	edits, err := a.dropTooManyTags(ctx, cs, edits, errs)
	if err != nil {
		a.fatal = err
		return errs
	}
	if err := a.saveEdits(ctx, edits); err != nil {
		for k := range errs {
			if errs[k] == nil {
				errs[k] = a.classify(err)
			}
		}
		return errs
	}
	for k, e := range editsByChange(cs, edits) {
		if e != nil && e.claimsComplete && !e.n.Complete {
			a.generate(k, TableContentNode, e.n.ID, map[string]any{"complete": false})
		}
	}
	return errs
}

// keyNode returns the editable node a change (the k-th of its group) is
// keyed by, and records its channel as the change's.
func (a *applier) keyNode(ctx context.Context, k int, c Change) (*models.ContentNode, error) {
	id, err := keyID(c.Key)
	if err != nil {
		return nil, err
	}
	n, err := a.editableNode(ctx, id, c.ChannelID)
	if err != nil {
		return nil, err
	}
	a.outcomes[k].channel = n.ChannelID
	return n, nil
}

// updateOne checks one UPDATED change (the k-th of its group) and returns its edit.
func (a *applier) updateOne(ctx context.Context, k int, c Change) (*nodeEdit, error) {
	n, err := a.keyNode(ctx, k, c)
	if err != nil {
		return nil, err
	}
	if len(c.Mods) == 0 {
		return nil, badField("mods", "an update needs mods: the fields to change")
	}
	return a.edit(n, c.Mods)
}

// editsByChange lines edits up with the changes they came from.
func editsByChange(cs []Change, edits []*nodeEdit) []*nodeEdit {
	byID := map[models.ID]*nodeEdit{}
	for _, e := range edits {
		byID[e.n.ID] = e
	}
	out := make([]*nodeEdit, len(cs))
	for k, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			out[k] = byID[id]
		}
	}
	return out
}

// edit applies mods to a copy of n and checks the result.
func (a *applier) edit(n *models.ContentNode, mods map[string]any) (*nodeEdit, error) {
	cp := *n
	for _, m := range []*map[string]any{&cp.ExtraFields, &cp.ThumbnailEncoding, &cp.GradeLevels, &cp.ResourceTypes,
		&cp.LearningActivities, &cp.AccessibilityLabels, &cp.Categories, &cp.LearnerNeeds} {
		*m = models.CloneObject(*m)
	}
	e := &nodeEdit{n: &cp}
	if err := a.applyFields(e, mods, false); err != nil {
		return nil, err
	}
	if err := checkCompletionCriteria(e); err != nil {
		return nil, err
	}
	return e, nil
}

// saveEdits recomputes completeness of edited nodes and writes them back,
// with their tags. A node whose fields changed is marked changed.
func (a *applier) saveEdits(ctx context.Context, es []*nodeEdit) error {
	ids := make([]models.ID, len(es))
	for i, e := range es {
		ids[i] = e.n.ID
	}
	files, items, err := a.contentOf(ctx, ids)
	if err != nil {
		return err
	}
	var add []models.Tag
	var remove []models.Tag
	nodes := make([]*models.ContentNode, len(es))
	for i, e := range es {
		n := e.n
		n.Complete = models.IsComplete(n, isRoot(n), files[n.ID], items[n.ID])
		n.ModifiedAt, n.ModifiedByID = a.now, &a.u.ID
		if len(e.fieldsChanged) > 0 {
			n.Changed = true
		}
		nodes[i] = n
		a.cache(n)
		for _, t := range uniqueTags(e.addTags, e.removeTags) {
			add = append(add, models.Tag{NodeID: n.ID, Name: t})
		}
		for _, t := range e.removeTags {
			remove = append(remove, models.Tag{NodeID: n.ID, Name: t})
		}
	}
	if err := a.writeNodes(ctx, nodes); err != nil {
		return err
	}
	if err := a.insertTags(ctx, add); err != nil {
		return err
	}
	for _, t := range remove {
		if _, err := a.tx.NewDelete().Model(&t).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("db: remove tag: %w", err)
		}
	}
	return nil
}

// writeNodes writes nodes back, all their columns, in statements of at most
// 500 rows.
func (a *applier) writeNodes(ctx context.Context, nodes []*models.ContentNode) error {
	for start := 0; start < len(nodes); start += 500 {
		batch := nodes[start:min(start+500, len(nodes))]
		var err error
		if len(batch) == 1 {
			_, err = a.tx.NewUpdate().Model(batch[0]).WherePK().Exec(ctx)
		} else {
			_, err = a.tx.NewUpdate().Model(&batch).Bulk().Exec(ctx)
		}
		if err != nil {
			return fmt.Errorf("db: update nodes: %w", err)
		}
	}
	return nil
}

// contentOf loads the files and questions of nodes, for completeness.
func (a *applier) contentOf(ctx context.Context, ids []models.ID) (map[models.ID][]*models.File, map[models.ID][]*models.AssessmentItem, error) {
	var fs []*models.File
	if err := a.tx.NewSelect().Model(&fs).Where("f.node_id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("db: load files: %w", err)
	}
	var items []*models.AssessmentItem
	if err := a.tx.NewSelect().Model(&items).Where("ai.node_id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("db: load questions: %w", err)
	}
	files := map[models.ID][]*models.File{}
	for _, f := range fs {
		files[*f.NodeID] = append(files[*f.NodeID], f)
	}
	byNode := map[models.ID][]*models.AssessmentItem{}
	for _, it := range items {
		byNode[it.NodeID] = append(byNode[it.NodeID], it)
	}
	return files, byNode, nil
}

// moveNode applies a MOVED contentnode change: the node (with its subtree)
// goes to position relative to target, in any tree the caller may edit.
func (a *applier) moveNode(ctx context.Context, c Change) error {
	if id, err := keyID(c.Key); err == nil && c.Target != nil {
		// A move across channels locks both, in a fixed order: two moves
		// in opposite directions would otherwise deadlock.
		if err := a.lockChannels(ctx, []models.ID{id, *c.Target}); err != nil {
			return err
		}
	}
	n, err := a.keyNode(ctx, 0, c)
	if err != nil {
		return err
	}
	if isRoot(n) {
		return badField("key", "a tree's root cannot be moved")
	}
	if c.Target == nil {
		return badField("target", "a move needs a target node")
	}
	pos := c.Position
	if pos == "" {
		pos = LastChild
	}
	if *c.Target == n.ID {
		return badField("target", "a node may not be moved into itself or next to itself")
	}
	parent, err := a.parentFor(ctx, *c.Target, pos, nil)
	if err != nil {
		return err
	}
	if parent.RootID == n.RootID {
		inside, err := a.isDescendant(ctx, parent.ID, n.ID)
		if err != nil {
			return err
		}
		if inside {
			return badField("target", "a node may not be moved into itself or any of its descendants")
		}
	}
	oldParent := *n.ParentID
	a.unplace(oldParent, n.ID)
	order, err := a.place(ctx, parent.ID, pos, *c.Target, n.ID)
	if err != nil {
		return err
	}
	if parent.RootID != n.RootID {
		if err := a.retree(ctx, n, parent); err != nil {
			return err
		}
	}
	_, err = a.tx.NewUpdate().Model((*models.ContentNode)(nil)).
		Set("parent_id = ?", parent.ID).Set("sort_order = ?", order).
		Set("changed = ?", true).Set("modified_at = ?", a.now).Set("modified_by_id = ?", a.u.ID).
		Where("id = ?", n.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: move node: %w", err)
	}
	n.ParentID, n.SortOrder, n.Changed, n.ModifiedAt, n.ModifiedByID = &parent.ID, order, true, a.now, &a.u.ID
	if source := a.outcomes[0].channel; source != parent.ChannelID {
		// The source's log says the node left, the target's that it arrived.
		a.alsoLog(0, c, parent.ChannelID)
	}
	return a.markChanged(ctx, oldParent, parent.ID)
}

// isDescendant says whether node is below (or is) ancestor.
func (a *applier) isDescendant(ctx context.Context, node, ancestor models.ID) (bool, error) {
	var n int
	// The depth bound keeps a corrupt tree (a cycle) from looping forever.
	err := a.tx.NewRaw(`WITH RECURSIVE up (id, parent_id, depth) AS (
		SELECT id, parent_id, 0 FROM content_nodes WHERE id = ?
		UNION ALL
		SELECT p.id, p.parent_id, up.depth + 1 FROM content_nodes AS p JOIN up ON p.id = up.parent_id WHERE up.depth < ?
	) SELECT count(*) FROM up WHERE id = ?`, node, maxDepth, ancestor).Scan(ctx, &n)
	if err != nil {
		return false, fmt.Errorf("db: ancestors: %w", err)
	}
	return n > 0, nil
}

// retree moves n's subtree into parent's tree (and channel): one statement
// however deep it is. A node leaving its tree drops its prerequisites, as in Studio.
func (a *applier) retree(ctx context.Context, n, parent *models.ContentNode) error {
	_, err := a.tx.NewRaw(`WITH RECURSIVE sub (id) AS (
		SELECT CAST(? AS `+a.d.idType()+`)
		UNION ALL
		SELECT c.id FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
	) UPDATE content_nodes SET root_id = ?, channel_id = ? WHERE id IN (SELECT id FROM sub)`,
		n.ID, parent.RootID, parent.ChannelID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: move subtree: %w", err)
	}
	_, err = a.tx.NewDelete().Model((*models.Prerequisite)(nil)).
		Where("target_node_id = ? OR prerequisite_id = ?", n.ID, n.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("db: drop prerequisites: %w", err)
	}
	// Cached descendants now carry stale trees.
	a.nodes = map[models.ID]*models.ContentNode{n.ID: n}
	n.RootID, n.ChannelID = parent.RootID, parent.ChannelID
	return nil
}

// maxDepth bounds walks up a tree; real trees are a few levels deep.
const maxDepth = 1000

// idType is the SQL type of ids, for casts.
func (d *DB) idType() string {
	if d.Kind == Postgres {
		return "uuid"
	}
	return "text"
}

// deleteNode applies a DELETED contentnode change: the subtree is removed
// for good, with its files, questions, tags and prerequisites. Deleting a
// node that does not exist does nothing, as in Studio, so that a retried
// delete succeeds.
func (a *applier) deleteNode(ctx context.Context, c Change) error {
	id, err := keyID(c.Key)
	if err != nil {
		return err
	}
	n, err := a.editableNode(ctx, id, c.ChannelID)
	if models.CodeOf(err) == models.CodeNotFound && !isDisallowed(err) {
		return nil // nothing to delete, and no channel's log to tell
	}
	if err != nil {
		return err
	}
	a.outcomes[0].channel = n.ChannelID
	if isRoot(n) {
		return badField("key", "a tree's root cannot be deleted; delete the channel instead")
	}
	if err := a.deleteSubtree(ctx, n.ID); err != nil {
		return err
	}
	a.unplace(*n.ParentID, n.ID)
	a.nodes = nil // descendants are gone
	return a.markChanged(ctx, *n.ParentID)
}

// deleteSubtree removes a node, everything below it, and their files,
// questions (with theirs), tags and prerequisites.
func (a *applier) deleteSubtree(ctx context.Context, id models.ID) error {
	const doomed = "(SELECT id FROM doomed)"
	for _, st := range []struct{ what, sql string }{
		{"find subtree", `CREATE TEMP TABLE doomed AS WITH RECURSIVE sub (id) AS (
			SELECT CAST(? AS ` + a.d.idType() + `)
			UNION ALL
			SELECT c.id FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
		) SELECT id FROM sub`},
		{"delete question files", "DELETE FROM files WHERE assessment_item_id IN (SELECT ai.id FROM assessment_items AS ai WHERE ai.node_id IN " + doomed + ")"},
		{"delete files", "DELETE FROM files WHERE node_id IN " + doomed},
		{"delete questions", "DELETE FROM assessment_items WHERE node_id IN " + doomed},
		{"delete tags", "DELETE FROM content_tags WHERE node_id IN " + doomed},
		{"delete prerequisites", "DELETE FROM prerequisites WHERE target_node_id IN " + doomed + " OR prerequisite_id IN " + doomed},
		{"delete nodes", "DELETE FROM content_nodes WHERE id IN " + doomed},
		{"forget subtree", "DROP TABLE doomed"},
	} {
		var args []any
		if st.what == "find subtree" {
			args = []any{id}
		}
		if _, err := a.tx.NewRaw(st.sql, args...).Exec(ctx); err != nil {
			return fmt.Errorf("db: delete node: %s: %w", st.what, err)
		}
	}
	return nil
}

func isDisallowed(err error) bool {
	var dis errDisallowed
	return errors.As(err, &dis)
}

// updateDescendants applies mods to a topic and every node below it.
func (a *applier) updateDescendants(ctx context.Context, c Change) error {
	n, err := a.keyNode(ctx, 0, c)
	if err != nil {
		return err
	}
	if n.Kind != models.KindTopic {
		return badField("key", "only a topic has descendants to update, and %s is a %s", n.ID, n.Kind)
	}
	if len(c.Mods) == 0 {
		return badField("mods", "an update needs mods: the fields to change")
	}
	var sub []*models.ContentNode
	err = a.tx.NewRaw(`WITH RECURSIVE sub (id) AS (
		SELECT CAST(? AS `+a.d.idType()+`)
		UNION ALL
		SELECT c.id FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
	) SELECT cn.* FROM content_nodes AS cn WHERE cn.id IN (SELECT id FROM sub)`, n.ID).Scan(ctx, &sub)
	if err != nil {
		return fmt.Errorf("db: load descendants: %w", err)
	}
	es := make([]*nodeEdit, 0, len(sub))
	for _, d := range sub {
		e, err := a.edit(d, c.Mods)
		if err != nil {
			return fmt.Errorf("node %s: %w", d.ID, err)
		}
		es = append(es, e)
	}
	return a.saveEdits(ctx, es)
}
