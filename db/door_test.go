package db

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/models"
)

// TestDoorFindsStrayWrites: a statement that writes outside the door is
// recorded, one through the door is not, and reads never are. dbtest fails
// every test whose database recorded one, so every test of an exported
// method is also a test that it writes through the door.
func TestDoorFindsStrayWrites(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, SQLiteURL(t.TempDir()))
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.Migrate(ctx))
	require.Empty(t, d.StrayWrites(), "migrations are not strays")

	u, err := d.CreateUser(ctx, NewUser{Email: "a@example.org", Password: "long enough"})
	require.NoError(t, err)
	_, err = d.UserByEmail(ctx, u.Email)
	require.NoError(t, err)
	require.Empty(t, d.StrayWrites(), "a write through the door and a read are not strays")

	_, err = d.sql.NewUpdate().Model((*models.User)(nil)).Set("first_name = ?", "Around").Where("id = ?", u.ID).Exec(ctx)
	require.NoError(t, err)
	require.Len(t, d.StrayWrites(), 1)
	require.Contains(t, d.StrayWrites()[0], "UPDATE")

	_, err = d.ForTest(t).NewUpdate().Model((*models.User)(nil)).Set("first_name = ?", "Test").Where("id = ?", u.ID).Exec(ctx)
	require.NoError(t, err)
	require.Len(t, d.StrayWrites(), 1, "a test's own handle is not checked")
}

func TestWrites(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT 1":                 false,
		"  select * from channels": false,
		"PRAGMA wal_checkpoint":    false,
		"WITH RECURSIVE a AS (SELECT 1) SELECT * FROM a":            false,
		"WITH a AS (SELECT 1) UPDATE content_nodes SET title = 'x'": true,
		"INSERT INTO users VALUES (1)":                              true,
		"update users set x = 1":                                    true,
		"DELETE FROM files":                                         true,
		"CREATE TEMP TABLE t (x int)":                               true,
		"VACUUM ANALYZE":                                            false,
	} {
		require.Equal(t, want, writes(q), q)
	}
}

// TestOnlyTestsUseForTest: ForTest, the handle that bypasses the door, is
// called from test files only, and no package but db imports Bun to run
// statements (models uses it for struct tags).
func TestOnlyTestsUseForTest(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "node_modules" || strings.HasPrefix(e.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			if imp.Path.Value == `"github.com/uptrace/bun"` && dir != "." && dir != "../models" && !strings.HasPrefix(dir, "../db") {
				t.Errorf("%s imports bun: statements belong in db", path)
			}
		}
		full, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(full, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "ForTest" && dir != "." && dir != "../db/dbtest" {
				t.Errorf("%s: %s calls ForTest outside a test", path, fset.Position(sel.Pos()))
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
}
