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
	inUse, err := a.idsInUse(ctx, keys, "content_nodes")
	if err != nil {
		a.fatal = err
		return errs
	}
	var nodes []*models.ContentNode
	var tags []models.Tag
	parents := map[models.ID]bool{}
	for k, c := range cs {
		e, err := a.newNode(ctx, c)
		if err == nil && inUse[e.n.ID] != "" {
			err = models.Errorf(models.CodeConflict, "the id %s is %s's; choose another id", e.n.ID, inUse[e.n.ID])
		}
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
	id, err := newKeyID(c.Key)
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

// moveNodes applies a run of MOVED contentnode changes, each of a
// different node. The nodes and their targets are read together, with
// their ancestors; each move is checked and placed in memory, and the moved
// rows are written together (flushMoves), before anything reads the tree
// again. When one moved node is below another (or below a target), the
// moves are written one at a time instead, since moving the upper node
// changes the tree of the lower ones.
func (a *applier) moveNodes(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var keys, ids []models.ID
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			keys = append(keys, id)
			ids = append(ids, id)
		}
		if c.Target != nil {
			ids = append(ids, *c.Target)
		}
	}
	// A move across channels locks both, in a fixed order: two moves in
	// opposite directions would otherwise deadlock.
	if err := a.lockChannels(ctx, ids); err != nil {
		a.fatal = err
		return errs
	}
	m := &pendingMoves{}
	up, err := a.ancestors(ctx, ids)
	if err != nil {
		a.fatal = err
		return errs
	}
	if independent(keys, ids, up) {
		m.up = up
	}
	a.moves = m
	defer func() { a.moves = nil }()
	for k, c := range cs {
		errs[k] = a.classify(a.moveNode(ctx, k, c))
		if a.fatal != nil {
			return errs
		}
		if m.up == nil {
			crossed := len(m.retreed) > 0
			if err := errors.Join(a.flushMoves(ctx), a.markMoved(ctx)); err != nil {
				errs[k] = a.classify(err)
				return errs
			}
			if crossed {
				a.nodes = nil // cached descendants now carry stale trees
			}
		}
	}
	if err := errors.Join(a.flushMoves(ctx), a.markMoved(ctx)); err != nil {
		for k := range errs {
			if errs[k] == nil {
				errs[k] = a.classify(err)
			}
		}
	}
	return errs
}

// pendingMoves are the moves of a group checked and placed in memory but
// not written yet.
type pendingMoves struct {
	// up is the parent of every node on the paths to the root from the
	// group's nodes and targets, as the moves leave them; nil when the
	// moves are written one at a time.
	up      map[models.ID]*models.ID
	nodes   []*models.ContentNode // moved, as they are to be written
	retreed []*models.ContentNode // moved into another tree, with their subtrees
	parents []models.ID           // to mark changed
}

// byID is the moved nodes not written yet, by id.
func (m *pendingMoves) byID() map[models.ID]*models.ContentNode {
	if m == nil || len(m.nodes) == 0 {
		return nil
	}
	out := make(map[models.ID]*models.ContentNode, len(m.nodes))
	for _, n := range m.nodes {
		out[n.ID] = n
	}
	return out
}

// below says whether node is below (or is) ancestor, by up; known is false
// when up does not reach a root.
func (m *pendingMoves) below(node, ancestor models.ID) (inside, known bool) {
	return isBelow(m.up, node, ancestor)
}

// isBelow says whether node is below (or is) ancestor, by up, a parent of
// each node; known is false when up does not reach a root.
func isBelow(up map[models.ID]*models.ID, node, ancestor models.ID) (inside, known bool) {
	cur := node
	for range maxDepth {
		if cur == ancestor {
			return true, true
		}
		p, ok := up[cur]
		if !ok {
			return false, false
		}
		if p == nil {
			return false, true
		}
		cur = *p
	}
	return false, false
}

// independent says whether no key is strictly above another key or a
// target, by up.
func independent(keys, ids []models.ID, up map[models.ID]*models.ID) bool {
	isKey := map[models.ID]bool{}
	for _, k := range keys {
		isKey[k] = true
	}
	for _, id := range ids {
		p, ok := up[id]
		for range maxDepth {
			if !ok {
				return false // not found: the change reports it; play safe
			}
			if p == nil {
				break
			}
			if isKey[*p] {
				return false
			}
			p, ok = up[*p]
		}
	}
	return true
}

