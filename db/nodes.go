package db

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// Page sizes for node listings.
const (
	MaxChildrenPage = 1000
	MaxNodesPage    = 1000
)

// NodePage is one page of nodes with a cursor for each.
type NodePage struct {
	Nodes       []*models.ContentNode
	Cursors     []string
	HasNextPage bool
	// HasPreviousPage: the page begins after a cursor, so nodes come before it.
	HasPreviousPage bool
}

// normalizeNode replaces nil JSON fields with empty ones, so that the
// database never holds a JSON null where an object or list belongs.
func normalizeNode(n *models.ContentNode) {
	for _, m := range []*map[string]any{&n.ExtraFields, &n.ThumbnailEncoding, &n.GradeLevels,
		&n.ResourceTypes, &n.LearningActivities, &n.AccessibilityLabels, &n.Categories, &n.LearnerNeeds} {
		if *m == nil {
			*m = map[string]any{}
		}
	}
	if n.RoleVisibility == "" {
		n.RoleVisibility = models.RoleLearner
	}
}

// copyThreshold is the number of rows from which a bulk insert uses COPY on
// PostgreSQL; below it an INSERT is as quick and simpler to read in logs.
const copyThreshold = 20

// insertNodes writes new nodes as they are: with COPY on PostgreSQL, else in
// INSERT statements of at most 500 rows. It is the bulk insert under every
// node-creating write.
func insertNodes(ctx context.Context, tx bun.IDB, nodes []*models.ContentNode) error {
	for _, n := range nodes {
		normalizeNode(n)
	}
	if len(nodes) >= copyThreshold && canCopy(ctx) {
		return copyModels(ctx, tx, nodes)
	}
	for start := 0; start < len(nodes); start += 500 {
		batch := nodes[start:min(start+500, len(nodes))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("db: insert nodes: %w", err)
		}
	}
	return nil
}

// Rows are generated rows for Load.
type Rows struct {
	Nodes []*models.ContentNode
	Files []*models.File
	Items []*models.AssessmentItem
}

// Load inserts generated rows (test fixtures, benchmark channels) as they
// are, in one transaction: nothing is checked and no change is logged, so
// it is for trees built whole by code, under channels that exist.
func (d *DB) Load(ctx context.Context, r Rows) error {
	err := d.door(ctx, func(ctx context.Context, tx *writeTx) error {
		if err := insertNodes(ctx, tx, r.Nodes); err != nil {
			return err
		}
		if err := insertBatches(ctx, tx, r.Files); err != nil {
			return err
		}
		return insertBatches(ctx, tx, r.Items)
	})
	if err != nil {
		return fmt.Errorf("db: load: %w", err)
	}
	return nil
}

