package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"studio/models"
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
		f := models.NodeFieldByColumn(field)
		allowed := f != nil && (f.Has(models.CopyMod) || canEditSource && f.Has(models.Authoring))
		if !allowed {
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

	for _, id := range c.ExcludedDescendants {
		if id == src.ID || id == src.NodeID {
			return badField("excluded_descendants", "excludes the node being copied")
		}
	}
	order, err := a.place(ctx, parent.ID, pos, *c.Target, newID)
	if err != nil {
		return err
	}
	if err := a.copyTree(ctx, src.ID, newID, parent, order, !canEditSource, c.ExcludedDescendants); err != nil {
		return err
	}
	root, err := a.node(ctx, newID)
	if err != nil {
		return err
	}
	if len(c.Mods) > 0 {
		// Mods may set the authoring fields that an editor of the source may.
		frozen := root.FreezeAuthoringData
		root.FreezeAuthoringData = false
		e, err := a.edit(root, c.Mods)
		if err != nil {
			return err
		}
		e.n.FreezeAuthoringData = frozen
		if err := a.saveEdits(ctx, []*nodeEdit{e}); err != nil {
			return err
		}
		root = e.n
	}
	a.generate(0, TableContentNode, root.ID, map[string]any{"node_id": root.NodeID, "content_id": root.ContentID})
	return a.markChanged(ctx, parent.ID)
}

// copiedColumns are content_nodes' columns that a copy takes from its source as they are.
var copiedColumns = strings.Join(models.NodeColumns(models.Copied), ", ")

// copyTree copies the subtree at src under parent, its root taking newID
// and order, in a handful of statements that move no rows through Go: the
// subtree is mapped to new ids in a temporary table, and nodes, questions,
// files (sharing their blobs) and tags are copied by INSERT … SELECT.
// Copies keep content_id and get new node_ids; their source and original
// ids chain to src; they are changed and unpublished; frozen marks a copy
// by someone who cannot edit the source.
func (a *applier) copyTree(ctx context.Context, src, newID models.ID, parent *models.ContentNode, order float64, frozen bool, excluded []models.ID) error {
	if err := a.makeCopyMaps(ctx); err != nil {
		return err
	}
	a.copies++
	n := a.copies
	newIDExpr := "gen_random_uuid()"
	if a.d.Kind == SQLite {
		newIDExpr = "lower(hex(randomblob(16)))"
	}
	skip := ""
	if len(excluded) > 0 {
		skip = a.tx.NewRaw("AND c.id NOT IN (?) AND c.node_id NOT IN (?)", bun.List(excluded), bun.List(excluded)).String()
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"map nodes", `INSERT INTO copy_nodes (copy_no, old_id, depth, new_id, new_node_id)
			WITH RECURSIVE sub (id, depth) AS (
				SELECT CAST(? AS ` + a.d.idType() + `), 0
				UNION ALL
				SELECT c.id, sub.depth + 1 FROM content_nodes AS c JOIN sub ON c.parent_id = sub.id ` + skip + `
			)
			SELECT ?, sub.id, sub.depth,
				CASE WHEN sub.depth = 0 THEN CAST(? AS ` + a.d.idType() + `) ELSE ` + newIDExpr + ` END,
				` + newIDExpr + `
			FROM sub`, []any{src, n, newID}},
		{"copy nodes", `INSERT INTO content_nodes (id, channel_id, root_id, parent_id, sort_order, node_id, ` + copiedColumns + `,
				changed, published, freeze_authoring_data, source_channel_id, source_node_id, original_channel_id,
				original_source_node_id, created_at, modified_at, created_by_id, modified_by_id)
			SELECT m.new_id, ?, ?, CASE WHEN m.depth = 0 THEN ? ELSE pm.new_id END,
				CASE WHEN m.depth = 0 THEN ? ELSE s.sort_order END, m.new_node_id, ` + prefixed("s.", copiedColumns) + `,
				?, ?, (s.freeze_authoring_data OR ?), s.channel_id, s.node_id, COALESCE(s.original_channel_id, s.channel_id),
				COALESCE(s.original_source_node_id, s.node_id), ?, ?, ?, ?
			FROM copy_nodes AS m JOIN content_nodes AS s ON s.id = m.old_id
			LEFT JOIN copy_nodes AS pm ON pm.copy_no = m.copy_no AND pm.old_id = s.parent_id
			WHERE m.copy_no = ?`,
			[]any{parent.ChannelID, parent.RootID, parent.ID, order, true, false, frozen, a.now, a.now, a.u.ID, a.u.ID, n}},
		{"map questions", `INSERT INTO copy_items (copy_no, old_id, new_id, node_id)
			SELECT m.copy_no, ai.id, ` + newIDExpr + `, m.new_id
			FROM assessment_items AS ai JOIN copy_nodes AS m ON ai.node_id = m.old_id
			WHERE m.copy_no = ?`, []any{n}},
		{"copy questions", `INSERT INTO assessment_items (id, node_id, assessment_id, type, question, answers, hints,
				raw_data, sort_order, randomize, source_url, created_at, modified_at)
			SELECT ci.new_id, ci.node_id, ai.assessment_id, ai.type, ai.question, ai.answers, ai.hints,
				ai.raw_data, ai.sort_order, ai.randomize, ai.source_url, ?, ?
			FROM copy_items AS ci JOIN assessment_items AS ai ON ai.id = ci.old_id
			WHERE ci.copy_no = ?`, []any{a.now, a.now, n}},
		{"copy files", `INSERT INTO files (id, node_id, assessment_item_id, checksum, size, extension, preset,
				language, duration, original_filename, source_url, uploaded_by_id, created_at, modified_at)
			SELECT ` + newIDExpr + `, m.new_id, NULL, ` + prefixed("f.", fileColumns) + `, ?, ?
			FROM files AS f JOIN copy_nodes AS m ON f.node_id = m.old_id
			WHERE m.copy_no = ?`, []any{a.now, a.now, n}},
		{"copy question files", `INSERT INTO files (id, node_id, assessment_item_id, checksum, size, extension, preset,
				language, duration, original_filename, source_url, uploaded_by_id, created_at, modified_at)
			SELECT ` + newIDExpr + `, NULL, ci.new_id, ` + prefixed("f.", fileColumns) + `, ?, ?
			FROM files AS f JOIN copy_items AS ci ON f.assessment_item_id = ci.old_id
			WHERE ci.copy_no = ?`, []any{a.now, a.now, n}},
		{"copy tags", `INSERT INTO content_tags (node_id, name)
			SELECT m.new_id, t.name FROM content_tags AS t JOIN copy_nodes AS m ON t.node_id = m.old_id
			WHERE m.copy_no = ?`, []any{n}},
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
	id, onCommit := a.d.idType(), " ON COMMIT DROP"
	if a.d.Kind == SQLite {
		onCommit = ""
	}
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