// ancestors reads the parent of every node on the paths from ids to their
// roots, in one statement.
func (a *applier) ancestors(ctx context.Context, ids []models.ID) (map[models.ID]*models.ID, error) {
	var rows []struct {
		ID       models.ID  `bun:"id"`
		ParentID *models.ID `bun:"parent_id"`
	}
	err := a.tx.NewRaw(ancestorsSQL+`SELECT DISTINCT id, parent_id FROM up`, list(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: ancestors: %w", err)
	}
	up := make(map[models.ID]*models.ID, len(rows))
	for _, r := range rows {
		up[r.ID] = r.ParentID
	}
	return up, nil
}

// moveNode checks and places a MOVED contentnode change (the k-th of its
// group): the node (with its subtree) goes to position relative to target,
// in any tree the caller may edit. flushMoves writes it.
func (a *applier) moveNode(ctx context.Context, k int, c Change) error {
	m := a.moves
	n, err := a.keyNode(ctx, k, c)
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
	a.note(k, "previous_parent", *n.ParentID)
	parent, err := a.parentFor(ctx, *c.Target, pos, nil)
	if err != nil {
		return err
	}
	if parent.RootID == n.RootID {
		inside, known := m.below(parent.ID, n.ID)
		if !known {
			if err := a.flushMoves(ctx); err != nil {
				return err
			}
			if inside, err = a.isDescendant(ctx, parent.ID, n.ID); err != nil {
				return err
			}
		}
		if inside {
			return badField("target", "a node may not be moved into itself or any of its descendants")
		}
	}
	oldParent, newParent := *n.ParentID, parent.ID
	a.unplace(oldParent, n.ID)
	order, err := a.place(ctx, newParent, pos, *c.Target, n.ID)
	if err != nil {
		a.siblings = nil // the node was taken out of its old parent's list
		return err
	}
	if parent.RootID != n.RootID {
		// The subtree follows (flushMoves writes it), and so do the nodes
		// this group moved below it.
		n.RootID, n.ChannelID = parent.RootID, parent.ChannelID
		m.retreed = append(m.retreed, n)
		for _, o := range m.nodes {
			if inside, _ := m.below(o.ID, n.ID); inside {
				o.RootID, o.ChannelID = n.RootID, n.ChannelID
			}
		}
	}
	n.ParentID, n.SortOrder, n.Changed, n.ModifiedAt, n.ModifiedByID = &newParent, order, true, a.now, &a.u.ID
	if m.up != nil {
		m.up[n.ID] = &newParent
	}
	m.nodes = append(m.nodes, n)
	m.parents = append(m.parents, oldParent, newParent)
	a.cache(n)
	if source := a.outcomes[k].channel; source != parent.ChannelID {
		// The source's log says the node left, the target's that it arrived.
		a.alsoLog(k, c, parent.ChannelID)
	}
	return nil
}

// flushMoves writes the moves placed so far: the moved rows in one
// statement, the subtrees that changed trees in one statement for each
// tree they went to, dropping the prerequisites of the nodes that left
// their tree, as in Studio. markMoved then marks their parents changed.
func (a *applier) flushMoves(ctx context.Context) error {
	m := a.moves
	if m == nil || len(m.nodes) == 0 {
		return nil
	}
	nodes, retreed := m.nodes, m.retreed
	m.nodes, m.retreed = nil, nil
	if err := a.writeNodes(ctx, nodes); err != nil {
		return fmt.Errorf("db: move nodes: %w", err)
	}
	type tree struct{ root, channel models.ID }
	byTree := map[tree][]models.ID{}
	var trees []tree
	var left []models.ID
	for _, n := range retreed {
		t := tree{n.RootID, n.ChannelID}
		if _, ok := byTree[t]; !ok {
			trees = append(trees, t)
		}
		byTree[t] = append(byTree[t], n.ID)
		left = append(left, n.ID)
	}
	for _, t := range trees {
		_, err := a.tx.NewRaw(subtreeSQL+`UPDATE content_nodes SET root_id = ?, channel_id = ? WHERE id IN (SELECT id FROM sub)`,
			list(byTree[t]), t.root, t.channel).Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: move subtree: %w", err)
		}
	}
	if len(left) > 0 {
		_, err := a.tx.NewDelete().Model((*models.Prerequisite)(nil)).
			Where("target_node_id IN (?) OR prerequisite_id IN (?)", list(left), list(left)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("db: drop prerequisites: %w", err)
		}
	}
	return nil
}

// markMoved marks the old and new parents of the moves written changed.
func (a *applier) markMoved(ctx context.Context) error {
	m := a.moves
	seen := map[models.ID]bool{}
	var marks []models.ID
	for _, p := range m.parents {
		if !seen[p] {
			seen[p] = true
			marks = append(marks, p)
		}
	}
	m.parents = nil
	return a.markChanged(ctx, marks...)
}

