package db

import (
	"context"
	"fmt"

	"studio/models"
)

// The lookups behind Kolibri's remote-browsing API (server/peer.go), which
// answers from published content databases: which channels may be browsed,
// and which channel a Kolibri node id belongs to (Kolibri names nodes by
// their node_id, never by their channel).

// PeerChannel is channel id when its published version may be browsed: it
// is published and not deleted. Nil otherwise; knowing the id is the
// permission, as for the lookup.
func (d *DB) PeerChannel(ctx context.Context, id models.ID) (*models.Channel, error) {
	var chs []*models.Channel
	if err := d.sql.NewSelect().Model(&chs).Where("c.id = ? AND NOT c.deleted AND c.version > 0", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: peer channel: %w", err)
	}
	if len(chs) == 0 {
		return nil, nil
	}
	return chs[0], nil
}

// PublicPeerChannels lists the public, published, not deleted channels by
// name, at most 1000.
func (d *DB) PublicPeerChannels(ctx context.Context) ([]*models.Channel, error) {
	var chs []*models.Channel
	err := d.sql.NewSelect().Model(&chs).Where("c.public AND NOT c.deleted AND c.version > 0").
		Order("c.name", "c.id").Limit(1000).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: public peer channels: %w", err)
	}
	return chs, nil
}

// ChannelsOfNodes maps each of nodeIDs (Kolibri ids: node_id) to the
// published, not deleted channels that have a node with that node_id (a few:
// imports keep node ids, so a node id may be in more than one channel).
// A node moved to the trash since the last publish still counts: its
// channel is what matters, the published database decides the rest.
func (d *DB) ChannelsOfNodes(ctx context.Context, nodeIDs []models.ID) (map[models.ID][]models.ID, error) {
	out := map[models.ID][]models.ID{}
	if len(nodeIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		NodeID    models.ID `bun:"node_id"`
		ChannelID models.ID `bun:"channel_id"`
	}
	err := d.sql.NewSelect().TableExpr("content_nodes AS cn").ColumnExpr("DISTINCT cn.node_id, cn.channel_id").
		Join("JOIN channels AS c ON c.id = cn.channel_id").
		Where("cn.node_id IN (?) AND NOT c.deleted AND c.version > 0", list(nodeIDs)).
		Limit(int64(10*len(nodeIDs))).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: channels of nodes: %w", err)
	}
	for _, r := range rows {
		out[r.NodeID] = append(out[r.NodeID], r.ChannelID)
	}
	return out, nil
}
