package db

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"studio/models"
)

// Tree is one tree of a channel with everything a publish reads: its
// nodes, their files, questions, tags and prerequisites.
type Tree struct {
	Nodes         []*models.ContentNode // parents before children
	Files         map[models.ID][]*models.File
	Items         map[models.ID][]*models.AssessmentItem
	Tags          map[models.ID][]string
	Prerequisites []models.Prerequisite
}

// LoadTree reads the tree under root in a handful of statements, as it is
// at one moment (one transaction), however large it is.
func (d *DB) LoadTree(ctx context.Context, root models.ID) (*Tree, error) {
	sub, roots := subtreeSQL, list([]models.ID{root})
	t := &Tree{Files: map[models.ID][]*models.File{}, Items: map[models.ID][]*models.AssessmentItem{}, Tags: map[models.ID][]string{}}
	err := d.sql.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewRaw(sub+`SELECT cn.* FROM content_nodes AS cn JOIN sub ON cn.id = sub.id ORDER BY sub.depth, cn.sort_order, cn.id`, roots).Scan(ctx, &t.Nodes); err != nil {
			return fmt.Errorf("nodes: %w", err)
		}
		var files []*models.File
		if err := tx.NewRaw(sub+`SELECT f.* FROM files AS f JOIN sub ON f.node_id = sub.id ORDER BY f.preset, f.id`, roots).Scan(ctx, &files); err != nil {
			return fmt.Errorf("files: %w", err)
		}
		for _, f := range files {
			t.Files[*f.NodeID] = append(t.Files[*f.NodeID], f)
		}
		var items []*models.AssessmentItem
		if err := tx.NewRaw(sub+`SELECT ai.* FROM assessment_items AS ai JOIN sub ON ai.node_id = sub.id ORDER BY ai.sort_order, ai.id`, roots).Scan(ctx, &items); err != nil {
			return fmt.Errorf("questions: %w", err)
		}
		for _, it := range items {
			t.Items[it.NodeID] = append(t.Items[it.NodeID], it)
		}
		var tags []models.Tag
		if err := tx.NewRaw(sub+`SELECT tg.* FROM content_tags AS tg JOIN sub ON tg.node_id = sub.id ORDER BY tg.name`, roots).Scan(ctx, &tags); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		for _, tg := range tags {
			t.Tags[tg.NodeID] = append(t.Tags[tg.NodeID], tg.Name)
		}
		return tx.NewRaw(sub+`SELECT pr.* FROM prerequisites AS pr JOIN sub ON pr.target_node_id = sub.id`, roots).Scan(ctx, &t.Prerequisites)
	})
	if err != nil {
		return nil, fmt.Errorf("db: load tree: %w", err)
	}
	return t, nil
}
