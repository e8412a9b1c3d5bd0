package graph

import (
	"context"

	"studio/db"
	"studio/models"
)

func channelInput(name, description, tagline, lang *string, defaults any) (db.ChannelInput, error) {
	cd, err := jsonObject("contentDefaults", defaults)
	return db.ChannelInput{Name: name, Description: description, Tagline: tagline, Language: lang, ContentDefaults: cd}, err
}

func channelQuery(f *models.ChannelFilter, first int, after string) db.ChannelQuery {
	q := db.ChannelQuery{First: first, After: after}
	if f != nil {
		q.Edit, q.View, q.Public, q.Keyword = f.Edit, f.View, f.Public, deref(f.Keyword)
		q.Deleted = f.Deleted != nil && *f.Deleted
	}
	return q
}

func nodeQuery(f *models.NodeFilter, first int, after string) db.NodeQuery {
	q := db.NodeQuery{First: first, After: after}
	if f != nil {
		q.Kinds, q.Complete, q.Published, q.Changed, q.HasFiles = f.Kinds, f.Complete, f.Published, f.Changed, f.HasFiles
		q.ModifiedSince, q.ModifiedAfterCreatedSeconds, q.TitleContains = f.ModifiedSince, f.ModifiedAfterCreatedSeconds, deref(f.TitleContains)
	}
	return q
}

func channelConnection(ctx context.Context, p *db.ChannelPage, count func(context.Context) (int, error)) *models.ChannelConnection {
	c := &models.ChannelConnection{PageInfo: pageInfo(p.Cursors, p.HasNextPage, p.HasPreviousPage), Edges: []*models.ChannelEdge{}, Count: count}
	for i, ca := range p.Channels {
		loadersFrom(ctx).Channels.Prime(ctx, ca.ID, ca)
		c.Edges = append(c.Edges, &models.ChannelEdge{Cursor: p.Cursors[i], Node: ca.Channel})
	}
	return c
}

// notMember is the error for a listing only members may see.
func notMember(channelID models.ID, err error) error {
	if err != nil {
		return err
	}
	return models.Errorf(models.CodeForbidden, "only members of channel %s may list its nodes; browse its tree from root instead", channelID)
}
