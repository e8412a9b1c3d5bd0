package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

func ptr[T any](v T) *T { return &v }

func requireCode(t *testing.T, code models.Code, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, models.CodeOf(err), "error: %v", err)
}

func TestCreateChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		id := models.NewID()
		ch, err := d.CreateChannel(ctx, u, id, db.ChannelInput{Name: ptr("Physics"), Language: ptr("PT-br"), Tagline: ptr("Motion")})
		require.NoError(t, err)
		require.Equal(t, id, ch.ID)
		require.Equal(t, "pt-BR", ch.LanguageCode)

		root := dbtest.Node(t, d, ch.RootID)
		require.Equal(t, "Physics", root.Title)
		require.Equal(t, models.KindTopic, root.Kind)
		require.Equal(t, ch.ID, root.NodeID)
		require.Equal(t, ch.ID, root.ContentID)
		require.True(t, root.Complete)
		require.Nil(t, root.ParentID)
		trash := dbtest.Node(t, d, ch.TrashRootID)
		require.Equal(t, ch.TrashRootID, trash.RootID)

		got, err := d.ChannelsByID(ctx, u, []models.ID{id})
		require.NoError(t, err)
		require.Equal(t, db.EditAccess, got[id].Access)
		revs, err := d.ServerRevs(ctx, []models.ID{id})
		require.NoError(t, err)
		require.Positive(t, revs[id])

		_, err = d.CreateChannel(ctx, u, id, db.ChannelInput{Name: ptr("Again")})
		requireCode(t, models.CodeConflict, err)
	})
}

func TestChannelWritesRefuseBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ed := dbtest.User(t, d, "ed@example.org", false)
		viewer := dbtest.User(t, d, "viewer@example.org", false)
		other := dbtest.User(t, d, "other@example.org", false)
		ch := dbtest.Channel(t, d, ed, "Chemistry")
		_, err := d.SetMember(ctx, ed, ch.ID, "viewer@example.org", models.RoleViewer)
		require.NoError(t, err)
		long := string(make([]rune, 201))
		before := snapshot(t, d)

		for _, tc := range []struct {
			name string
			code models.Code
			err  func() error
		}{
			{"create anonymously", models.CodeUnauthenticated, func() error {
				_, err := d.CreateChannel(ctx, nil, models.ID{}, db.ChannelInput{Name: ptr("x")})
				return err
			}},
			{"create without a name", models.CodeBadUserInput, func() error {
				_, err := d.CreateChannel(ctx, ed, models.ID{}, db.ChannelInput{Name: ptr("  ")})
				return err
			}},
			{"create with a bad language", models.CodeBadUserInput, func() error {
				_, err := d.CreateChannel(ctx, ed, models.ID{}, db.ChannelInput{Name: ptr("x"), Language: ptr("not a language")})
				return err
			}},
			{"update with a long name", models.CodeBadUserInput, func() error {
				_, err := d.UpdateChannel(ctx, ed, ch.ID, db.ChannelInput{Name: &long})
				return err
			}},
			{"update as viewer", models.CodeForbidden, func() error {
				_, err := d.UpdateChannel(ctx, viewer, ch.ID, db.ChannelInput{Name: ptr("mine")})
				return err
			}},
			{"update as non-member", models.CodeNotFound, func() error {
				_, err := d.UpdateChannel(ctx, other, ch.ID, db.ChannelInput{Name: ptr("mine")})
				return err
			}},
			{"update anonymously", models.CodeUnauthenticated, func() error {
				_, err := d.UpdateChannel(ctx, nil, ch.ID, db.ChannelInput{Name: ptr("mine")})
				return err
			}},
			{"update an unknown channel", models.CodeNotFound, func() error {
				_, err := d.UpdateChannel(ctx, ed, models.NewID(), db.ChannelInput{Name: ptr("x")})
				return err
			}},
			{"make public as editor", models.CodeForbidden, func() error {
				_, err := d.UpdateChannel(ctx, ed, ch.ID, db.ChannelInput{Public: ptr(true)})
				return err
			}},
			{"delete as viewer", models.CodeForbidden, func() error {
				_, err := d.DeleteChannel(ctx, viewer, ch.ID)
				return err
			}},
			{"add an editor with an unknown email", models.CodeNotFound, func() error {
				_, err := d.SetMember(ctx, ed, ch.ID, "nobody@example.org", models.RoleEditor)
				return err
			}},
			{"add an editor as viewer", models.CodeForbidden, func() error {
				_, err := d.SetMember(ctx, viewer, ch.ID, "other@example.org", models.RoleEditor)
				return err
			}},
			{"demote the last editor", models.CodeBadUserInput, func() error {
				_, err := d.SetMember(ctx, ed, ch.ID, "ed@example.org", models.RoleViewer)
				return err
			}},
			{"remove the last editor", models.CodeBadUserInput, func() error {
				_, err := d.RemoveMember(ctx, ed, ch.ID, ed.ID)
				return err
			}},
			{"remove an editor as viewer", models.CodeForbidden, func() error {
				_, err := d.RemoveMember(ctx, viewer, ch.ID, ed.ID)
				return err
			}},
			{"remove a non-member", models.CodeNotFound, func() error {
				_, err := d.RemoveMember(ctx, ed, ch.ID, other.ID)
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) { requireCode(t, tc.code, tc.err()) })
		}
		require.Equal(t, before, snapshot(t, d), "a refused write changed the database")
	})
}

