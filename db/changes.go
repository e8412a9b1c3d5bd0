package db

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"studio/models"
)

// appendChanges writes changes to the log in the caller's transaction, so a
// write and its log entries commit together. It fills in ServerRev.
func appendChanges(ctx context.Context, tx bun.IDB, cs ...*models.Change) error {
	if len(cs) == 0 {
		return nil
	}
	t := now()
	for _, c := range cs {
		c.CreatedAt = t
		if c.Payload == nil {
			c.Payload = map[string]any{}
		}
	}
	if len(cs) >= copyThreshold && canCopy(ctx) {
		return copyChanges(ctx, tx, cs)
	}
	if _, err := tx.NewInsert().Model(&cs).Returning("server_rev").Exec(ctx); err != nil {
		return fmt.Errorf("db: append changes: %w", err)
	}
	return nil
}

// copyChanges appends changes with COPY, which returns nothing: their revs
// are taken from the sequence first, in order.
func copyChanges(ctx context.Context, tx bun.IDB, cs []*models.Change) error {
	var revs []int64
	err := tx.NewRaw("SELECT nextval('changes_server_rev_seq') FROM generate_series(1, ?)", len(cs)).Scan(ctx, &revs)
	if err != nil {
		return fmt.Errorf("db: append changes: %w", err)
	}
	for i, c := range cs {
		c.ServerRev = revs[i]
	}
	return copyModels(ctx, tx, cs)
}

// ServerRevs returns the highest rev of each channel's change log (0 when empty).
func (d *DB) ServerRevs(ctx context.Context, channelIDs []models.ID) (map[models.ID]int64, error) {
	var rows []struct {
		ChannelID models.ID `bun:"channel_id"`
		Rev       int64     `bun:"rev"`
	}
	err := d.sql.NewSelect().Model((*models.Change)(nil)).
		ColumnExpr("chg.channel_id, max(chg.server_rev) AS rev").
		Where("chg.channel_id IN (?)", list(channelIDs)).
		GroupExpr("chg.channel_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: server revs: %w", err)
	}
	out := make(map[models.ID]int64, len(rows))
	for _, r := range rows {
		out[r.ChannelID] = r.Rev
	}
	return out, nil
}
