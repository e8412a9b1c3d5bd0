package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"studio/db"
	"studio/models"
)

// maxBatch caps the keys of one statement: a page of children is at most
// 1,000 nodes, so one level of a query stays one statement.
const maxBatch = 1000

type loadersKey struct{}

// Loaders batch every lookup of one operation: all the keys asked for while
// a level of the query resolves become one statement.
type Loaders struct {
	db   *db.DB
	user *models.User // the caller; nil when anonymous

	Channels        *dataloader.Loader[models.ID, db.ChannelAccess]
	Nodes           *dataloader.Loader[models.ID, *models.ContentNode]
	Users           *dataloader.Loader[models.ID, *models.User]
	Children        *dataloader.Loader[childrenKey, *db.NodePage]
	ChildCounts     *dataloader.Loader[models.ID, int]
	ResourceCounts  *dataloader.Loader[models.ID, int]
	Ancestors       *dataloader.Loader[models.ID, []*models.ContentNode]
	Tags            *dataloader.Loader[models.ID, []string]
	Files           *dataloader.Loader[models.ID, []*models.File]
	ItemFiles       *dataloader.Loader[models.ID, []*models.File]
	AssessmentItems *dataloader.Loader[models.ID, []*models.AssessmentItem]
	Prerequisites   *dataloader.Loader[models.ID, []*models.ContentNode]
	Editors         *dataloader.Loader[models.ID, []*models.User]
	Viewers         *dataloader.Loader[models.ID, []*models.User]
	ServerRevs      *dataloader.Loader[models.ID, int64]
	Versions        *dataloader.Loader[models.ID, []*models.ChannelVersion]
	Imports         *dataloader.Loader[models.ID, *models.ChannelImport]

	// columnsBySelection caches columnsOf for each children selection of
	// the operation: its resolver runs once for every parent node.
	columnsMu          sync.Mutex
	columnsBySelection map[selectionKey]string
}

// selectionKey names a field's merged selection (a CollectedField's
// Selections, which gqlgen's CollectFields caches for the operation). Not
// the field itself: a fragment's field merges with other selections at each
// place the fragment is spread.
type selectionKey struct {
	first *ast.Selection
	n     int
}

// childrenKey asks for one page of a parent's children, with the node
// columns its selection reads (columnsOf).
type childrenKey struct {
	Parent  models.ID
	First   int
	After   string
	Columns string
}

// NewLoaders makes the loaders of one operation by u (nil: anonymous).
// wait is how long a loader gathers keys before it runs its statement.
func NewLoaders(d *db.DB, u *models.User, wait time.Duration) *Loaders {
	l := &Loaders{
		db:   d,
		user: u,
		Channels: newLoader(wait, func(ctx context.Context, ids []models.ID) (map[models.ID]db.ChannelAccess, error) {
			return d.ChannelsByID(ctx, u, ids)
		}),
		Nodes:          newLoader(wait, d.NodesByID),
		Users:          newLoader(wait, d.UsersByID),
		ChildCounts:    newLoader(wait, d.ChildCounts),
		ResourceCounts: newLoader(wait, d.ResourceCounts),
		Ancestors:      newLoader(wait, d.Ancestors),
		Tags:           newLoader(wait, d.TagsByNode),
		Files: newLoader(wait, func(ctx context.Context, ids []models.ID) (map[models.ID][]*models.File, error) {
			return d.FilesByNode(ctx, ids)
		}),
		ItemFiles:       newLoader(wait, d.FilesByAssessmentItem),
		AssessmentItems: newLoader(wait, d.AssessmentItemsByNode),
		Prerequisites:   newLoader(wait, d.PrerequisitesByNode),
		Editors: newLoader(wait, func(ctx context.Context, ids []models.ID) (map[models.ID][]*models.User, error) {
			return d.MembersByChannel(ctx, models.RoleEditor, ids)
		}),
		Viewers: newLoader(wait, func(ctx context.Context, ids []models.ID) (map[models.ID][]*models.User, error) {
			return d.MembersByChannel(ctx, models.RoleViewer, ids)
		}),
		ServerRevs: newLoader(wait, d.ServerRevs),
		Versions:   newLoader(wait, d.VersionsByChannel),
		Imports:    newLoader(wait, d.LatestImports),
	}
	fetchPages := childrenPages(d)
	l.Children = newLoader(wait, func(ctx context.Context, keys []childrenKey) (map[childrenKey]*db.NodePage, error) {
		pages, err := fetchPages(ctx, keys)
		if err == nil {
			l.prefetchChildren(ctx, pages)
		}
		return pages, err
	})
	return l
}