// isDescendant says whether node is below (or is) ancestor.
func (a *applier) isDescendant(ctx context.Context, node, ancestor models.ID) (bool, error) {
	var n int
	err := a.tx.NewRaw(ancestorsSQL+`SELECT count(*) FROM up WHERE id = ?`, list([]models.ID{node}), ancestor).Scan(ctx, &n)
	if err != nil {
		return false, fmt.Errorf("db: ancestors: %w", err)
	}
	return n > 0, nil
}

// idType is the SQL type of ids, for casts.

func isNodeDelete(c Change) bool {
	return c.Table == TableContentNode && c.Type == models.ChangeDeleted
}

// deleteNodes applies a run of DELETED contentnode changes, each of a
// different node: the subtrees are removed for good, with their files,
// questions, tags and prerequisites, all in one go. Deleting a node that
// does not exist (or that a change before it deleted with its ancestor)
// does nothing, as in Studio, so that a retried delete succeeds.
func (a *applier) deleteNodes(ctx context.Context, cs []Change) []error {
	errs := make([]error, len(cs))
	var ids []models.ID
	for _, c := range cs {
		if id, err := keyID(c.Key); err == nil {
			ids = append(ids, id)
		}
	}
	if err := a.lockChannels(ctx, ids); err != nil {
		a.fatal = err
		return errs
	}
	up, err := a.ancestors(ctx, ids)
	if err != nil {
		a.fatal = err
		return errs
	}
	var doomed, parents []models.ID
	var gone []*models.ContentNode
	for k, c := range cs {
		n, err := a.doomedNode(ctx, c, up, doomed)
		if err != nil {
			errs[k] = a.classify(err)
			if a.fatal != nil {
				return errs
			}
			continue
		}
		if n == nil {
			continue // nothing to delete, and no channel's log to tell
		}
		a.outcomes[k].channel = n.ChannelID
		a.note(k, "previous_parent", *n.ParentID)
		doomed = append(doomed, n.ID)
		parents = append(parents, *n.ParentID)
		gone = append(gone, n)
	}
	if len(doomed) == 0 {
		return errs
	}
	err = a.deleteSubtrees(ctx, doomed)
	if err == nil {
		for _, n := range gone {
			a.unplace(*n.ParentID, n.ID)
		}
		a.nodes = nil // descendants are gone
		err = a.markChanged(ctx, parents...)
	}
	if err != nil {
		for k := range errs {
			if errs[k] == nil {
				errs[k] = a.classify(err)
			}
		}
	}
	return errs
}

// doomedNode checks a DELETED change and returns its node, nil when there is
// nothing to delete: no such node, or one below a node deleted before it.
func (a *applier) doomedNode(ctx context.Context, c Change, up map[models.ID]*models.ID, doomed []models.ID) (*models.ContentNode, error) {
	id, err := keyID(c.Key)
	if err != nil {
		return nil, err
	}
	for _, d := range doomed {
		if inside, _ := isBelow(up, id, d); inside {
			return nil, nil
		}
	}
	n, err := a.editableNode(ctx, id, c.ChannelID)
	if models.CodeOf(err) == models.CodeNotFound && !isDisallowed(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if isRoot(n) {
		return nil, badField("key", "a tree's root cannot be deleted; delete the channel instead")
	}
	return n, nil
}

// deleteSubtrees removes nodes, everything below them, and their files,
// questions (with theirs), tags and prerequisites.
func (a *applier) deleteSubtrees(ctx context.Context, ids []models.ID) error {
	const doomed = "(SELECT id FROM doomed)"
	for _, st := range []struct{ what, sql string }{
		{"find subtree", `CREATE TEMP TABLE doomed AS ` + subtreeSQL + `SELECT id FROM sub`},
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
			args = []any{list(ids)}
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
	err = a.tx.NewRaw(subtreeSQL+`SELECT cn.* FROM content_nodes AS cn WHERE cn.id IN (SELECT id FROM sub)`, list([]models.ID{n.ID})).Scan(ctx, &sub)
	if err != nil {
		return fmt.Errorf("db: load descendants: %w", err)
	}
	es := make([]*nodeEdit, 0, len(sub))
	touched := make([]models.ID, len(sub))
	for i, d := range sub {
		touched[i] = d.ID
	}
	a.note(0, "touched", touched)
	for _, d := range sub {
		e, err := a.edit(d, c.Mods)
		if err != nil {
			return fmt.Errorf("node %s: %w", d.ID, err)
		}
		es = append(es, e)
	}
	return a.saveEdits(ctx, es)
}
