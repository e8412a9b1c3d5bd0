package db

import (
	"context"
	"fmt"
	"strings"

	"studio/models"
)

// copyModsAnyone are the fields anyone may change on the root of a copy;
// copyModsEditors those only editors of the source may (studio-backend.md §2.10).
var (
	copyModsAnyone = map[string]bool{"title": true, "description": true, "aggregator": true, "provider": true,
		"language": true, "role_visibility": true, "extra_fields": true, "suggested_duration": true,
		"grade_levels": true, "resource_types": true, "learning_activities": true, "accessibility_labels": true,
		"categories": true, "learner_needs": true}
	copyModsEditors = map[string]bool{"license": true, "license_description": true, "copyright_holder": true, "author": true}
)

// copyNode applies a COPIED contentnode change: from_key's subtree is copied
// to position relative to target, its root taking key as id. Copies keep
// content_id and get new node_ids; files (sharing their blobs), questions and
// tags come along, prerequisites do not.
func (a *applier) copyNode(ctx context.Context, c Change) error {
	newID, err := keyID(c.Key)
	if err != nil {
		return err
	}
	if c.FromKey == nil {
		return badField("from_key", "a copy needs the id of the node to copy")
	}
	if c.Target == nil {
		return badField("target", "a copy needs a target node")
	}
	if err := a.loadNodes(ctx, []models.ID{newID, *c.FromKey}); err != nil {
		return err
	}
	if _, taken := a.nodes[newID]; taken {
		return models.Errorf(models.CodeConflict, "a node with id %s already exists; choose another id", newID)
	}
	src, err := a.node(ctx, *c.FromKey)
	if err != nil {
		return err
	}
	srcAccess, err := a.viewChannel(ctx, src.ChannelID)
	if err != nil {
		return err
	}
	if !srcAccess.Access.CanViewNode(srcAccess.Channel, src) {
		return notFound("node", src.ID)
	}
	canEditSource := srcAccess.Access.CanEdit()
	for k := range c.Mods {
		field, _, _ := strings.Cut(k, ".")
		if !copyModsAnyone[field] && !(canEditSource && copyModsEditors[field]) {
			return badField("mods."+k, "a copy's root may change only title, description, aggregator, provider, language, role_visibility, extra_fields, suggested_duration and the labels (and license, copyright holder and author when you can edit the source)")
		}
	}
	pos := c.Position
	if pos == "" {
		pos = LastChild
	}
	parent, err := a.parentFor(ctx, *c.Target, pos, c.ChannelID)
	if err != nil {
		return err
	}
	a.outcomes[0].channel = parent.ChannelID

	tree, err := a.subtree(ctx, src.ID, c.ExcludedDescendants)
	if err != nil {
		return err
	}
	ids := make(map[models.ID]models.ID, len(tree))
	nodes := make([]*models.ContentNode, 0, len(tree))
	for i, s := range tree {
		n := *s
		n.ID = models.NewID()
		if i == 0 {
			n.ID = newID
		}
		ids[s.ID] = n.ID
		n.NodeID = models.NewID()
		n.SourceNodeID, n.SourceChannelID = &s.NodeID, &s.ChannelID
		if s.OriginalChannelID == nil {
			n.OriginalChannelID = &s.ChannelID
		}
		if s.OriginalSourceNodeID == nil {
			n.OriginalSourceNodeID = &s.NodeID
		}
		n.FreezeAuthoringData = s.FreezeAuthoringData || !canEditSource
		n.ChannelID, n.RootID = parent.ChannelID, parent.RootID
		n.Changed, n.Published = true, false
		n.CreatedAt, n.ModifiedAt, n.CreatedByID, n.ModifiedByID = a.now, a.now, &a.u.ID, &a.u.ID
		if i > 0 {
			p := ids[*s.ParentID]
			n.ParentID = &p
		}
		nodes = append(nodes, &n)
	}
	root := nodes[0]
	root.ParentID = &parent.ID
	if len(c.Mods) > 0 {
		// Mods may set the authoring fields an editor of the source is allowed to.
		frozen := root.FreezeAuthoringData
		root.FreezeAuthoringData = false
		e, err := a.edit(ctx, root, c.Mods)
		if err != nil {
			return err
		}
		root = e.n
		root.FreezeAuthoringData = frozen
		nodes[0] = root
	}
	if root.SortOrder, err = a.place(ctx, parent.ID, pos, *c.Target, root.ID); err != nil {
		return err
	}
	if err := a.copyContent(ctx, src.ID, ids, nodes); err != nil {
		return err
	}
	a.generate(0, TableContentNode, root.ID, map[string]any{"node_id": root.NodeID, "content_id": root.ContentID})
	return a.markChanged(ctx, parent.ID)
}

