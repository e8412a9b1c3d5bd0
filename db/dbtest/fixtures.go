package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"studio/db"
	"studio/models"
)

func init() { db.BcryptCost = bcrypt.MinCost } // tests need no slow hashes

// Password is every fixture user's password.
const Password = "correct horse battery"

// User creates a user with Password; admin makes it an admin.
func User(t testing.TB, d *db.DB, email string, admin bool) *models.User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), db.NewUser{Email: email, Password: Password, IsAdmin: admin})
	require.NoError(t, err)
	return u
}

// Token creates an API token for u.
func Token(t testing.TB, d *db.DB, u *models.User) string {
	t.Helper()
	tok, err := d.CreateToken(context.Background(), u.ID, "test")
	require.NoError(t, err)
	return tok
}

// Channel creates a channel edited by u.
func Channel(t testing.TB, d *db.DB, u *models.User, name string) *models.Channel {
	t.Helper()
	lang := "en"
	ch, err := d.CreateChannel(context.Background(), u, models.ID{}, db.ChannelInput{Name: &name, Language: &lang})
	require.NoError(t, err)
	return ch
}

// Tree adds nodes under parent from a compact literal: one node a line,
// "<kind> <title>", indented two spaces a level. Every resource gets one file
// of its kind. It returns the new nodes by title.
//
//	topic Algebra
//	  video Intro
//	  exercise Practice
func Tree(t testing.TB, d *db.DB, parent *models.ContentNode, literal string) map[string]*models.ContentNode {
	t.Helper()
	nodes, files := BuildTree(parent, literal)
	ctx := context.Background()
	require.NoError(t, d.Load(ctx, db.Rows{Nodes: nodes, Files: files}))
	out := make(map[string]*models.ContentNode, len(nodes))
	for _, n := range nodes {
		out[n.Title] = n
	}
	return out
}

// Topics is a Tree literal of n topics T0… with leaves videos V<i>.<j>
// each, for tests that need a tree of some size.
func Topics(n, leaves int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "topic T%d\n", i)
		for j := range leaves {
			fmt.Fprintf(&b, "  video V%d.%d\n", i, j)
		}
	}
	return b.String()
}

// BuildTree makes, without writing them, the nodes and files of a Tree literal.
func BuildTree(parent *models.ContentNode, literal string) ([]*models.ContentNode, []*models.File) {
	var nodes []*models.ContentNode
	var files []*models.File
	stack := []*models.ContentNode{parent} // stack[i] is the latest node at depth i-1
	count := map[models.ID]int{}
	t := time.Now().UTC().Truncate(time.Microsecond)
	for _, line := range strings.Split(literal, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		depth := (len(line) - len(strings.TrimLeft(line, " "))) / 2
		kind, title, _ := strings.Cut(strings.TrimSpace(line), " ")
		if depth+1 > len(stack) {
			panic(fmt.Sprintf("dbtest: %q is indented deeper than its parent", line))
		}
		stack = stack[:depth+1]
		p := stack[depth]
		count[p.ID]++
		n := &models.ContentNode{
			ID: models.NewID(), ChannelID: p.ChannelID, RootID: p.RootID, ParentID: &p.ID,
			SortOrder: float64(count[p.ID]), NodeID: models.NewID(), ContentID: models.NewID(),
			Kind: kind, Title: title, Changed: true, CreatedAt: t, ModifiedAt: t,
		}
		n.Complete = true // by the rules: a titled topic; a resource with a license and a file
		if kind != models.KindTopic {
			n.LicenseName, n.CopyrightHolder = "CC BY", "Test"
			files = append(files, &models.File{
				ID: models.NewID(), NodeID: &n.ID, Checksum: fmt.Sprintf("%032x", len(files)+1), Size: 100,
				Extension: extensionOf(kind), PresetID: presetOf(kind), CreatedAt: t, ModifiedAt: t,
			})
		}
		nodes = append(nodes, n)
		stack = append(stack, n)
	}
	return nodes, files
}

func presetOf(kind string) string {
	switch kind {
	case models.KindVideo:
		return "high_res_video"
	case models.KindDocument:
		return "document"
	case models.KindHTML5:
		return "html5_zip"
	}
	return kind
}

func extensionOf(kind string) string {
	switch kind {
	case models.KindVideo:
		return "mp4"
	case models.KindAudio:
		return "mp3"
	case models.KindDocument:
		return "pdf"
	case models.KindExercise:
		return "perseus"
	}
	return "zip"
}

// Node loads a node by id.
func Node(t testing.TB, d *db.DB, id models.ID) *models.ContentNode {
	t.Helper()
	ns, err := d.NodesByID(context.Background(), []models.ID{id})
	require.NoError(t, err)
	require.Contains(t, ns, id)
	return ns[id]
}
