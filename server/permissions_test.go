package server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
	"studio/server"
)

// TestPermissions asks every read and write of this API as each kind of
// caller of each kind of channel, and checks that each sees exactly what
// studio-backend.md §3 allows.
func TestPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newAPI(t, d, server.Config{})
		users := map[string]*models.User{
			"non-member": dbtest.User(t, d, "other@example.org", false),
			"viewer":     dbtest.User(t, d, "viewer@example.org", false),
			"editor":     dbtest.User(t, d, "editor@example.org", false),
			"admin":      dbtest.User(t, d, "admin@example.org", true),
		}
		tokens := map[string]string{"anonymous": ""}
		for name, u := range users {
			tokens[name] = dbtest.Token(t, d, u)
		}
		type fixture struct {
			ch          *models.Channel
			node, trash *models.ContentNode
		}
		fixtures := map[string]fixture{}
		for _, name := range []string{"private", "public", "deleted"} {
			ch := dbtest.Channel(t, d, users["editor"], name)
			_, err := d.SetMember(ctx, users["editor"], ch.ID, "viewer@example.org", models.RoleViewer)
			require.NoError(t, err)
			node := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), "video Lesson")["Lesson"]
			trash := dbtest.Tree(t, d, dbtest.Node(t, d, ch.TrashRootID), "video Binned")["Binned"]
			if name != "private" {
				_, err = d.UpdateChannel(ctx, users["admin"], ch.ID, db.ChannelInput{Public: ptr(true)})
				require.NoError(t, err)
			}
			if name == "deleted" {
				_, err = d.DeleteChannel(ctx, users["editor"], ch.ID)
				require.NoError(t, err)
			}
			fixtures[name] = fixture{ch, node, trash}
		}

		// access[caller][channel]: n none, p public, v view, e edit.
		access := map[string]map[string]byte{
			"anonymous":  {"private": 'n', "public": 'p', "deleted": 'n'},
			"non-member": {"private": 'n', "public": 'p', "deleted": 'n'},
			"viewer":     {"private": 'v', "public": 'v', "deleted": 'v'},
			"editor":     {"private": 'e', "public": 'e', "deleted": 'v'},
			"admin":      {"private": 'e', "public": 'e', "deleted": 'e'},
		}
		const read = `query($c: ID!, $n: ID!, $t: ID!) {
			channel(id: $c) { id canEdit root { id } trashRoot { id } editors { email } viewers { email } }
			node: contentNode(id: $n) { id title createdBy { email } channel { id } }
			trash: contentNode(id: $t) { id title }
			both: contentNodes(ids: [$n, $t]) { id }
		}`
		for caller, row := range access {
			for name, acc := range row {
				f := fixtures[name]
				t.Run(caller+" on "+name, func(t *testing.T) {
					r := a.Do(tokens[caller], read, map[string]any{"c": f.ch.ID, "n": f.node.ID, "t": f.trash.ID})
					require.Empty(t, r.Errors)
					canView, member := acc != 'n', acc == 'v' || acc == 'e'
					if !canView {
						require.Nil(t, r.Data["channel"])
						require.Nil(t, r.Data["node"], "a hidden node is null, never its fields")
						require.Nil(t, r.Data["trash"])
						require.Equal(t, []any{nil, nil}, r.Data["both"])
					} else {
						require.Equal(t, f.ch.ID.String(), get(r.Data, "channel", "id"))
						require.Equal(t, acc == 'e', get(r.Data, "channel", "canEdit"))
						require.Equal(t, f.ch.RootID.String(), get(r.Data, "channel", "root", "id"))
						require.Equal(t, "Lesson", get(r.Data, "node", "title"))
						require.Equal(t, f.ch.ID.String(), get(r.Data, "node", "channel", "id"))
						require.Equal(t, f.node.ID.String(), get(r.Data, "both", 0, "id"))
						if member {
							require.Equal(t, f.ch.TrashRootID.String(), get(r.Data, "channel", "trashRoot", "id"))
							require.Equal(t, "Binned", get(r.Data, "trash", "title"))
							require.Equal(t, f.trash.ID.String(), get(r.Data, "both", 1, "id"))
							require.Equal(t, "editor@example.org", get(r.Data, "channel", "editors", 0, "email"))
							require.Equal(t, "viewer@example.org", get(r.Data, "channel", "viewers", 0, "email"))
						} else {
							// The public see the main tree, not the trash nor the people.
							require.Nil(t, get(r.Data, "channel", "trashRoot"))
							require.Nil(t, r.Data["trash"])
							require.Nil(t, get(r.Data, "both", 1))
							require.Empty(t, get(r.Data, "channel", "editors"))
							require.Empty(t, get(r.Data, "channel", "viewers"))
							require.Nil(t, get(r.Data, "node", "createdBy"))
						}
					}

					// The listing shows the same channels as lookups do.
					listed := false
					for _, deleted := range []bool{false, true} {
						l := a.OK(tokens[caller], `query($d: Boolean) { channels(filter: {deleted: $d}, first: 100) { edges { node { id } } } }`, map[string]any{"d": deleted})
						for _, e := range get(l, "channels", "edges").([]any) {
							listed = listed || get(e, "node", "id") == f.ch.ID.String()
						}
					}
					require.Equal(t, canView, listed)

					// Only members list a channel's nodes.
					nr := a.Do(tokens[caller], `query($c: ID!) { channel(id: $c) { nodes { totalCount } } }`, map[string]any{"c": f.ch.ID})
					if member {
						require.Empty(t, nr.Errors)
						require.EqualValues(t, 4, get(nr.Data, "channel", "nodes", "totalCount"))
					} else if canView {
						require.Equal(t, "FORBIDDEN", nr.Code())
					}

					// Only editors (and admins) write.
					w := a.Do(tokens[caller], `mutation($c: ID!) { updateChannel(id: $c, input: {tagline: "edited"}) { id } }`, map[string]any{"c": f.ch.ID})
					switch {
					case caller == "anonymous":
						require.Equal(t, "UNAUTHENTICATED", w.Code())
					case acc == 'e':
						require.Empty(t, w.Errors)
					case acc == 'n':
						require.Equal(t, "NOT_FOUND", w.Code())
					default:
						require.Equal(t, "FORBIDDEN", w.Code())
					}
				})
			}
		}
	})
}