// insertBatches inserts rows in statements of at most 500.
func insertBatches[T any](ctx context.Context, tx bun.IDB, rows []*T) error {
	for start := 0; start < len(rows); start += 500 {
		batch := rows[start:min(start+500, len(rows))]
		if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// NodesByID loads nodes by id, whatever their channel: callers check access.
func (d *DB) NodesByID(ctx context.Context, ids []models.ID) (map[models.ID]*models.ContentNode, error) {
	var ns []*models.ContentNode
	if err := d.sql.NewSelect().Model(&ns).Where("cn.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: nodes by id: %w", err)
	}
	out := make(map[models.ID]*models.ContentNode, len(ns))
	for _, n := range ns {
		out[n.ID] = n
	}
	return out, nil
}

type rankedNode struct {
	models.ContentNode `bun:",extend"`
	RN                 int `bun:"rn"`
}

// ChildrenPages returns a page of children for each parent, in sibling
// order, in one statement: a window function numbers each parent's children
// so that every parent gets its own first n. With cols, only those columns
// of the nodes are read (see nodeSelectList); the rest are left empty.
func (d *DB) ChildrenPages(ctx context.Context, parents []models.ID, first int, after string, cols ...string) (map[models.ID]*NodePage, error) {
	return d.childrenPages(ctx, parents, first, after, nodeSelectList(cols))
}

// nodeSelectList is the select list of content_nodes' columns named in cols,
// or of all of them when cols is empty; it always has the ones every reader
// relies on (its id, its parent, its place). A large tree read spends most
// of its database time converting columns it will not show: the eight JSON
// ones above all.
func nodeSelectList(cols []string) string {
	return selectColumns("cn", allNodeColumns, []string{"id", "parent_id", "sort_order"}, cols)
}

// selectColumns lists alias.column for each of all that is in always or in
// cols, in all's order; alias.* when cols is empty. Names not in all are
// ignored, so that nothing but a column name reaches the SQL.
func selectColumns(alias string, all, always, cols []string) string {
	if len(cols) == 0 {
		return alias + ".*"
	}
	want := map[string]bool{}
	for _, c := range slices.Concat(always, cols) {
		want[c] = true
	}
	var out []string
	for _, c := range all {
		if want[c] {
			out = append(out, alias+"."+c)
		}
	}
	return strings.Join(out, ", ")
}

func (d *DB) childrenPages(ctx context.Context, parents []models.ID, first int, after string, columns string) (map[models.ID]*NodePage, error) {
	if err := checkFirst(first, MaxChildrenPage); err != nil {
		return nil, err
	}
	inner := d.sql.NewSelect().Model((*models.ContentNode)(nil)).ColumnExpr(columns).
		ColumnExpr("row_number() OVER (PARTITION BY cn.parent_id ORDER BY cn.sort_order, cn.id) AS rn").
		Where("cn.parent_id IN (?)", list(parents))
	if after != "" {
		var order float64
		var id models.ID
		if err := decodeCursor(after, &order, &id); err != nil {
			return nil, err
		}
		inner = inner.Where("(cn.sort_order > ? OR (cn.sort_order = ? AND cn.id > ?))", order, order, id)
	}
	var rows []rankedNode
	err := d.sql.NewSelect().With("ranked", inner).TableExpr("ranked AS cn").ColumnExpr("cn.*").
		Where("cn.rn <= ?", first+1).OrderExpr("cn.parent_id, cn.rn").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: children: %w", err)
	}
	out := make(map[models.ID]*NodePage, len(parents))
	for i := range rows {
		n := &rows[i].ContentNode
		p := out[*n.ParentID]
		if p == nil {
			p = &NodePage{HasPreviousPage: after != ""}
			out[*n.ParentID] = p
		}
		if rows[i].RN > first {
			p.HasNextPage = true
			continue
		}
		p.Nodes = append(p.Nodes, n)
		p.Cursors = append(p.Cursors, encodeCursor(n.SortOrder, n.ID))
	}
	return out, nil
}

// ChildCounts counts each parent's children.
func (d *DB) ChildCounts(ctx context.Context, parents []models.ID) (map[models.ID]int, error) {
	var rows []struct {
		ParentID models.ID `bun:"parent_id"`
		N        int       `bun:"n"`
	}
	err := d.sql.NewSelect().Model((*models.ContentNode)(nil)).ColumnExpr("cn.parent_id, count(*) AS n").
		Where("cn.parent_id IN (?)", list(parents)).GroupExpr("cn.parent_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: child counts: %w", err)
	}
	out := make(map[models.ID]int, len(rows))
	for _, r := range rows {
		out[r.ParentID] = r.N
	}
	return out, nil
}

// ResourceCounts counts each node's descendants that are not topics, with
// one recursive query for all of them.
func (d *DB) ResourceCounts(ctx context.Context, ids []models.ID) (map[models.ID]int, error) {
	var rows []struct {
		Top models.ID `bun:"top"`
		N   int       `bun:"n"`
	}
	// subtreeSQL's walk, carrying each node's top and kind, so that counting
	// needs no join back to the nodes.
	err := d.sql.NewRaw(`WITH RECURSIVE d (top, id, kind) AS (
		SELECT cn.id, cn.id, cn.kind FROM content_nodes AS cn WHERE cn.id IN (?)
		UNION ALL
		SELECT d.top, c.id, c.kind FROM content_nodes AS c JOIN d ON c.parent_id = d.id
	)
	SELECT top, sum(CASE WHEN kind <> 'topic' AND id <> top THEN 1 ELSE 0 END) AS n FROM d GROUP BY top`, list(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: resource counts: %w", err)
	}
	out := make(map[models.ID]int, len(rows))
	for _, r := range rows {
		out[r.Top] = r.N
	}
	return out, nil
}

// Ancestors returns each node's ancestors, from its tree's root down to its
// parent, with one recursive query for all of them.
func (d *DB) Ancestors(ctx context.Context, ids []models.ID) (map[models.ID][]*models.ContentNode, error) {
	var rows []struct {
		models.ContentNode `bun:",extend"`
		Start              models.ID `bun:"start"`
	}
	err := d.sql.NewRaw(ancestorsSQL+`SELECT cn.*, up.start FROM up JOIN content_nodes AS cn ON cn.id = up.id
	WHERE up.depth > 0 ORDER BY up.start, up.depth DESC`, list(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: ancestors: %w", err)
	}
	out := make(map[models.ID][]*models.ContentNode, len(ids))
	for i := range rows {
		out[rows[i].Start] = append(out[rows[i].Start], &rows[i].ContentNode)
	}
	return out, nil
}

// TagsByNode lists each node's tags, sorted.
func (d *DB) TagsByNode(ctx context.Context, ids []models.ID) (map[models.ID][]string, error) {
	var tags []models.Tag
	if err := d.sql.NewSelect().Model(&tags).Where("tg.node_id IN (?)", list(ids)).OrderExpr("tg.node_id, tg.name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: tags: %w", err)
	}
	out := map[models.ID][]string{}
	for _, t := range tags {
		out[t.NodeID] = append(out[t.NodeID], t.Name)
	}
	return out, nil
}

// fileTableColumns are the files table's columns.
var fileTableColumns = []string{"id", "node_id", "assessment_item_id", "checksum", "size", "extension", "preset", "language",
	"duration", "original_filename", "source_url", "uploaded_by_id", "created_at", "modified_at"}

// FilesByNode lists each node's files, by preset. With cols, only those
// columns are read (besides the keys and what orders them); the rest are
// left empty. They are ordered here rather than by the database, whose
// collation made sorting a thousand nodes' files cost more than finding them.
func (d *DB) FilesByNode(ctx context.Context, ids []models.ID, cols ...string) (map[models.ID][]*models.File, error) {
	var fs []*models.File
	q := d.sql.NewSelect().Model(&fs).ColumnExpr(selectColumns("f", fileTableColumns, []string{"id", "node_id", "preset", "created_at"}, cols))
	if err := q.Where("f.node_id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: files by node: %w", err)
	}
	out := map[models.ID][]*models.File{}
	for _, f := range fs {
		out[*f.NodeID] = append(out[*f.NodeID], f)
	}
	for _, files := range out {
		slices.SortFunc(files, func(a, b *models.File) int {
			return cmp.Or(strings.Compare(a.PresetID, b.PresetID), a.CreatedAt.Compare(b.CreatedAt), bytes.Compare(a.ID[:], b.ID[:]))
		})
	}
	return out, nil
}

