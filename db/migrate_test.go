package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
)

func TestMigrate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		pending, err := d.Pending(ctx)
		require.NoError(t, err)
		require.Empty(t, pending)
		// A second run is a no-op.
		require.NoError(t, d.Migrate(ctx))
		var n int
		require.NoError(t, d.ForTest(t).NewSelect().TableExpr("river_job").ColumnExpr("count(*)").Scan(ctx, &n))
		require.Zero(t, n)
	})
}
