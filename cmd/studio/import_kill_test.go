package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/kolibri/kolibritest"
)

// TestImportWorkerKilled kills the server with SIGKILL while it imports a
// channel; once the job is taken for dead (--import-timeout) a restarted
// server retries it, and completes it without fetching again any file it
// had stored, nor the content database.
func TestImportWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	bin := buildStudio(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			src, err := kolibritest.Write(context.Background(), t.TempDir(), kolibritest.Options{Topics: 4, Leaves: 50, FileSize: 2000})
			require.NoError(t, err)
			var mu sync.Mutex
			requests := map[string]int{}
			files := http.StripPrefix("/content/", http.FileServer(http.Dir(src.Dir)))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests[r.URL.Path]++
				mu.Unlock()
				if strings.HasPrefix(r.URL.Path, "/content/storage/") {
					time.Sleep(20 * time.Millisecond) // a slow server: the kill comes mid-way
				}
				files.ServeHTTP(w, r)
			}))
			defer srv.Close()
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(requests)
			}

			dir := t.TempDir()
			args := []string{"--data-dir", dir, "--blobs-url", dir, "--import-timeout", "5s"}
			if kind == db.Postgres {
				args = append(args, "--database-url", dbtest.URL(t, kind))
			}
			first := startStudio(t, bin, args...)
			api := newClient(t, first.base, first.token)
			var res struct{ ImportChannel struct{ ID string } }
			api.do(`mutation($s: String!, $c: String!) { importChannel(source: $s, channel: $c) { id } }`,
				map[string]any{"s": srv.URL, "c": src.ID.String()}, &res)
			job := res.ImportChannel.ID
			deadline := time.Now().Add(time.Minute)
			for count() < 60 {
				require.True(t, time.Now().Before(deadline), "the import made %d requests in a minute", count())
				time.Sleep(5 * time.Millisecond)
			}
			require.NoError(t, first.cmd.Process.Kill())
			_ = first.cmd.Wait()
			mu.Lock()
			before := map[string]int{}
			for k, v := range requests {
				before[k] = v
			}
			mu.Unlock()
			stored := map[string]bool{}
			for _, name := range src.Files {
				if _, err := os.Stat(filepath.Join(dir, "storage", name[:1], name[1:2], name)); err == nil {
					stored[name] = true
				}
			}
			t.Logf("killed the server after %d requests, with %d of %d files stored", len(before), len(stored), len(src.Files))
			require.NotEmpty(t, stored, "files were stored before the kill")
			require.Less(t, len(stored), len(src.Files), "killed too late to prove anything")

			second := startStudio(t, bin, args...)
			api = newClient(t, second.base, first.token)
			var st jobState
			deadline = time.Now().Add(2 * time.Minute)
			for st.Job.State != "COMPLETED" {
				require.True(t, time.Now().Before(deadline), "the import was not retried: %+v", st.Job)
				require.NotEqual(t, "FAILED", st.Job.State, jobError(st.Job.Error))
				time.Sleep(250 * time.Millisecond)
				api.do(`query($j: ID!) { job(id: $j) { state progress attempt error } }`, map[string]any{"j": job}, &st)
			}
			require.GreaterOrEqual(t, st.Job.Attempt, 2, "a retry completed it")
			mu.Lock()
			defer mu.Unlock()
			for _, name := range src.Files {
				path := "/content/storage/" + name[:1] + "/" + name[1:2] + "/" + name
				if stored[name] {
					require.Equal(t, before[path], requests[path], "%s was stored before the kill, and fetched again", name)
				} else {
					require.LessOrEqual(t, requests[path]-before[path], 1, "%s was fetched twice after the restart", name)
				}
			}
			require.Equal(t, 1, requests["/content/databases/"+src.ID.String()+".sqlite3"], "the content database is fetched once")
			var ch struct {
				Channel struct{ Root struct{ ChildCount int } }
			}
			api.do(`query($c: ID!) { channel(id: $c) { root { childCount } } }`, map[string]any{"c": src.ID.String()}, &ch)
			require.Equal(t, 4, ch.Channel.Root.ChildCount)
		})
	}
}
