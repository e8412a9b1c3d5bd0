package jobs_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/kolibri/kolibritest"
	"studio/models"
)

// BenchmarkImport10k imports a published channel of 10,100 nodes under
// its root (100 topics of 100 documents, each document with a 4 KiB file of its own) end
// to end, through River: from a content folder and from a server on
// loopback, into an empty blob store each time, so every file is fetched.
// BENCHMARKS.md has the figures.
func BenchmarkImport10k(b *testing.B) {
	ctx := context.Background()
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler)) // the job's log lines would split the results'
	src, err := kolibritest.Write(ctx, b.TempDir(), kolibritest.Options{Topics: 100, Leaves: 100, FileSize: 4096})
	require.NoError(b, err)
	srv := httptest.NewServer(http.StripPrefix("/content/", http.FileServer(http.Dir(src.Dir))))
	defer srv.Close()
	for _, kind := range dbtest.Kinds() {
		for _, from := range []struct{ name, source string }{{"folder", src.Dir}, {"server", srv.URL}} {
			b.Run(string(kind)+"/"+from.name, func(b *testing.B) {
				for range b.N {
					b.StopTimer()
					d := dbtest.Open(b, kind) // the import keeps the channel's id: a database each
					u := dbtest.User(b, d, "ed@example.org", true)
					store, err := blobs.Open(ctx, b.TempDir())
					require.NoError(b, err)
					workers, _ := jobs.Standard(d, store, jobs.Timeouts{})
					c, err := jobs.New(d, jobs.Config{Workers: workers, MaxWorkers: 2})
					require.NoError(b, err)
					require.NoError(b, c.Start(ctx))
					b.StartTimer()
					n, err := jobs.RequestImport(ctx, d, c, u, jobs.ImportRequest{Source: from.source, Channel: src.ID.String(), Trusted: true})
					require.NoError(b, err)
					evs := waitJob(b, d, n)
					b.StopTimer()
					require.Equal(b, models.JobCompleted, evs[len(evs)-1].State, evs[len(evs)-1].Error)
					require.NoError(b, c.Stop(ctx))
					store.Close()
					b.StartTimer()
				}
				per := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(per*1000, "ms/import")
				b.ReportMetric(float64(len(src.Files))/per, "files/s")
				b.ReportMetric(float64(src.Nodes)/per, "nodes/s")
			})
		}
	}
}
