package db

import (
	"context"
	"fmt"
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
	if err := d.selectChannels(d.DB, u, &rows).Where("c.id IN (?)", list(ids)).Scan(ctx); err != nil {
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
func (d *DB) containsExpr(expr string) string {
	if d.Kind == Postgres {
		return expr + " ILIKE ?"
	}
	return expr + ` LIKE ? ESCAPE '\'`
}

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
	q := d.channelFilter(d.selectChannels(d.DB, u, &rows), u, f)
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
	p := &ChannelPage{}
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
	n, err := d.channelFilter(d.NewSelect().Model((*models.Channel)(nil)), u, f).Count(ctx)
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
			return models.Errorf(models.CodeBadUserInput, "name is empty; give the channel a name")
		}
		if err := limitText("name", *in.Name, 200); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := limitText("description", *in.Description, 400); err != nil {
			return err
		}
	}
	if in.Tagline != nil {
		if err := limitText("tagline", *in.Tagline, 150); err != nil {
			return err
		}
	}
	if in.Language != nil && *in.Language != "" {
		l, err := models.LanguageByCode(*in.Language)
		if err != nil {
			return models.Errorf(models.CodeBadUserInput, "language %q is not a language code; use one from the languages query, such as en or pt-BR", *in.Language)
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

// CreateChannel makes a channel with its main and trash roots; u becomes its
// editor. id may be zero, for a new random one.
func (d *DB) CreateChannel(ctx context.Context, u *models.User, id models.ID, in ChannelInput) (*models.Channel, error) {
	if u == nil {
		return nil, models.Errorf(models.CodeUnauthenticated, "log in to create a channel")
	}
	if in.Name == nil {
		return nil, models.Errorf(models.CodeBadUserInput, "name is required")
	}
	if in.Public != nil || in.Deleted != nil {
		return nil, models.Errorf(models.CodeBadUserInput, "public and deleted cannot be set on creation")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if id.IsZero() {
		id = models.NewID()
	}
	t := now()
	ch := &models.Channel{
		ID: id, ThumbnailEncoding: map[string]any{}, ContentDefaults: map[string]any{},
		PublishedKindCount: []any{}, IncludedLanguages: []string{},
		RootID: models.NewID(), TrashRootID: models.NewID(), CreatedAt: t, ModifiedAt: t,
	}
	in.apply(ch)
	root := newRoot(ch, ch.RootID, u, t)
	root.OriginalChannelID, root.SourceChannelID = &ch.ID, &ch.ID
	trash := newRoot(ch, ch.TrashRootID, u, t)
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(ch).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return models.Errorf(models.CodeConflict, "a channel with id %s already exists; choose another id", id)
			}
			return fmt.Errorf("db: create channel: %w", err)
		}
		if _, err := tx.NewInsert().Model(&[]*models.ContentNode{root, trash}).Exec(ctx); err != nil {
			return fmt.Errorf("db: create channel roots: %w", err)
		}
		m := &models.ChannelMember{ChannelID: ch.ID, UserID: u.ID, Role: models.RoleEditor}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return fmt.Errorf("db: create channel editor: %w", err)
		}
		return appendChanges(ctx, tx, channelChange(ch, u, models.ChangeCreated, map[string]any{"obj": ch}))
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// newRoot is the topic at the top of one of a channel's trees. Its node_id and
// content_id are the channel's id, as in Studio.
func newRoot(ch *models.Channel, id models.ID, u *models.User, t time.Time) *models.ContentNode {
	n := &models.ContentNode{
		ID: id, ChannelID: ch.ID, RootID: id, NodeID: ch.ID, ContentID: ch.ID,
		Kind: models.KindTopic, Title: ch.Name, Complete: true, Changed: true,
		CreatedAt: t, ModifiedAt: t, CreatedByID: &u.ID, ModifiedByID: &u.ID,
	}
	normalizeNode(n)
	return n
}

func channelChange(ch *models.Channel, u *models.User, typ models.ChangeType, payload map[string]any) *models.Change {
	return &models.Change{ChannelID: &ch.ID, CreatedByID: &u.ID, Table: "channel", Type: typ, Key: ch.ID, Payload: payload}
}

// lockChannel loads a channel for a write by u inside tx and checks u may
// edit it. On PostgreSQL the row lock serialises writers of one channel.
func (d *DB) lockChannel(ctx context.Context, tx bun.IDB, u *models.User, id models.ID) (*models.Channel, Access, error) {
	if u == nil {
		return nil, NoAccess, models.Errorf(models.CodeUnauthenticated, "log in to change channel %s", id)
	}
	var rows []channelRow
	q := d.selectChannels(tx, u, &rows).Where("c.id = ?", id)
	if d.Kind == Postgres {
		q = q.For("UPDATE OF c")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, NoAccess, fmt.Errorf("db: lock channel: %w", err)
	}
	if len(rows) == 0 {
		return nil, NoAccess, notFound("channel", id)
	}
	ca := decideRows(u, rows)[0]
	switch {
	case !ca.Access.CanView():
		return nil, ca.Access, notFound("channel", id)
	case !ca.Access.CanEdit():
		return nil, ca.Access, models.Errorf(models.CodeForbidden, "you may view channel %s but not edit it; ask an editor to make you one", id)
	}
	return ca.Channel, ca.Access, nil
}

// UpdateChannel changes a channel's fields. Only admins set public or deleted.
func (d *DB) UpdateChannel(ctx context.Context, u *models.User, id models.ID, in ChannelInput) (*models.Channel, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if (in.Public != nil || in.Deleted != nil) && (u == nil || !u.IsAdmin) {
		return nil, models.Errorf(models.CodeForbidden, "only admins may set public or deleted; use deleteChannel to delete")
	}
	var ch *models.Channel
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ch, _, err = d.lockChannel(ctx, tx, u, id); err != nil {
			return err
		}
		in.apply(ch)
		return d.saveChannel(ctx, tx, u, ch, models.ChangeUpdated, in.mods())
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// mods is the change log's record of an update: the fields that were set.
func (in *ChannelInput) mods() map[string]any {
	m := map[string]any{}
	put := func(k string, v any, ok bool) {
		if ok {
			m[k] = v
		}
	}
	put("name", in.Name, in.Name != nil)
	put("description", in.Description, in.Description != nil)
	put("tagline", in.Tagline, in.Tagline != nil)
	put("language", in.Language, in.Language != nil)
	put("content_defaults", in.ContentDefaults, in.ContentDefaults != nil)
	put("public", in.Public, in.Public != nil)
	put("deleted", in.Deleted, in.Deleted != nil)
	return map[string]any{"mods": m}
}

// saveChannel writes ch back and keeps its main root in step, as Studio does:
// the root carries the channel's name, and a changed channel is a changed tree.
func (d *DB) saveChannel(ctx context.Context, tx bun.Tx, u *models.User, ch *models.Channel, typ models.ChangeType, payload map[string]any) error {
	ch.ModifiedAt = now()
	if _, err := tx.NewUpdate().Model(ch).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("db: update channel: %w", err)
	}
	root := tx.NewUpdate().Model((*models.ContentNode)(nil)).
		Set("title = ?", ch.Name).Set("changed = ?", true).
		Set("modified_at = ?", ch.ModifiedAt).Set("modified_by_id = ?", u.ID)
	if ch.Deleted {
		root = root.Set("published = ?", false)
	}
	if _, err := root.Where("id = ?", ch.RootID).Exec(ctx); err != nil {
		return fmt.Errorf("db: update channel root: %w", err)
	}
	return appendChanges(ctx, tx, channelChange(ch, u, typ, payload))
}

// DeleteChannel marks a channel deleted; its members still see it, and an
// admin may restore it.
func (d *DB) DeleteChannel(ctx context.Context, u *models.User, id models.ID) (*models.Channel, error) {
	var ch *models.Channel
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ch, _, err = d.lockChannel(ctx, tx, u, id); err != nil {
			return err
		}
		ch.Deleted = true
		return d.saveChannel(ctx, tx, u, ch, models.ChangeDeleted, nil)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// SetMember gives the user with email the role in a channel, replacing any
// other role they had there.
func (d *DB) SetMember(ctx context.Context, u *models.User, channelID models.ID, email string, role models.Role) (*models.Channel, error) {
	var ch *models.Channel
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if ch, _, err = d.lockChannel(ctx, tx, u, channelID); err != nil {
			return err
		}
		member := new(models.User)
		err = tx.NewSelect().Model(member).Where("lower(u.email) = lower(?)", strings.TrimSpace(email)).Scan(ctx)
		if isNoRows(err) {
			return models.Errorf(models.CodeNotFound, "no user has the email %s; they must have an account first", email)
		}
		if err != nil {
			return fmt.Errorf("db: set member: %w", err)
		}
		if role == models.RoleViewer {
			if err := d.keepAnEditor(ctx, tx, channelID, member.ID); err != nil {
				return err
			}
		}
		m := &models.ChannelMember{ChannelID: channelID, UserID: member.ID, Role: role}
		if _, err := tx.NewInsert().Model(m).On("CONFLICT (channel_id, user_id) DO UPDATE").Set("role = EXCLUDED.role").Exec(ctx); err != nil {
			return fmt.Errorf("db: set member: %w", err)
		}
		return appendChanges(ctx, tx, memberChange(ch, u, role, member.ID, models.ChangeCreated))
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func memberChange(ch *models.Channel, u *models.User, role models.Role, userID models.ID, typ models.ChangeType) *models.Change {
	return &models.Change{ChannelID: &ch.ID, UserID: &userID, CreatedByID: &u.ID, Table: string(role) + "_m2m", Type: typ, Key: []models.ID{userID, ch.ID}}
}

// keepAnEditor refuses to leave a channel with no editor when userID stops being one.
func (d *DB) keepAnEditor(ctx context.Context, tx bun.IDB, channelID, userID models.ID) error {
	n, err := tx.NewSelect().Model((*models.ChannelMember)(nil)).
		Where("channel_id = ? AND role = 'editor' AND user_id <> ?", channelID, userID).Count(ctx)
	if err != nil {
		return fmt.Errorf("db: count editors: %w", err)
	}
	isEditor, err := tx.NewSelect().Model((*models.ChannelMember)(nil)).
		Where("channel_id = ? AND role = 'editor' AND user_id = ?", channelID, userID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("db: count editors: %w", err)
	}
	if isEditor && n == 0 {
		return models.Errorf(models.CodeBadUserInput, "this would leave channel %s with no editor; add another editor first", channelID)
	}
	return nil
}

// RemoveMember removes a user's role in a channel. Editors remove anyone;
// a viewer may remove only themselves.
func (d *DB) RemoveMember(ctx context.Context, u *models.User, channelID, userID models.ID) (*models.Channel, error) {
	if u == nil {
		return nil, models.Errorf(models.CodeUnauthenticated, "log in to change channel %s", channelID)
	}
	var ch *models.Channel
	err := d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ch, _, err = d.lockChannel(ctx, tx, u, channelID)
		if models.CodeOf(err) == models.CodeForbidden && userID == u.ID {
			ch, err = d.channelForSelf(ctx, tx, channelID)
		}
		if err != nil {
			return err
		}
		m := new(models.ChannelMember)
		err = tx.NewSelect().Model(m).Where("channel_id = ? AND user_id = ?", channelID, userID).Scan(ctx)
		if isNoRows(err) {
			return models.Errorf(models.CodeNotFound, "user %s is not a member of channel %s", userID, channelID)
		}
		if err != nil {
			return fmt.Errorf("db: remove member: %w", err)
		}
		if err := d.keepAnEditor(ctx, tx, channelID, userID); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(m).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("db: remove member: %w", err)
		}
		return appendChanges(ctx, tx, memberChange(ch, u, m.Role, userID, models.ChangeDeleted))
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// channelForSelf loads a channel for a viewer who leaves it.
func (d *DB) channelForSelf(ctx context.Context, tx bun.IDB, id models.ID) (*models.Channel, error) {
	ch := new(models.Channel)
	if err := tx.NewSelect().Model(ch).Where("c.id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: remove member: %w", err)
	}
	return ch, nil
}

// MembersByChannel lists each channel's members of role, by email.
func (d *DB) MembersByChannel(ctx context.Context, role models.Role, channelIDs []models.ID) (map[models.ID][]*models.User, error) {
	var rows []struct {
		models.User `bun:",extend"`
		ChannelID   models.ID `bun:"channel_id"`
	}
	err := d.NewSelect().Model((*models.User)(nil)).ColumnExpr("u.*, m.channel_id").
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
