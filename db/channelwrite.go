package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"studio/models"
)

// Channel writes go through Apply like every other write: the typed
// mutations below build channel, editor_m2m and viewer_m2m changes.

// CreateChannel makes a channel with its main and trash roots; u becomes its
// editor. id may be zero, for a new random one.
func (d *DB) CreateChannel(ctx context.Context, u *models.User, id models.ID, in ChannelInput) (*models.Channel, error) {
	if id.IsZero() {
		id = models.NewID()
	}
	return d.channelWrite(ctx, u, id, Change{Type: models.ChangeCreated, Table: TableChannel, Key: id, Obj: in.fields()})
}

// UpdateChannel changes a channel's fields. Only admins set public, or
// deleted back to false.
func (d *DB) UpdateChannel(ctx context.Context, u *models.User, id models.ID, in ChannelInput) (*models.Channel, error) {
	return d.channelWrite(ctx, u, id, Change{Type: models.ChangeUpdated, Table: TableChannel, Key: id, Mods: in.fields()})
}

// DeleteChannel marks a channel deleted; its members still see it, and an
// admin may restore it.
func (d *DB) DeleteChannel(ctx context.Context, u *models.User, id models.ID) (*models.Channel, error) {
	return d.channelWrite(ctx, u, id, Change{Type: models.ChangeDeleted, Table: TableChannel, Key: id})
}

// SetMember gives the user with email the role in a channel, replacing any
// other role they had there.
func (d *DB) SetMember(ctx context.Context, u *models.User, channelID models.ID, email string, role models.Role) (*models.Channel, error) {
	member, err := d.UserByEmail(ctx, email)
	if err != nil {
		return nil, models.Errorf(models.CodeNotFound, "no user has the email %s; they must have an account first", email)
	}
	return d.channelWrite(ctx, u, channelID, Change{Type: models.ChangeCreated, Table: string(role) + "_m2m", Key: pairKey(member.ID, channelID)})
}

// RemoveMember removes a user's role in a channel. Editors remove anyone;
// a viewer may remove only themselves.
func (d *DB) RemoveMember(ctx context.Context, u *models.User, channelID, userID models.ID) (*models.Channel, error) {
	return d.channelWrite(ctx, u, channelID, Change{Type: models.ChangeDeleted, Table: tableMember, Key: pairKey(userID, channelID)})
}

// channelWrite applies one change and returns the channel as it left it.
func (d *DB) channelWrite(ctx context.Context, u *models.User, id models.ID, c Change) (*models.Channel, error) {
	if _, err := d.Apply(ctx, u, []Change{c}, true); err != nil {
		return nil, err
	}
	ch := new(models.Channel)
	if err := d.sql.NewSelect().Model(ch).Where("c.id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("db: load channel: %w", err)
	}
	return ch, nil
}

// fields is the obj or mods of a channel change that sets in's fields.
func (in ChannelInput) fields() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]*string{"name": in.Name, "description": in.Description, "tagline": in.Tagline, "language": in.Language} {
		if v != nil {
			m[k] = *v
		}
	}
	if in.ContentDefaults != nil {
		m["content_defaults"] = in.ContentDefaults
	}
	if in.Public != nil {
		m["public"] = *in.Public
	}
	if in.Deleted != nil {
		m["deleted"] = *in.Deleted
	}
	return m
}

// readOnlyChannelFields are fields of Studio's channel objects that the
// server owns; a change may carry them and they are ignored.
var readOnlyChannelFields = map[string]bool{"id": true, "root_id": true, "trash_root_id": true, "created": true,
	"modified": true, "published": true, "publishing": true, "version": true, "last_published": true,
	"editors": true, "viewers": true, "primary_token": true, "thumbnail_url": true, "count": true,
	"edit": true, "view": true, "unpublished_changes": true, "staging_root_id": true}