// FilesByAssessmentItem lists each assessment item's files.
func (d *DB) FilesByAssessmentItem(ctx context.Context, ids []models.ID) (map[models.ID][]*models.File, error) {
	var fs []*models.File
	if err := d.sql.NewSelect().Model(&fs).Where("f.assessment_item_id IN (?)", list(ids)).OrderExpr("f.created_at, f.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: files by assessment item: %w", err)
	}
	out := map[models.ID][]*models.File{}
	for _, f := range fs {
		out[*f.AssessmentItemID] = append(out[*f.AssessmentItemID], f)
	}
	return out, nil
}

// AssessmentItemsByNode lists each exercise's questions in order.
func (d *DB) AssessmentItemsByNode(ctx context.Context, ids []models.ID) (map[models.ID][]*models.AssessmentItem, error) {
	var items []*models.AssessmentItem
	if err := d.sql.NewSelect().Model(&items).Where("ai.node_id IN (?)", list(ids)).OrderExpr("ai.node_id, ai.sort_order, ai.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: assessment items: %w", err)
	}
	out := map[models.ID][]*models.AssessmentItem{}
	for _, it := range items {
		out[it.NodeID] = append(out[it.NodeID], it)
	}
	return out, nil
}

// AssessmentItemsByID loads questions by their own ids.
func (d *DB) AssessmentItemsByID(ctx context.Context, ids []models.ID) ([]*models.AssessmentItem, error) {
	var items []*models.AssessmentItem
	if len(ids) == 0 {
		return items, nil
	}
	if err := d.sql.NewSelect().Model(&items).Where("ai.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: assessment items by id: %w", err)
	}
	return items, nil
}

// PrerequisitesByNode lists, for each node, the nodes to complete before it.
func (d *DB) PrerequisitesByNode(ctx context.Context, ids []models.ID) (map[models.ID][]*models.ContentNode, error) {
	var rows []struct {
		models.ContentNode `bun:",extend"`
		TargetID           models.ID `bun:"target_id"`
	}
	err := d.sql.NewSelect().Model((*models.ContentNode)(nil)).ColumnExpr("cn.*, pr.target_node_id AS target_id").
		Join("JOIN prerequisites AS pr ON pr.prerequisite_id = cn.id").
		Where("pr.target_node_id IN (?)", list(ids)).OrderExpr("cn.title, cn.id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: prerequisites: %w", err)
	}
	out := map[models.ID][]*models.ContentNode{}
	for i := range rows {
		out[rows[i].TargetID] = append(out[rows[i].TargetID], &rows[i].ContentNode)
	}
	return out, nil
}

