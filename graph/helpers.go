package graph

import (
	"context"

	"studio/db"
	"studio/models"
)

// pageSize reads an optional first argument with its schema default.
func pageSize(first *int, def int) int {
	if first == nil {
		return def
	}
	return *first
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pageInfo is a page's PageInfo, from its edges' cursors.
func pageInfo(cursors []string, hasNext, hasPrevious bool) *models.PageInfo {
	p := &models.PageInfo{HasNextPage: hasNext}
	if len(cursors) > 0 {
		p.StartCursor, p.EndCursor = &cursors[0], &cursors[len(cursors)-1]
		p.HasPreviousPage = hasPrevious
	}
	return p
}

// nodeConnection turns a page of nodes into a Relay connection.
func nodeConnection(p *db.NodePage, count func(context.Context) (int, error)) *models.ContentNodeConnection {
	c := &models.ContentNodeConnection{PageInfo: &models.PageInfo{}, Edges: []*models.ContentNodeEdge{}, Count: count}
	if p == nil {
		return c
	}
	for i, n := range p.Nodes {
		c.Edges = append(c.Edges, &models.ContentNodeEdge{Cursor: p.Cursors[i], Node: n})
	}
	c.PageInfo = pageInfo(p.Cursors, p.HasNextPage, p.HasPreviousPage)
	return c
}

// visibleChannel returns a channel the caller may view, or nil.
func visibleChannel(ctx context.Context, id models.ID) (*db.ChannelAccess, error) {
	ca, err := load(ctx, loadersFrom(ctx).Channels, id)
	if err != nil || ca.Channel == nil || !ca.Access.CanView() {
		return nil, err
	}
	return &ca, nil
}

// visibleNode returns a node the caller may view, or nil: a node of a
// channel they cannot see, or in the trash of a channel they see only
// because it is public, is as good as absent.
func visibleNode(ctx context.Context, id models.ID) (*models.ContentNode, error) {
	n, err := load(ctx, loadersFrom(ctx).Nodes, id)
	if err != nil || n == nil {
		return nil, err
	}
	ca, err := visibleChannel(ctx, n.ChannelID)
	if err != nil || ca == nil || !ca.Access.CanViewNode(ca.Channel, n) {
		return nil, err
	}
	return n, nil
}

// channelOf is the channel id names, if the caller may view it; nil for nil.
func channelOf(ctx context.Context, id *models.ID) (*models.Channel, error) {
	if id == nil {
		return nil, nil
	}
	ca, err := visibleChannel(ctx, *id)
	if ca == nil {
		return nil, err
	}
	return ca.Channel, nil
}

// memberAccess says whether the caller sees a channel as a member or admin,
// not merely because it is public: only they see who its people are.
func memberAccess(ctx context.Context, channelID models.ID) (bool, error) {
	ca, err := load(ctx, loadersFrom(ctx).Channels, channelID)
	return ca.Access >= db.ViewAccess, err
}

// userOf returns a user that the caller may see on a node of channelID.
func userOf(ctx context.Context, channelID models.ID, id *models.ID) (*models.User, error) {
	if id == nil {
		return nil, nil
	}
	if ok, err := memberAccess(ctx, channelID); !ok || err != nil {
		return nil, err
	}
	return load(ctx, loadersFrom(ctx).Users, *id)
}

// requireUser returns the caller, or UNAUTHENTICATED.
func requireUser(ctx context.Context) (*models.User, error) {
	if u := userFrom(ctx); u != nil {
		return u, nil
	}
	return nil, models.Errorf(models.CodeUnauthenticated, "log in first: send Authorization: Bearer <token> (login returns one)")
}

// jsonObject reads a JSON argument that must be an object.
func jsonObject(field string, v any) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, models.Errorf(models.CodeBadUserInput, "%s must be a JSON object", field)
	}
	return m, nil
}