// subtree loads root and its descendants, parents before children, leaving
// out excluded nodes (by id or node_id) and everything below them.
func (a *applier) subtree(ctx context.Context, root models.ID, excluded []models.ID) ([]*models.ContentNode, error) {
	var rows []*models.ContentNode
	err := a.tx.NewRaw(`WITH RECURSIVE sub (id, depth) AS (
		SELECT CAST(? AS `+a.d.idType()+`), 0
		UNION ALL
		SELECT c.id, sub.depth + 1 FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
	) SELECT cn.* FROM content_nodes AS cn JOIN sub ON cn.id = sub.id ORDER BY sub.depth`, root).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: load subtree: %w", err)
	}
	skip := map[models.ID]bool{}
	for _, id := range excluded {
		skip[id] = true
	}
	kept := map[models.ID]bool{}
	out := rows[:0]
	for i, n := range rows {
		if skip[n.ID] || skip[n.NodeID] || (i > 0 && !kept[*n.ParentID]) {
			continue
		}
		kept[n.ID] = true
		out = append(out, n)
	}
	if len(out) == 0 || out[0].ID != root {
		return nil, badField("excluded_descendants", "excludes the node being copied")
	}
	return out, nil
}

// copyContent inserts the copied nodes with copies of their files,
// questions (and their files) and tags; ids maps source ids to copies'.
func (a *applier) copyContent(ctx context.Context, root models.ID, ids map[models.ID]models.ID, nodes []*models.ContentNode) error {
	sub := `WITH RECURSIVE sub (id) AS (
		SELECT CAST(? AS ` + a.d.idType() + `)
		UNION ALL
		SELECT c.id FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id
	) `
	var files []*models.File
	if err := a.tx.NewRaw(sub+`SELECT f.* FROM files AS f JOIN sub ON f.node_id = sub.id`, root).Scan(ctx, &files); err != nil {
		return fmt.Errorf("db: load files to copy: %w", err)
	}
	var items []*models.AssessmentItem
	if err := a.tx.NewRaw(sub+`SELECT ai.* FROM assessment_items AS ai JOIN sub ON ai.node_id = sub.id`, root).Scan(ctx, &items); err != nil {
		return fmt.Errorf("db: load questions to copy: %w", err)
	}
	var itemFiles []*models.File
	if err := a.tx.NewRaw(sub+`SELECT f.* FROM files AS f JOIN assessment_items AS ai ON f.assessment_item_id = ai.id JOIN sub ON ai.node_id = sub.id`, root).Scan(ctx, &itemFiles); err != nil {
		return fmt.Errorf("db: load question files to copy: %w", err)
	}
	var tags []models.Tag
	if err := a.tx.NewRaw(sub+`SELECT tg.* FROM content_tags AS tg JOIN sub ON tg.node_id = sub.id`, root).Scan(ctx, &tags); err != nil {
		return fmt.Errorf("db: load tags to copy: %w", err)
	}

	var newItems []*models.AssessmentItem
	itemIDs := map[models.ID]models.ID{}
	for _, it := range items {
		nodeID, ok := ids[it.NodeID]
		if !ok {
			continue // under an excluded node
		}
		cp := *it
		cp.ID, cp.NodeID, cp.CreatedAt, cp.ModifiedAt = models.NewID(), nodeID, a.now, a.now
		itemIDs[it.ID] = cp.ID
		newItems = append(newItems, &cp)
	}
	var newFiles []*models.File
	for _, f := range files {
		if nodeID, ok := ids[*f.NodeID]; ok {
			cp := *f
			cp.ID, cp.NodeID, cp.CreatedAt, cp.ModifiedAt = models.NewID(), &nodeID, a.now, a.now
			newFiles = append(newFiles, &cp)
		}
	}
	for _, f := range itemFiles {
		if itemID, ok := itemIDs[*f.AssessmentItemID]; ok {
			cp := *f
			cp.ID, cp.AssessmentItemID, cp.CreatedAt, cp.ModifiedAt = models.NewID(), &itemID, a.now, a.now
			newFiles = append(newFiles, &cp)
		}
	}
	var newTags []models.Tag
	for _, t := range tags {
		if nodeID, ok := ids[t.NodeID]; ok {
			newTags = append(newTags, models.Tag{NodeID: nodeID, Name: t.Name})
		}
	}
	// The root's completeness may change with mods; the rest keep the source's.
	rootFiles, rootItems := []*models.File{}, []*models.AssessmentItem{}
	for _, f := range newFiles {
		if f.NodeID != nil && *f.NodeID == nodes[0].ID {
			rootFiles = append(rootFiles, f)
		}
	}
	for _, it := range newItems {
		if it.NodeID == nodes[0].ID {
			rootItems = append(rootItems, it)
		}
	}
	nodes[0].Complete = models.IsComplete(nodes[0], false, rootFiles, rootItems)

	if err := InsertNodes(ctx, a.tx, nodes); err != nil {
		return err
	}
	if err := insertBatches(ctx, a, newItems); err != nil {
		return fmt.Errorf("db: copy questions: %w", err)
	}
	if err := insertBatches(ctx, a, newFiles); err != nil {
		return fmt.Errorf("db: copy files: %w", err)
	}
	if err := insertBatches(ctx, a, newTags); err != nil {
		return fmt.Errorf("db: copy tags: %w", err)
	}
	a.cache(nodes[0])
	return nil
}

// insertBatches inserts rows in statements of at most 500.
func insertBatches[T any](ctx context.Context, a *applier, rows []T) error {
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		if _, err := a.tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