// channelInput reads the obj or mods of a channel change.
func channelInput(fields map[string]any) (ChannelInput, error) {
	var in ChannelInput
	for k, v := range fields {
		switch k {
		case "name", "description", "tagline", "language":
			s, err := stringValue(k, v)
			if err != nil {
				return in, err
			}
			switch k {
			case "name":
				in.Name = &s
			case "description":
				in.Description = &s
			case "tagline":
				in.Tagline = &s
			case "language":
				in.Language = &s
			}
		case "content_defaults":
			m, err := objectValue(k, v)
			if err != nil {
				return in, err
			}
			in.ContentDefaults = m
		case "public", "deleted":
			b, ok := v.(bool)
			if !ok {
				return in, badField(k, "must be true or false")
			}
			if k == "public" {
				in.Public = &b
			} else {
				in.Deleted = &b
			}
		default:
			if !readOnlyChannelFields[k] {
				return in, badField(k, "is not a field of a channel")
			}
		}
	}
	return in, in.validate()
}

// createChannel applies a CREATED channel change. A new id may be taken by
// anyone logged in; an existing one never, so that nobody gains access to a
// channel by "creating" it (the change is disallowed).
func (a *applier) createChannel(ctx context.Context, c Change) error {
	id, err := newKeyID(c.Key)
	if err != nil {
		return err
	}
	a.outcomes[0].channel = id
	in, err := channelInput(c.Obj)
	if err != nil {
		return err
	}
	if in.Name == nil || blank(*in.Name) {
		return badField("name", "is required")
	}
	if in.Public != nil || in.Deleted != nil {
		return badField("public", "public and deleted cannot be set when a channel is created")
	}
	taken, err := a.tx.NewSelect().Model((*models.Channel)(nil)).Where("c.id = ?", id).Exists(ctx)
	if err != nil {
		return fmt.Errorf("db: create channel: %w", err)
	}
	if taken {
		return disallow(models.Errorf(models.CodeConflict, "a channel with id %s already exists; choose another id", id))
	}
	inUse, err := a.idsInUse(ctx, []models.ID{id}, "channels")
	if err != nil {
		return err
	}
	if what := inUse[id]; what != "" {
		return models.Errorf(models.CodeConflict, "the id %s is %s's; choose another id", id, what)
	}
	ch := &models.Channel{
		ID: id, ThumbnailEncoding: map[string]any{}, ContentDefaults: map[string]any{},
		PublishedKindCount: []any{}, IncludedLanguages: []string{},
		RootID: models.NewID(), TrashRootID: models.NewID(), CreatedAt: a.now, ModifiedAt: a.now,
	}
	in.apply(ch)
	root := newRoot(ch, ch.RootID, a.u, a.now)
	root.OriginalChannelID, root.SourceChannelID = &ch.ID, &ch.ID
	trash := newRoot(ch, ch.TrashRootID, a.u, a.now)
	if _, err := a.tx.NewInsert().Model(ch).Exec(ctx); err != nil {
		return fmt.Errorf("db: create channel: %w", err)
	}
	if _, err := a.tx.NewInsert().Model(&[]*models.ContentNode{root, trash}).Exec(ctx); err != nil {
		return fmt.Errorf("db: create channel roots: %w", err)
	}
	m := &models.ChannelMember{ChannelID: ch.ID, UserID: a.u.ID, Role: models.RoleEditor}
	if _, err := a.tx.NewInsert().Model(m).Exec(ctx); err != nil {
		return fmt.Errorf("db: create channel editor: %w", err)
	}
	a.generate(0, TableChannel, ch.ID, map[string]any{"root_id": ch.RootID, "trash_root_id": ch.TrashRootID, "created": ch.CreatedAt})
	return nil
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

// updateChannel applies UPDATED (mods) and DELETED (soft) channel changes.
// Only admins make a channel public or restore a deleted one.
func (a *applier) updateChannel(ctx context.Context, c Change) error {
	id, err := keyID(c.Key)
	if err != nil {
		return err
	}
	in := ChannelInput{Deleted: ptrTo(true)}
	if c.Type == models.ChangeUpdated {
		if in, err = channelInput(c.Mods); err != nil {
			return err
		}
	}
	if in.Public != nil || (in.Deleted != nil && !*in.Deleted) {
		if !a.u.IsAdmin {
			return disallow(models.Errorf(models.CodeForbidden, "only admins may make a channel public or restore it; use deleteChannel to delete"))
		}
	}
	ca, err := a.editChannel(ctx, id)
	if err != nil {
		return err
	}
	a.outcomes[0].channel = id
	ch := ca.Channel
	in.apply(ch)
	ch.ModifiedAt = a.now
	if _, err := a.tx.NewUpdate().Model(ch).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("db: update channel: %w", err)
	}
	// The main root carries the channel's name, and a changed channel is a changed tree (Studio).
	root := a.tx.NewUpdate().Model((*models.ContentNode)(nil)).
		Set("title = ?", ch.Name).Set("changed = ?", true).
		Set("modified_at = ?", a.now).Set("modified_by_id = ?", a.u.ID)
	if ch.Deleted {
		root = root.Set("published = ?", false)
	}
	if _, err := root.Where("id = ?", ch.RootID).Exec(ctx); err != nil {
		return fmt.Errorf("db: update channel root: %w", err)
	}
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// addMember applies a CREATED editor_m2m or viewer_m2m change, key
// [user id, channel id]: the user takes that role, replacing any other.
func (a *applier) addMember(ctx context.Context, c Change, role models.Role) error {
	userID, channelID, err := keyPair(c.Key)
	if err != nil {
		return err
	}
	if _, err := a.editChannel(ctx, channelID); err != nil {
		return err
	}
	a.outcomes[0].channel = channelID
	exists, err := a.tx.NewSelect().Model((*models.User)(nil)).Where("u.id = ?", userID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("db: add member: %w", err)
	}
	if !exists {
		return models.Errorf(models.CodeNotFound, "user %s does not exist", userID)
	}
	if role == models.RoleViewer {
		if err := a.keepAnEditor(ctx, channelID, userID); err != nil {
			return err
		}
	}
	m := &models.ChannelMember{ChannelID: channelID, UserID: userID, Role: role}
	if _, err := a.tx.NewInsert().Model(m).On("CONFLICT (channel_id, user_id) DO UPDATE").Set("role = EXCLUDED.role").Exec(ctx); err != nil {
		return fmt.Errorf("db: add member: %w", err)
	}
	return nil
}

// removeMember applies a DELETED editor_m2m or viewer_m2m change. Editors
// remove anyone; a viewer may remove only themselves. role "" removes
// whatever role the user has.
func (a *applier) removeMember(ctx context.Context, c Change, role models.Role) error {
	userID, channelID, err := keyPair(c.Key)
	if err != nil {
		return err
	}
	_, err = a.editChannel(ctx, channelID)
	if models.CodeOf(err) == models.CodeForbidden && userID == a.u.ID {
		err = nil // leaving a channel one only views
	}
	if err != nil {
		return err
	}
	a.outcomes[0].channel = channelID
	m := new(models.ChannelMember)
	q := a.tx.NewSelect().Model(m).Where("channel_id = ? AND user_id = ?", channelID, userID)
	if role != models.RoleNone {
		q = q.Where("role = ?", role)
	}
	if err := q.Scan(ctx); isNoRows(err) {
		return models.Errorf(models.CodeNotFound, "user %s is not a member of channel %s", userID, channelID)
	} else if err != nil {
		return fmt.Errorf("db: remove member: %w", err)
	}
	if err := a.keepAnEditor(ctx, channelID, userID); err != nil {
		return err
	}
	if _, err := a.tx.NewDelete().Model(m).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("db: remove member: %w", err)
	}
	return nil
}

// keepAnEditor refuses to leave a channel with no editor when userID stops being one.
func (a *applier) keepAnEditor(ctx context.Context, channelID, userID models.ID) error {
	var roles []string
	err := a.tx.NewSelect().Model((*models.ChannelMember)(nil)).Column("role").
		Where("channel_id = ? AND role = 'editor'", channelID).Where("user_id <> ?", userID).Limit(1).Scan(ctx, &roles)
	if err != nil {
		return fmt.Errorf("db: count editors: %w", err)
	}
	if len(roles) > 0 {
		return nil
	}
	isEditor, err := a.tx.NewSelect().Model((*models.ChannelMember)(nil)).
		Where("channel_id = ? AND role = 'editor' AND user_id = ?", channelID, userID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("db: count editors: %w", err)
	}
	if isEditor {
		return models.Errorf(models.CodeBadUserInput, "this would leave channel %s with no editor; add another editor first", channelID)
	}
	return nil
}

// memberRole is the role a membership table names.
func memberRole(table string) models.Role {
	if table == tableMember {
		return models.RoleNone
	}
	return models.Role(strings.TrimSuffix(table, "_m2m"))
}
