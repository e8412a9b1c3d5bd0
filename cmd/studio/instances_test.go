package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
	"studio/studiotest"
)

// studioProc is a studio process under test.
type studioProc struct {
	cmd   *exec.Cmd
	base  string // http://host:port
	token string // the first admin's, when the database was new
}

// startStudio runs the studio binary's serve with args until the test ends.
func startStudio(t *testing.T, bin string, args ...string) *studioProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "STUDIO_DATA_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	p := &studioProc{cmd: cmd}
	addr := regexp.MustCompile(`at (http://\S+)/graphql`)
	lines := bufio.NewScanner(out)
	for p.base == "" && lines.Scan() {
		if m := regexp.MustCompile(`studio_\S+`).FindString(lines.Text()); m != "" {
			p.token = m
		}
		if m := addr.FindStringSubmatch(lines.Text()); m != nil {
			p.base = m[1]
		}
	}
	require.NotEmpty(t, p.base, "studio did not start")
	go func() {
		for lines.Scan() {
		}
	}()
	return p
}

// buildStudio builds this command once per test run.
func buildStudio(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "studio")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// feed is a graphql-transport-ws subscription to a channel's changes.
type feed struct {
	ws *studiotest.WS
}

func subscribeFeed(t *testing.T, base, token string, channel models.ID, since int64) *feed {
	t.Helper()
	return &feed{ws: subscribe(t, base, token, `subscription($c: ID!, $since: Int) { channelChanges(channelId: $c, since: $since) { serverRev } }`,
		map[string]any{"c": channel, "since": since})}
}

// subscribe opens a graphql-transport-ws connection and starts one
// subscription on it, with id "1".
func subscribe(t *testing.T, base, token, query string, vars map[string]any) *studiotest.WS {
	t.Helper()
	ws, err := studiotest.Dial(t, base, token)
	require.NoError(t, err)
	ws.Subscribe("1", query, vars)
	return ws
}