// NodeQuery filters a flat listing of a channel's nodes.
type NodeQuery struct {
	Kinds                       []string
	Complete, Published         *bool
	Changed, HasFiles           *bool
	ModifiedSince               *time.Time
	ModifiedAfterCreatedSeconds *int
	TitleContains               string
	First                       int
	After                       string
	// Columns are the node columns to read (see nodeSelectList); empty: all.
	Columns []string
}

func (d *DB) nodeFilter(q *bun.SelectQuery, channelID models.ID, f NodeQuery) *bun.SelectQuery {
	q = q.Where("cn.channel_id = ?", channelID)
	if len(f.Kinds) > 0 {
		q = q.Where("cn.kind IN (?)", bun.List(f.Kinds))
	}
	for col, v := range map[string]*bool{"complete": f.Complete, "published": f.Published, "changed": f.Changed} {
		if v != nil {
			q = q.Where("cn.? = ?", bun.Ident(col), *v)
		}
	}
	if f.HasFiles != nil {
		op := "EXISTS"
		if !*f.HasFiles {
			op = "NOT EXISTS"
		}
		q = q.Where(op + " (SELECT 1 FROM files AS f WHERE f.node_id = cn.id)")
	}
	if f.ModifiedSince != nil {
		q = q.Where("cn.modified_at >= ?", f.ModifiedSince.UTC())
	}
	if s := f.ModifiedAfterCreatedSeconds; s != nil {
		// The same expressions as the content_nodes_channel_edit_lag indexes.
		q = q.Where(d.dialect.editedAfter, *s)
	}
	if f.TitleContains != "" {
		q = q.Where(d.containsExpr("cn.title"), likePattern(f.TitleContains))
	}
	return q
}

// ChannelNodes lists a channel's nodes, both trees, oldest first. The caller
// checks access to the channel.
func (d *DB) ChannelNodes(ctx context.Context, channelID models.ID, f NodeQuery) (*NodePage, error) {
	if err := checkFirst(f.First, MaxNodesPage); err != nil {
		return nil, err
	}
	if f.ModifiedAfterCreatedSeconds != nil && *f.ModifiedAfterCreatedSeconds < 0 {
		return nil, models.Errorf(models.CodeBadUserInput, "modifiedAfterCreatedSeconds must not be negative")
	}
	for _, k := range f.Kinds {
		if !models.IsKind(k) {
			return nil, models.Errorf(models.CodeBadUserInput, "kind %q is not a content kind; use one of %v", k, models.Kinds)
		}
	}
	var ns []*models.ContentNode
	q := d.nodeFilter(d.sql.NewSelect().Model(&ns), channelID, f)
	cols := f.Columns
	if len(cols) > 0 {
		cols = append(slices.Clip(cols), "created_at") // the cursor
	}
	q = q.ColumnExpr(nodeSelectList(cols))
	if f.After != "" {
		var at time.Time
		var id models.ID
		if err := decodeCursor(f.After, &at, &id); err != nil {
			return nil, err
		}
		q = q.Where("(cn.created_at > ? OR (cn.created_at = ? AND cn.id > ?))", at, at, id)
	}
	if err := q.OrderExpr("cn.created_at, cn.id").Limit(int64(f.First + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: channel nodes: %w", err)
	}
	p := &NodePage{HasPreviousPage: f.After != ""}
	if len(ns) > f.First {
		ns, p.HasNextPage = ns[:f.First], true
	}
	p.Nodes = ns
	for _, n := range ns {
		p.Cursors = append(p.Cursors, encodeCursor(n.CreatedAt, n.ID))
	}
	return p, nil
}

// CountChannelNodes counts what ChannelNodes would list over all pages.
func (d *DB) CountChannelNodes(ctx context.Context, channelID models.ID, f NodeQuery) (int, error) {
	n, err := d.nodeFilter(d.sql.NewSelect().Model((*models.ContentNode)(nil)), channelID, f).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: count channel nodes: %w", err)
	}
	return int(n), nil
}

// AssessmentItemsByKey loads questions by [node id, assessment id], in the order asked.
func (d *DB) AssessmentItemsByKey(ctx context.Context, keys [][2]models.ID) ([]*models.AssessmentItem, error) {
	nodes := make([]models.ID, len(keys))
	for i, k := range keys {
		nodes[i] = k[0]
	}
	got, err := d.AssessmentItemsByNode(ctx, nodes)
	if err != nil {
		return nil, err
	}
	out := make([]*models.AssessmentItem, 0, len(keys))
	for _, k := range keys {
		for _, it := range got[k[0]] {
			if it.AssessmentID == k[1] {
				out = append(out, it)
			}
		}
	}
	return out, nil
}

// allNodeColumns are content_nodes' columns.
var allNodeColumns = models.NodeColumns(0)
