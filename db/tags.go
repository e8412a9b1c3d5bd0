package db

import (
	"context"
	"fmt"

	"studio/models"
)

// dropTooManyTags refuses the updates that would leave their node with more
// than models.MaxTags tags: their change gets the error in errs and their
// edit is left out of what is written. Only nodes that gain tags have theirs
// read, in one statement.
func (a *applier) dropTooManyTags(ctx context.Context, cs []Change, edits []*nodeEdit, errs []error) ([]*nodeEdit, error) {
	var ids []models.ID
	for _, e := range edits {
		if len(e.addTags) > 0 {
			ids = append(ids, e.n.ID)
		}
	}
	if len(ids) == 0 {
		return edits, nil
	}
	var tags []models.Tag
	if err := a.tx.NewSelect().Model(&tags).Where("tg.node_id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: load tags: %w", err)
	}
	have := map[models.ID]map[string]bool{}
	for _, t := range tags {
		if have[t.NodeID] == nil {
			have[t.NodeID] = map[string]bool{}
		}
		have[t.NodeID][t.Name] = true
	}
	bad := map[models.ID]error{}
	for _, e := range edits {
		if len(e.addTags) == 0 {
			continue
		}
		after := map[string]bool{}
		for name := range have[e.n.ID] {
			after[name] = true
		}
		for _, name := range e.removeTags {
			delete(after, name)
		}
		for _, name := range uniqueTags(e.addTags, e.removeTags) {
			after[name] = true
		}
		if err := models.ValidateTagCount(len(after)); err != nil {
			bad[e.n.ID] = badField("tags", "%v", err)
		}
	}
	if len(bad) == 0 {
		return edits, nil
	}
	for k, e := range editsByChange(cs, edits) {
		if e != nil && bad[e.n.ID] != nil && errs[k] == nil {
			errs[k] = bad[e.n.ID]
		}
	}
	kept := edits[:0:0]
	for _, e := range edits {
		if bad[e.n.ID] == nil {
			kept = append(kept, e)
		}
	}
	return kept, nil
}
