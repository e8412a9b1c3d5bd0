package main

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
)

// jobState is what the kill test reads of a job.
type jobState struct {
	Job struct {
		State    string
		Progress int
		Attempt  int
		Error    *string
	}
}

// TestPublishWorkerKilled kills the server with SIGKILL while it publishes:
// no database of the new version may be visible, the channel stays at its
// version, and once the job is taken for dead (--publish-timeout) a
// restarted server retries it to success.
func TestPublishWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	bin := buildStudio(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			dir := t.TempDir()
			url := db.SQLiteURL(dir)
			if kind == db.Postgres {
				url = dbtest.URL(t, kind)
			}
			d := dbtest.OpenURL(t, url)
			u := dbtest.User(t, d, "ed@example.org", false)
			token := dbtest.Token(t, d, u)
			ch := dbtest.Channel(t, d, u, "Big")
			dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), dbtest.Topics(50, 199))
			args := []string{"--data-dir", dir, "--blobs-url", dir, "--publish-timeout", "10s"}
			if kind == db.Postgres {
				args = append(args, "--database-url", url)
			}

			first := startStudio(t, bin, args...)
			api := newClient(t, first.base, token)
			var pub struct{ PublishChannel struct{ ID string } }
			api.do(`mutation($c: ID!) { publishChannel(channelId: $c) { id } }`, map[string]any{"c": ch.ID.String()}, &pub)
			job := pub.PublishChannel.ID
			var st jobState
			for st.Job.Progress < 10 {
				api.do(`query($j: ID!) { job(id: $j) { state progress attempt error } }`, map[string]any{"j": job}, &st)
				require.Contains(t, []string{"QUEUED", "RUNNING"}, st.Job.State, "the publish ended before it could be killed: make the channel bigger")
				time.Sleep(5 * time.Millisecond)
			}
			require.Less(t, st.Job.Progress, 85, "killed too late to prove anything")
			require.NoError(t, first.cmd.Process.Kill())
			_ = first.cmd.Wait()
			t.Logf("killed the server at %d%%", st.Job.Progress)

			// Nothing of version 1 is visible, in the store or over HTTP.
			_, err := os.Stat(filepath.Join(dir, "databases", ch.ID.String()+"-1.sqlite3"))
			require.True(t, os.IsNotExist(err), "a database of the new version was written")
			_, err = os.Stat(filepath.Join(dir, "databases", ch.ID.String()+".sqlite3"))
			require.True(t, os.IsNotExist(err))
			second := startStudio(t, bin, args...)
			api = newClient(t, second.base, token)
			for _, name := range []string{".sqlite3", "-1.sqlite3"} {
				resp, err := http.Head(second.base + "/content/databases/" + ch.ID.String() + name)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusNotFound, resp.StatusCode, name)
			}
			var chNow struct{ Channel struct{ Version int } }
			api.do(`query($c: ID!) { channel(id: $c) { version } }`, map[string]any{"c": ch.ID.String()}, &chNow)
			require.Zero(t, chNow.Channel.Version)

			// River's rescuer (every 30 s) takes the job for dead and retries it.
			deadline := time.Now().Add(2 * time.Minute)
			for st.Job.State != "COMPLETED" {
				require.True(t, time.Now().Before(deadline), "the job was not retried: %+v", st.Job)
				require.NotEqual(t, "FAILED", st.Job.State, jobError(st.Job.Error))
				time.Sleep(250 * time.Millisecond)
				api.do(`query($j: ID!) { job(id: $j) { state progress attempt error } }`, map[string]any{"j": job}, &st)
			}
			require.GreaterOrEqual(t, st.Job.Attempt, 2, "a retry completed it")
			api.do(`query($c: ID!) { channel(id: $c) { version } }`, map[string]any{"c": ch.ID.String()}, &chNow)
			require.Equal(t, 1, chNow.Channel.Version)
			resp, err := http.Get(second.base + "/content/databases/" + ch.ID.String() + ".sqlite3")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			out, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "databases", ch.ID.String()+"-1.sqlite3")+"?mode=ro")
			require.NoError(t, err)
			defer out.Close()
			var check string
			require.NoError(t, out.QueryRow("PRAGMA integrity_check").Scan(&check))
			require.Equal(t, "ok", check)
		})
	}
}
