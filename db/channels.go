package db

import (
	"context"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// MaxChannelsPage is the most channels one page holds.
const MaxChannelsPage = 100

// ChannelAccess is a channel together with what the caller may do with it.
type ChannelAccess struct {
	*models.Channel
	Access Access
}

type channelRow struct {
	models.Channel `bun:",extend"`
	Role           models.Role `bun:"role"`
}

// selectChannels selects channels with u's role in each (none for anonymous).
func (d *DB) selectChannels(db bun.IDB, u *models.User, rows *[]channelRow) *bun.SelectQuery {
	var uid models.ID
	if u != nil {
		uid = u.ID
	}
	return db.NewSelect().Model(rows).ColumnExpr("c.*").ColumnExpr("m.role").
		Join("LEFT JOIN channel_members AS m ON m.channel_id = c.id AND m.user_id = ?", uid)
}

func decideRows(u *models.User, rows []channelRow) []ChannelAccess {
	out := make([]ChannelAccess, len(rows))
	for i := range rows {
		ch := rows[i].Channel
		out[i] = ChannelAccess{Channel: &ch, Access: Decide(u, &ch, rows[i].Role)}
	}
	return out
}

// ChannelsByID loads channels with u's access to each. Hidden channels are
// returned too, with NoAccess: callers decide what to show.
func (d *DB) ChannelsByID(ctx context.Context, u *models.User, ids []models.ID) (map[models.ID]ChannelAccess, error) {
	var rows []channelRow
	if err := d.selectChannels(d.sql, u, &rows).Where("c.id IN (?)", list(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: channels by id: %w", err)
	}
	out := make(map[models.ID]ChannelAccess, len(rows))
	for _, ca := range decideRows(u, rows) {
		out[ca.ID] = ca
	}
	return out, nil
}

// ChannelQuery filters and pages a channel listing.
type ChannelQuery struct {
	Edit, View *bool
	Public     *bool
	Deleted    bool
	Keyword    string
	First      int
	After      string // a cursor from a previous page
}

// ChannelPage is one page of channels, newest first.
type ChannelPage struct {
	Channels    []ChannelAccess
	Cursors     []string
	HasNextPage bool
	// HasPreviousPage: the page begins after a cursor, so channels come before it.
	HasPreviousPage bool
}

func (d *DB) channelFilter(q *bun.SelectQuery, u *models.User, f ChannelQuery) *bun.SelectQuery {
	q = visibleChannels(q, u).Where("c.deleted = ?", f.Deleted)
	if f.Edit != nil {
		if *f.Edit {
			q = editableChannels(q, u)
		} else {
			q = q.Where("NOT EXISTS (SELECT 1 FROM channel_members m2 WHERE m2.channel_id = c.id AND m2.user_id = ? AND m2.role = 'editor')", userID(u))
		}
	}
	if f.View != nil {
		op := "EXISTS"
		if !*f.View {
			op = "NOT EXISTS"
		}
		q = q.Where(op+" (SELECT 1 FROM channel_members m3 WHERE m3.channel_id = c.id AND m3.user_id = ?)", userID(u))
	}
	if f.Public != nil {
		q = q.Where("c.public = ?", *f.Public)
	}
	for _, w := range strings.Fields(f.Keyword) {
		q = q.Where(d.containsExpr("(c.name || ' ' || c.description || ' ' || c.tagline)"), likePattern(w))
	}
	return q
}

func userID(u *models.User) models.ID {
	if u == nil {
		return models.ID{}
	}
	return u.ID
}

// containsExpr is a case-insensitive LIKE on expr; PostgreSQL's trigram
// indexes serve ILIKE, SQLite's LIKE ignores ASCII case already.
func (d *DB) containsExpr(expr string) string { return fmt.Sprintf(d.dialect.like, expr) }

func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListChannels returns a page of the channels u may view, newest first.
func (d *DB) ListChannels(ctx context.Context, u *models.User, f ChannelQuery) (*ChannelPage, error) {
	if err := checkFirst(f.First, MaxChannelsPage); err != nil {
		return nil, err
	}
	var rows []channelRow
	q := d.channelFilter(d.selectChannels(d.sql, u, &rows), u, f)
	if f.After != "" {
		var at time.Time
		var id models.ID
		if err := decodeCursor(f.After, &at, &id); err != nil {
			return nil, err
		}
		q = q.Where("(c.created_at < ? OR (c.created_at = ? AND c.id < ?))", at, at, id)
	}
	if err := q.OrderExpr("c.created_at DESC, c.id DESC").Limit(int64(f.First + 1)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: list channels: %w", err)
	}
	p := &ChannelPage{HasPreviousPage: f.After != ""}
	if len(rows) > f.First {
		rows, p.HasNextPage = rows[:f.First], true
	}
	p.Channels = decideRows(u, rows)
	for _, c := range p.Channels {
		p.Cursors = append(p.Cursors, encodeCursor(c.CreatedAt, c.ID))
	}
	return p, nil
}

// CountChannels counts what ListChannels would list over all pages.
func (d *DB) CountChannels(ctx context.Context, u *models.User, f ChannelQuery) (int, error) {
	n, err := d.channelFilter(d.sql.NewSelect().Model((*models.Channel)(nil)), u, f).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: count channels: %w", err)
	}
	return int(n), nil
}

// ChannelInput holds the fields of a channel a caller may set. Nil leaves a field as it is.
type ChannelInput struct {
	Name, Description, Tagline, Language *string
	ContentDefaults                      map[string]any
	Public, Deleted                      *bool
}

func (in *ChannelInput) validate() error {
	if in.Name != nil {
		if blank(*in.Name) {
			return inField("name", models.Errorf(models.CodeBadUserInput, "name is empty; give the channel a name"))
		}
		if err := limitText("name", *in.Name, 200); err != nil {
			return inField("name", err)
		}
	}
	if in.Description != nil {
		if err := limitText("description", *in.Description, 400); err != nil {
			return inField("description", err)
		}
	}
	if in.Tagline != nil {
		if err := limitText("tagline", *in.Tagline, 150); err != nil {
			return inField("tagline", err)
		}
	}
	if _, err := models.NormalizeJSON(in.ContentDefaults); err != nil {
		return inField("content_defaults", models.Errorf(models.CodeBadUserInput, "contentDefaults: %v", err))
	}
	if in.Language != nil && *in.Language != "" {
		l, err := models.LanguageByCode(*in.Language)
		if err != nil {
			return inField("language", models.Errorf(models.CodeBadUserInput, "language: %v", err))
		}
		*in.Language = l.ID
	}
	return nil
}

func (in *ChannelInput) apply(ch *models.Channel) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&ch.Name, in.Name)
	set(&ch.Description, in.Description)
	set(&ch.Tagline, in.Tagline)
	set(&ch.LanguageCode, in.Language)
	if in.ContentDefaults != nil {
		ch.ContentDefaults = in.ContentDefaults
	}
	if in.Public != nil {
		ch.Public = *in.Public
	}
	if in.Deleted != nil {
		ch.Deleted = *in.Deleted
	}
}

