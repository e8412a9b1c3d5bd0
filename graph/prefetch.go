package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/db"
	"studio/models"
)

// Loaders wait a moment to gather keys, but a wide level of a tree (a
// thousand nodes marshalled concurrently) does not reliably fit in any
// window. So when a page of children is loaded, the query's selection is read
// ahead: what it asks of those children (their files, tags, questions, child
// counts, and their own children, recursively) is fetched for all of them at
// once and primed into the loaders. A tree query then costs one statement a
// level however many nodes it has, and its deeper levels do not wait at all.
// Anything the read-ahead misses (a fragment it does not know, an alias with
// other arguments) still loads correctly through the loaders.

// prefetchChildren reads ahead below the pages just loaded for the children
// field whose context is ctx (the first key's: a batch shares one selection).
func (l *Loaders) prefetchChildren(ctx context.Context, pages map[childrenKey]*db.NodePage) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return
	}
	var nodes []*models.ContentNode
	for _, p := range pages {
		if p != nil {
			nodes = append(nodes, p.Nodes...)
		}
	}
	l.prefetch(ctx, graphql.GetOperationContext(ctx), fc.Field.Selections, nodes)
}

// prefetch loads what conn, a ContentNodeConnection selection, asks of nodes.
func (l *Loaders) prefetch(ctx context.Context, op *graphql.OperationContext, conn ast.SelectionSet, nodes []*models.ContentNode) {
	if len(nodes) == 0 {
		return
	}
	ids := make([]models.ID, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	for _, f := range nodeFields(op, conn) {
		switch f.Name {
		case "files":
			primeAll(ctx, l.Files, ids, func(ctx context.Context, ids []models.ID) (map[models.ID][]*models.File, error) {
				return l.db.FilesByNode(ctx, ids)
			})
		case "tags":
			primeAll(ctx, l.Tags, ids, l.db.TagsByNode)
		case "assessmentItems":
			primeAll(ctx, l.AssessmentItems, ids, l.db.AssessmentItemsByNode)
		case "childCount":
			primeAll(ctx, l.ChildCounts, ids, l.db.ChildCounts)
		case "children":
			first, after, ok := pageArgs(f.ArgumentMap(op.Variables))
			if !ok {
				continue
			}
			cols := l.columns(op, f.Selections)
			pages, err := l.db.ChildrenPages(ctx, ids, first, after, splitColumns(cols)...)
			if err != nil {
				continue // the resolver will meet and report the same error
			}
			var below []*models.ContentNode
			for _, id := range ids {
				l.Children.Prime(ctx, childrenKey{id, first, after, cols}, pages[id])
				if p := pages[id]; p != nil {
					below = append(below, p.Nodes...)
				}
			}
			if selects(op, f.Selections, "ContentNodeConnection", "totalCount") {
				primeAll(ctx, l.ChildCounts, ids, l.db.ChildCounts)
			}
			l.prefetch(ctx, op, f.Selections, below)
		}
	}
}

// primeAll fetches keys in one call and primes the loader with every key,
// found or not, so that none of them runs a statement of its own.
func primeAll[V any](ctx context.Context, l *dataloader.Loader[models.ID, V], ids []models.ID,
	fetch func(context.Context, []models.ID) (map[models.ID]V, error)) {
	got, err := fetch(ctx, ids)
	if err != nil {
		return // the resolvers will load, and report, on their own
	}
	for _, id := range ids {
		l.Prime(ctx, id, got[id])
	}
}

// nodeFieldColumns are the content_nodes columns each ContentNode field
// reads, besides those every read has (db.ChildrenPages reads id, parent and
// place): its own column for a field of models.NodeFields, and those below.
// A field not listed (incompleteReasons) may read any column.
var nodeFieldColumns = func() map[string][]string {
	m := map[string][]string{
		"__typename": nil, "parent": nil, "channel": {"channel_id"},
		// Members only: the node's channel says who may see them.
		"createdBy": {"created_by_id", "channel_id"}, "modifiedBy": {"modified_by_id", "channel_id"},
		// Read through loaders by the node's id.
		"tags": nil, "ancestors": nil, "children": nil, "childCount": nil, "resourceCount": nil, "files": nil,
		"assessmentItems": nil, "prerequisites": nil,
	}
	for _, f := range models.NodeFields {
		if f.GraphQL != "" {
			m[f.GraphQL] = []string{f.Column}
		}
	}
	m["id"], m["sortOrder"] = nil, nil // every read has them
	return m
}()

// columnsOf lists the node columns that conn, a ContentNodeConnection
// selection, reads of its nodes, joined by commas; "" means all of them.
// Loaders key pages by it, so that two selections of the same page that
// need different columns do not share a page read for one of them.
func columnsOf(op *graphql.OperationContext, conn ast.SelectionSet) string {
	cols := []string{"id"}
	for _, f := range nodeFields(op, conn) {
		c, ok := nodeFieldColumns[f.Name]
		if !ok {
			return ""
		}
		cols = append(cols, c...)
	}
	slices.Sort(cols)
	return strings.Join(slices.Compact(cols), ",")
}

// splitColumns undoes columnsOf's join.
func splitColumns(cols string) []string {
	if cols == "" {
		return nil
	}
	return strings.Split(cols, ",")
}

// nodeFields are the fields conn selects under edges { node { … } }.
func nodeFields(op *graphql.OperationContext, conn ast.SelectionSet) []graphql.CollectedField {
	var out []graphql.CollectedField
	for _, e := range graphql.CollectFields(op, conn, []string{"ContentNodeConnection"}) {
		if e.Name != "edges" {
			continue
		}
		for _, n := range graphql.CollectFields(op, e.Selections, []string{"ContentNodeEdge"}) {
			if n.Name == "node" {
				out = append(out, graphql.CollectFields(op, n.Selections, []string{"ContentNode"})...)
			}
		}
	}
	return out
}

func selects(op *graphql.OperationContext, sel ast.SelectionSet, typ, field string) bool {
	for _, f := range graphql.CollectFields(op, sel, []string{typ}) {
		if f.Name == field {
			return true
		}
	}
	return false
}

// pageArgs reads first and after as the children resolver will see them.
func pageArgs(args map[string]any) (first int, after string, ok bool) {
	first = 100
	switch v := args["first"].(type) {
	case nil:
	case int64:
		first = int(v)
	case int:
		first = v
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, "", false
		}
		first = int(n)
	default:
		return 0, "", false
	}
	switch v := args["after"].(type) {
	case nil:
	case string:
		after = v
	default:
		return 0, "", false
	}
	return first, after, first >= 0 && first <= db.MaxChildrenPage
}