// next returns the next change's rev, or 0 when none comes within d.
func (f *feed) next(t *testing.T, d time.Duration) int64 {
	t.Helper()
	m, err := f.ws.Next(d)
	if err != nil {
		return 0
	}
	require.Equal(t, "next", m.Type, "unexpected %s", m.Type)
	var p struct {
		Data struct {
			ChannelChanges struct{ ServerRev int64 } `json:"channelChanges"`
		} `json:"data"`
		Errors []any `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(m.Payload, &p))
	require.Empty(t, p.Errors)
	return p.Data.ChannelChanges.ServerRev
}

func (f *feed) close() { f.ws.Close() }

// sharedChannel is a fresh PostgreSQL database for two studio processes,
// an editor's token and a channel of theirs; the test is skipped without
// PostgreSQL.
func sharedChannel(t *testing.T) (url string, d *db.DB, token string, ch *models.Channel) {
	t.Helper()
	if os.Getenv(dbtest.EnvURL) == "" {
		t.Skip(dbtest.EnvURL + " is not set: this test needs PostgreSQL")
	}
	url = dbtest.URL(t, db.Postgres)
	d = dbtest.OpenURL(t, url)
	u := dbtest.User(t, d, "ed@example.org", false)
	return url, d, dbtest.Token(t, d, u), dbtest.Channel(t, d, u, "Shared")
}

// TestTwoInstancesOneFeed runs two studio processes on one PostgreSQL. A
// client subscribed on the first receives, in order and exactly once, 1,000
// changes written through the second; a client that drops after 400 and
// resubscribes from there receives the other 600, exactly once.
func TestTwoInstancesOneFeed(t *testing.T) {
	ctx := context.Background()
	url, d, token, ch := sharedChannel(t)
	var lit strings.Builder
	for i := range 100 {
		fmt.Fprintf(&lit, "video V%d\n", i)
	}
	nodes := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), lit.String())
	start, err := d.MaxRev(ctx, ch.ID)
	require.NoError(t, err)

	bin := buildStudio(t)
	first := startStudio(t, bin, "--database-url", url).base
	second := startStudio(t, bin, "--database-url", url).base

	whole := subscribeFeed(t, first, token, ch.ID, start)
	defer whole.close()
	dropping := subscribeFeed(t, first, token, ch.ID, start)

	// 1,000 changes through the second instance, in batches of 100.
	api := studiotest.New(t, second)
	var written []int64
	for batch := range 10 {
		changes := make([]map[string]any, 100)
		for i := range changes {
			n := nodes[fmt.Sprintf("V%d", i)]
			changes[i] = map[string]any{"type": "UPDATED", "table": "contentnode", "key": n.ID.String(),
				"mods": map[string]any{"title": fmt.Sprintf("V%d edit %d", i, batch)}}
		}
		var r struct {
			ApplyChanges struct {
				Allowed []struct{ ServerRev int64 }
				Errors  []any
			}
		}
		require.NoError(t, api.Do(token, `mutation($c: [ChangeInput!]!) { applyChanges(changes: $c) { allowed { serverRev } errors { message } } }`,
			map[string]any{"c": changes}).Decode(&r))
		require.Empty(t, r.ApplyChanges.Errors)
		for _, a := range r.ApplyChanges.Allowed {
			written = append(written, a.ServerRev)
		}
	}
	require.Len(t, written, 1000)

	var got []int64
	for range 1000 {
		rev := whole.next(t, 20*time.Second)
		require.NotZero(t, rev, "a change did not arrive (after %d)", len(got))
		got = append(got, rev)
	}
	require.Equal(t, written, got, "every change, in order, once")
	require.Zero(t, whole.next(t, 300*time.Millisecond), "nothing more")

	var firstPart []int64
	for range 400 {
		firstPart = append(firstPart, dropping.next(t, 20*time.Second))
	}
	dropping.close()
	require.Equal(t, written[:400], firstPart)
	resumed := subscribeFeed(t, first, token, ch.ID, firstPart[399])
	defer resumed.close()
	var rest []int64
	for range 600 {
		rest = append(rest, resumed.next(t, 20*time.Second))
	}
	require.Equal(t, written[400:], rest)
	require.Zero(t, resumed.next(t, 300*time.Millisecond), "nothing more")
}

// TestTwoInstancesOnePublish: a publish requested on one instance and
// watched on the other runs once, and the watcher sees every step of it,
// in order, whichever instance runs it.
func TestTwoInstancesOnePublish(t *testing.T) {
	ctx := context.Background()
	url, d, token, ch := sharedChannel(t)
	dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), dbtest.Topics(20, 99))

	bin := buildStudio(t)
	blobDir := t.TempDir()
	first := startStudio(t, bin, "--database-url", url, "--blobs-url", blobDir)
	second := startStudio(t, bin, "--database-url", url, "--blobs-url", blobDir)
	api := newClient(t, first.base, token)
	var pub struct{ PublishChannel struct{ ID string } }
	api.do(`mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, map[string]any{"c": ch.ID.String()}, &pub)
	jobID := pub.PublishChannel.ID

	ws := subscribe(t, second.base, token, `subscription($j: ID!) { jobUpdated(id: $j) { state progress attempt } }`, map[string]any{"j": jobID})
	defer ws.Close()
	type step struct {
		State    string
		Progress int
		Attempt  int
	}
	var seen []step
	deadline := time.Now().Add(2 * time.Minute)
	for done := false; !done; {
		m, err := ws.Next(time.Until(deadline))
		require.NoError(t, err)
		switch m.Type {
		case "next":
			var p struct {
				Data   struct{ JobUpdated step } `json:"data"`
				Errors []any                     `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(m.Payload, &p))
			require.Empty(t, p.Errors)
			seen = append(seen, p.Data.JobUpdated)
		case "complete":
			done = true
		}
	}
	require.Equal(t, "COMPLETED", seen[len(seen)-1].State)
	require.Equal(t, 1, seen[len(seen)-1].Attempt, "the publish ran once")

	// What the watcher saw after its first snapshot is exactly the tail of
	// the job's recorded steps.
	n, ok := models.RiverJobID(models.MustParseID(jobID))
	require.True(t, ok)
	evs, err := d.JobEvents(ctx, n, 0)
	require.NoError(t, err)
	var recorded []step
	starts := 0
	for _, ev := range evs {
		recorded = append(recorded, step{State: string(ev.State), Progress: ev.Progress, Attempt: 1})
		if ev.State == models.JobRunning && ev.Progress == 0 {
			starts++
		}
	}
	require.Equal(t, 1, starts, "one worker started it")
	tail := recorded[len(recorded)-(len(seen)-1):]
	require.Equal(t, tail, seen[1:], "every step, in order, once")
	require.GreaterOrEqual(t, len(seen), 10, "the watcher saw the publish run: %v", seen)
	count, err := d.ForTest(t).NewSelect().TableExpr("river_job").Where("kind = ?", jobs.KindPublish).Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, count, "one job")
}