// visibleNodes is visibleNode for many ids, in the order given, in two
// statements whatever their number (the nodes, then their channels).
// Loading them one by one made contentNodes(ids:) one statement an id, as
// a loader's batch closes within microseconds.
func (l *Loaders) visibleNodes(ctx context.Context, ids []models.ID) ([]*models.ContentNode, error) {
	out := make([]*models.ContentNode, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	nodes, err := l.db.NodesByID(ctx, ids)
	if err != nil || len(nodes) == 0 {
		return out, err
	}
	var channelIDs []models.ID
	seen := map[models.ID]bool{}
	for id, n := range nodes {
		l.Nodes.Prime(ctx, id, n)
		if !seen[n.ChannelID] {
			seen[n.ChannelID] = true
			channelIDs = append(channelIDs, n.ChannelID)
		}
	}
	channels, err := l.db.ChannelsByID(ctx, l.user, channelIDs)
	if err != nil {
		return nil, err
	}
	for id, ca := range channels {
		l.Channels.Prime(ctx, id, ca)
	}
	for i, id := range ids {
		n := nodes[id]
		if n == nil {
			continue
		}
		if ca, ok := channels[n.ChannelID]; ok && ca.Channel != nil && ca.Access.CanView() && ca.Access.CanViewNode(ca.Channel, n) {
			out[i] = n
		}
	}
	return out, nil
}

// forget empties every loader's cache, after a write made it stale: a
// mutation's result, or a later mutation of the same operation, must read
// what is there now.
func (l *Loaders) forget() {
	l.Channels.ClearAll()
	l.Nodes.ClearAll()
	l.Users.ClearAll()
	l.Children.ClearAll()
	l.ChildCounts.ClearAll()
	l.ResourceCounts.ClearAll()
	l.Ancestors.ClearAll()
	l.Tags.ClearAll()
	l.Files.ClearAll()
	l.ItemFiles.ClearAll()
	l.AssessmentItems.ClearAll()
	l.Prerequisites.ClearAll()
	l.Editors.ClearAll()
	l.Viewers.ClearAll()
	l.ServerRevs.ClearAll()
}

// columns is columnsOf for a children (or nodes) field's selection, once per
// operation.
func (l *Loaders) columns(op *graphql.OperationContext, conn ast.SelectionSet) string {
	if len(conn) == 0 {
		return columnsOf(op, conn)
	}
	k := selectionKey{&conn[0], len(conn)}
	l.columnsMu.Lock()
	defer l.columnsMu.Unlock()
	cols, ok := l.columnsBySelection[k]
	if !ok {
		cols = columnsOf(op, conn)
		if l.columnsBySelection == nil {
			l.columnsBySelection = map[selectionKey]string{}
		}
		l.columnsBySelection[k] = cols
	}
	return cols
}

// fieldColumns is columns for the field being resolved.
func (l *Loaders) fieldColumns(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return ""
	}
	return l.columns(graphql.GetOperationContext(ctx), fc.Field.Selections)
}

// childrenPages runs one statement per distinct page request (first, after, columns);
// a whole level of a tree query asks the same one.
func childrenPages(d *db.DB) func(context.Context, []childrenKey) (map[childrenKey]*db.NodePage, error) {
	return func(ctx context.Context, keys []childrenKey) (map[childrenKey]*db.NodePage, error) {
		groups := map[childrenKey][]models.ID{}
		for _, k := range keys {
			p := childrenKey{First: k.First, After: k.After, Columns: k.Columns}
			groups[p] = append(groups[p], k.Parent)
		}
		out := make(map[childrenKey]*db.NodePage, len(keys))
		for p, parents := range groups {
			pages, err := d.ChildrenPages(ctx, parents, p.First, p.After, splitColumns(p.Columns)...)
			if err != nil {
				return nil, err
			}
			for _, parent := range parents {
				p.Parent = parent
				out[p] = pages[parent]
			}
		}
		return out, nil
	}
}

// newLoader makes a loader from a function that fetches many keys at once;
// a key it does not return gets V's zero value.
func newLoader[K comparable, V any](wait time.Duration, fetch func(context.Context, []K) (map[K]V, error)) *dataloader.Loader[K, V] {
	batch := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		got, err := fetch(ctx, keys)
		out := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			out[i] = &dataloader.Result[V]{Data: got[k], Error: err}
		}
		return out
	}
	return dataloader.NewBatchedLoader(batch,
		dataloader.WithWait[K, V](wait), dataloader.WithBatchCapacity[K, V](maxBatch))
}

func withLoaders(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *Loaders { return ctx.Value(loadersKey{}).(*Loaders) }

// load is a loader lookup, for one-line resolvers.
func load[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], k K) (V, error) {
	return l.Load(ctx, k)()
}
