package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// TestNodeColumnsMatchMigrations: the migrations make exactly the columns
// models.NodeFields declares (graph's TestNodeFieldsAreDeclared holds the
// table to the model and the schema).
func TestNodeColumnsMatchMigrations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		q := `SELECT name FROM pragma_table_info('content_nodes')`
		if d.Kind == db.Postgres {
			q = `SELECT column_name FROM information_schema.columns WHERE table_name = 'content_nodes' AND table_schema = current_schema()`
		}
		var cols []string
		require.NoError(t, d.ForTest(t).NewRaw(q).Scan(context.Background(), &cols))
		require.ElementsMatch(t, models.NodeColumns(0), cols)
	})
}

// TestLoadKeepsEveryField: nodes written in bulk (COPY on PostgreSQL, from
// bun's metadata; INSERT on SQLite) read back with every field as written.
func TestLoadKeepsEveryField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch := dbtest.Channel(t, d, u, "Fields")
		at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		var nodes []*models.ContentNode
		for i := range 25 { // past the COPY threshold
			n := &models.ContentNode{}
			for _, f := range models.NodeFields {
				switch p := f.Of(n).(type) {
				case *string:
					*p = fmt.Sprintf("%s %d", f.Column, i)
				case *map[string]any:
					*p = map[string]any{f.Column: float64(i)}
				case *bool:
					*p = true
				case *models.ID:
					*p = models.NewID()
				case **models.ID:
					id := models.NewID()
					*p = &id
				case **int:
					v := i
					*p = &v
				case *float64:
					*p = float64(i) + 0.5
				case *time.Time:
					*p = at.Add(time.Duration(i) * time.Second)
				default:
					t.Fatalf("%s: no test value for %T", f.Column, p)
				}
			}
			n.ChannelID, n.RootID, n.ParentID, n.Kind = ch.ID, ch.RootID, &ch.RootID, models.KindVideo
			n.CreatedByID, n.ModifiedByID = &u.ID, &u.ID
			n.SourceChannelID, n.OriginalChannelID = &ch.ID, &ch.ID
			n.SourceNodeID, n.OriginalSourceNodeID = nil, nil
			nodes = append(nodes, n)
		}
		require.NoError(t, d.Load(ctx, db.Rows{Nodes: nodes}))
		ids := make([]models.ID, len(nodes))
		for i, n := range nodes {
			ids[i] = n.ID
		}
		got, err := d.NodesByID(ctx, ids)
		require.NoError(t, err)
		for _, n := range nodes {
			g := got[n.ID]
			require.NotNil(t, g)
			g.CreatedAt, g.ModifiedAt = g.CreatedAt.UTC(), g.ModifiedAt.UTC() // PostgreSQL reads them in local time
			require.Equal(t, n, g)
		}
	})
}
