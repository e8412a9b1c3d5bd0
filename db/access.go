package db

import (
	"github.com/uptrace/bun"

	"studio/models"
)

// Access is what a caller may do with a channel and its trees.
type Access int

// Access levels, each allowing what the one before allows and more.
const (
	// NoAccess is a stranger's to a private or deleted channel: nothing.
	NoAccess Access = iota
	// PublicAccess is anyone's, anonymous callers' too: the main tree of a
	// public channel that is not deleted.
	PublicAccess
	// ViewAccess is a member's: every tree of the channel.
	ViewAccess
	// EditAccess is an editor's or an admin's.
	EditAccess
)

// Decide is the one permission rule, Studio's (studio-backend.md §3): admins
// may do anything; editors edit; editors and viewers view, deleted channels
// included (so they can be restored); everyone views a public channel that is
// not deleted. u is nil for an anonymous caller; role is u's membership of ch.
// Every read and write asks it, directly or through visibleChannels, which
// says the same in SQL.
func Decide(u *models.User, ch *models.Channel, role models.Role) Access {
	switch {
	case u != nil && u.IsAdmin:
		return EditAccess
	case role == models.RoleEditor && !ch.Deleted:
		return EditAccess
	case role == models.RoleEditor || role == models.RoleViewer:
		return ViewAccess
	case ch.Public && !ch.Deleted:
		return PublicAccess
	}
	return NoAccess
}

// CanView says whether the channel may be read at all.
func (a Access) CanView() bool { return a >= PublicAccess }

// CanEdit says whether the channel and its trees may be changed.
func (a Access) CanEdit() bool { return a == EditAccess }

// CanViewNode says whether a node of ch is visible: public access covers the
// main tree only, never the trash.
func (a Access) CanViewNode(ch *models.Channel, n *models.ContentNode) bool {
	return a >= ViewAccess || (a == PublicAccess && n.RootID == ch.RootID)
}

// visibleChannels restricts q (over channels aliased c) to the channels
// Decide lets u view.
func visibleChannels(q *bun.SelectQuery, u *models.User) *bun.SelectQuery {
	switch {
	case u != nil && u.IsAdmin:
		return q
	case u == nil:
		return q.Where("c.public AND NOT c.deleted")
	}
	return q.Where("(c.public AND NOT c.deleted) OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ?)", u.ID)
}

// editableChannels restricts q to the channels Decide lets u edit.
func editableChannels(q *bun.SelectQuery, u *models.User) *bun.SelectQuery {
	switch {
	case u != nil && u.IsAdmin:
		return q
	case u == nil:
		return q.Where("false")
	}
	return q.Where("NOT c.deleted AND EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = ? AND m.role = 'editor')", u.ID)
}