// MembersByChannel lists each channel's members of role, by email.
func (d *DB) MembersByChannel(ctx context.Context, role models.Role, channelIDs []models.ID) (map[models.ID][]*models.User, error) {
	var rows []struct {
		models.User `bun:",extend"`
		ChannelID   models.ID `bun:"channel_id"`
	}
	err := d.sql.NewSelect().Model((*models.User)(nil)).ColumnExpr("u.*, m.channel_id").
		Join("JOIN channel_members AS m ON m.user_id = u.id").
		Where("m.channel_id IN (?) AND m.role = ?", list(channelIDs), role).
		OrderExpr("lower(u.email)").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("db: channel members: %w", err)
	}
	out := map[models.ID][]*models.User{}
	for i := range rows {
		out[rows[i].ChannelID] = append(out[rows[i].ChannelID], &rows[i].User)
	}
	return out, nil
}

// ChannelName reads a channel's name by its primary key, nothing else: the
// cheapest read there is, the floor the bench measures others against.
func (d *DB) ChannelName(ctx context.Context, id models.ID) (string, error) {
	var name string
	if err := d.sql.NewSelect().Model((*models.Channel)(nil)).Column("name").Where("id = ?", id).Scan(ctx, &name); err != nil {
		return "", fmt.Errorf("db: channel name: %w", err)
	}
	return name, nil
}

// OldestChannelNamed returns the oldest channel named name, deleted ones
// included, or nil.
func (d *DB) OldestChannelNamed(ctx context.Context, name string) (*models.Channel, error) {
	var found []*models.Channel
	if err := d.sql.NewSelect().Model(&found).Where("c.name = ?", name).OrderExpr("c.created_at").Limit(1).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: channel named: %w", err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return found[0], nil
}

// Analyze brings PostgreSQL's planner statistics up to date (VACUUM
// ANALYZE), as autovacuum would soon after a bulk load; on SQLite, which
// keeps none unless asked, it does nothing.
func (d *DB) Analyze(ctx context.Context) error {
	if d.dialect.analyze == "" {
		return nil
	}
	if _, err := d.sql.ExecContext(ctx, d.dialect.analyze); err != nil {
		return fmt.Errorf("db: analyze: %w", err)
	}
	return nil
}

// StatsCollector exports the connection pool's statistics to Prometheus.
func (d *DB) StatsCollector(name string) prometheus.Collector {
	return collectors.NewDBStatsCollector(d.sql.DB, name)
}