// snapshot counts the rows of every table a channel write touches, and
// every channel's name and flags, to show that a refused write changed nothing.
func snapshot(t *testing.T, d *db.DB) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	for _, table := range []string{"channels", "channel_members", "content_nodes", "changes", "users"} {
		n, err := d.ForTest(t).NewSelect().TableExpr(table).Count(ctx)
		require.NoError(t, err)
		out[table] = n
	}
	var chs []models.Channel
	require.NoError(t, d.ForTest(t).NewSelect().Model(&chs).Order("id").Scan(ctx))
	for _, c := range chs {
		out["channel "+c.ID.String()] = []any{c.Name, c.LanguageCode, c.Public, c.Deleted, c.ModifiedAt.UnixMicro()}
	}
	var ms []models.ChannelMember
	require.NoError(t, d.ForTest(t).NewSelect().Model(&ms).Scan(ctx))
	for _, m := range ms {
		out["member "+m.ChannelID.String()+m.UserID.String()] = m.Role
	}
	return out
}

func TestChannelMembersAndDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ed := dbtest.User(t, d, "ed@example.org", false)
		viewer := dbtest.User(t, d, "Viewer@Example.org", false)
		admin := dbtest.User(t, d, "admin@example.org", true)
		ch := dbtest.Channel(t, d, ed, "Biology")

		// Emails match ignoring case; a new role replaces the old one.
		_, err := d.SetMember(ctx, ed, ch.ID, "viewer@example.ORG", models.RoleEditor)
		require.NoError(t, err)
		_, err = d.SetMember(ctx, ed, ch.ID, "viewer@example.org", models.RoleViewer)
		require.NoError(t, err)
		eds, err := d.MembersByChannel(ctx, models.RoleEditor, []models.ID{ch.ID})
		require.NoError(t, err)
		vs, err := d.MembersByChannel(ctx, models.RoleViewer, []models.ID{ch.ID})
		require.NoError(t, err)
		require.Len(t, eds[ch.ID], 1)
		require.Equal(t, ed.ID, eds[ch.ID][0].ID)
		require.Len(t, vs[ch.ID], 1)
		require.Equal(t, viewer.ID, vs[ch.ID][0].ID)

		// Renaming renames the main root and marks it changed.
		_, err = d.UpdateChannel(ctx, ed, ch.ID, db.ChannelInput{Name: ptr("Life sciences")})
		require.NoError(t, err)
		require.Equal(t, "Life sciences", dbtest.Node(t, d, ch.RootID).Title)

		// Deletion is soft: members still see the channel, only to view it.
		_, err = d.DeleteChannel(ctx, ed, ch.ID)
		require.NoError(t, err)
		got, err := d.ChannelsByID(ctx, ed, []models.ID{ch.ID})
		require.NoError(t, err)
		require.True(t, got[ch.ID].Deleted)
		require.Equal(t, db.ViewAccess, got[ch.ID].Access)
		_, err = d.UpdateChannel(ctx, ed, ch.ID, db.ChannelInput{Deleted: ptr(false)})
		requireCode(t, models.CodeForbidden, err)
		// An admin restores it.
		restored, err := d.UpdateChannel(ctx, admin, ch.ID, db.ChannelInput{Deleted: ptr(false)})
		require.NoError(t, err)
		require.False(t, restored.Deleted)

		// A viewer may leave.
		_, err = d.RemoveMember(ctx, viewer, ch.ID, viewer.ID)
		require.NoError(t, err)
		got, err = d.ChannelsByID(ctx, viewer, []models.ID{ch.ID})
		require.NoError(t, err)
		require.Equal(t, db.NoAccess, got[ch.ID].Access)
	})
}

func TestUsersAndTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "Ann@Example.org", false)
		_, err := d.CreateUser(ctx, db.NewUser{Email: "ann@example.ORG", Password: dbtest.Password})
		requireCode(t, models.CodeConflict, err)
		_, err = d.CreateUser(ctx, db.NewUser{Email: "not an email", Password: dbtest.Password})
		requireCode(t, models.CodeBadUserInput, err)
		_, err = d.CreateUser(ctx, db.NewUser{Email: "bo@example.org", Password: "short"})
		requireCode(t, models.CodeBadUserInput, err)

		got, err := d.Authenticate(ctx, "ann@example.org", dbtest.Password)
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
		_, err = d.Authenticate(ctx, "ann@example.org", "wrong password")
		requireCode(t, models.CodeUnauthenticated, err)
		_, err = d.Authenticate(ctx, "nobody@example.org", dbtest.Password)
		requireCode(t, models.CodeUnauthenticated, err)

		tok := dbtest.Token(t, d, u)
		got, err = d.UserByToken(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
		var stored []models.APIToken
		require.NoError(t, d.ForTest(t).NewSelect().Model(&stored).Scan(ctx))
		require.Len(t, stored, 1)
		require.NotContains(t, stored[0].TokenHash, tok[8:], "tokens are stored hashed")
		_, err = d.UserByToken(ctx, tok+"x")
		requireCode(t, models.CodeUnauthenticated, err)
		_, err = d.UserByToken(ctx, "garbage")
		requireCode(t, models.CodeUnauthenticated, err)
	})
}
