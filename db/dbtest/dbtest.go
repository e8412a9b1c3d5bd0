// Package dbtest opens migrated databases for tests: always SQLite, and
// PostgreSQL too when STUDIO_TEST_DATABASE_URL names one.
package dbtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/models"
)

// EnvURL names the PostgreSQL database tests may use; each test gets a schema of its own in it.
const EnvURL = "STUDIO_TEST_DATABASE_URL"

// Each runs fn as a subtest on each available database, named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			fn(t, Open(t, kind))
		})
	}
}

// Kinds lists the databases the tests run on here.
func Kinds() []db.Kind {
	if os.Getenv(EnvURL) != "" {
		return []db.Kind{db.SQLite, db.Postgres}
	}
	return []db.Kind{db.SQLite}
}

// URL returns a database url for a fresh, unmigrated database of kind,
// removed when the test ends.
func URL(t testing.TB, kind db.Kind) string {
	t.Helper()
	if kind == db.SQLite {
		return db.SQLiteURL(t.TempDir())
	}
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set")
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	require.NoError(t, err)
	defer func() { _ = admin.Close() }()
	schema := "t_" + models.NewID().String()[:16]
	_, err = admin.ForTest(t).ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	// pg_trgm lives in public, so that every test schema finds its operators.
	_, err = admin.ForTest(t).ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		admin, err := db.Open(ctx, base)
		if err != nil {
			return
		}
		defer func() { _ = admin.Close() }()
		_, _ = admin.ForTest(t).ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema+",public")
	q.Set("pool_max_conns", "8")
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated database of kind, closed when the test ends.
func Open(t testing.TB, kind db.Kind) *db.DB {
	t.Helper()
	return OpenURL(t, URL(t, kind))
}

// OpenURL opens and migrates the database at url (from URL), closed when
// the test ends; for tests that also hand url to a server process. The test
// fails if any statement wrote outside the door (db.DB.StrayWrites).
func OpenURL(t testing.TB, url string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.Empty(t, d.StrayWrites(), "dbtest: statements wrote outside db's door")
		_ = d.Close()
	})
	require.NoError(t, d.Migrate(context.Background()))
	return d
}
