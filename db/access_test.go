package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// matrix builds, on d, the callers and channels of the permission tests:
// callers anonymous, non-member, viewer, editor and admin; channels private,
// public and deleted (deleted while public), each with the viewer and editor
// as members.
type matrix struct {
	callers  map[string]*models.User
	channels map[string]*models.Channel
}

var callerNames = []string{"anonymous", "non-member", "viewer", "editor", "admin"}
var channelNames = []string{"private", "public", "deleted"}

func newMatrix(t *testing.T, d *db.DB) matrix {
	ctx := context.Background()
	m := matrix{callers: map[string]*models.User{"anonymous": nil}, channels: map[string]*models.Channel{}}
	m.callers["non-member"] = dbtest.User(t, d, "other@example.org", false)
	m.callers["viewer"] = dbtest.User(t, d, "viewer@example.org", false)
	m.callers["editor"] = dbtest.User(t, d, "editor@example.org", false)
	m.callers["admin"] = dbtest.User(t, d, "admin@example.org", true)
	yes := true
	for _, name := range channelNames {
		ch := dbtest.Channel(t, d, m.callers["editor"], name)
		_, err := d.SetMember(ctx, m.callers["editor"], ch.ID, "viewer@example.org", models.RoleViewer)
		require.NoError(t, err)
		if name != "private" {
			ch, err = d.UpdateChannel(ctx, m.callers["admin"], ch.ID, db.ChannelInput{Public: &yes})
			require.NoError(t, err)
		}
		if name == "deleted" {
			ch, err = d.DeleteChannel(ctx, m.callers["editor"], ch.ID)
			require.NoError(t, err)
		}
		m.channels[name] = ch
	}
	return m
}

// want is studio-backend.md §3 as a table: the access of each caller to each channel.
var want = map[string]map[string]db.Access{
	"anonymous":  {"private": db.NoAccess, "public": db.PublicAccess, "deleted": db.NoAccess},
	"non-member": {"private": db.NoAccess, "public": db.PublicAccess, "deleted": db.NoAccess},
	"viewer":     {"private": db.ViewAccess, "public": db.ViewAccess, "deleted": db.ViewAccess},
	"editor":     {"private": db.EditAccess, "public": db.EditAccess, "deleted": db.ViewAccess},
	"admin":      {"private": db.EditAccess, "public": db.EditAccess, "deleted": db.EditAccess},
}

func TestAccessMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMatrix(t, d)
		for _, caller := range callerNames {
			u := m.callers[caller]
			var ids []models.ID
			for _, name := range channelNames {
				ids = append(ids, m.channels[name].ID)
			}
			got, err := d.ChannelsByID(ctx, u, ids)
			require.NoError(t, err)
			// Listing, deleted and live, must agree with Decide: the SQL and
			// the Go say the same rule twice.
			listed := map[models.ID]bool{}
			for _, deleted := range []bool{false, true} {
				p, err := d.ListChannels(ctx, u, db.ChannelQuery{First: 100, Deleted: deleted})
				require.NoError(t, err)
				for _, c := range p.Channels {
					listed[c.ID] = true
				}
			}
			editable := map[models.ID]bool{}
			yes := true
			p, err := d.ListChannels(ctx, u, db.ChannelQuery{First: 100, Edit: &yes})
			require.NoError(t, err)
			for _, c := range p.Channels {
				editable[c.ID] = true
			}
			for _, name := range channelNames {
				ch := m.channels[name]
				a := got[ch.ID].Access
				require.Equal(t, want[caller][name], a, "%s on %s", caller, name)
				require.Equal(t, a.CanView(), listed[ch.ID], "%s lists %s", caller, name)
				require.Equal(t, a.CanEdit() && !ch.Deleted, editable[ch.ID], "%s lists %s as editable", caller, name)
			}
		}
	})
}

func TestCanViewNode(t *testing.T) {
	ch := &models.Channel{RootID: models.NewID(), TrashRootID: models.NewID()}
	main := &models.ContentNode{RootID: ch.RootID}
	trash := &models.ContentNode{RootID: ch.TrashRootID}
	for _, tc := range []struct {
		access      db.Access
		main, trash bool
	}{
		{db.NoAccess, false, false},
		{db.PublicAccess, true, false},
		{db.ViewAccess, true, true},
		{db.EditAccess, true, true},
	} {
		require.Equal(t, tc.main, tc.access.CanViewNode(ch, main))
		require.Equal(t, tc.trash, tc.access.CanViewNode(ch, trash))
	}
}
