package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/bench"
	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
)

// BenchmarkPublish10k publishes bench.Generate's channel of about 10,000
// nodes (shaped like a large Kolibri channel, exercises with ten questions
// included) end to end: from the request to the job's COMPLETED, through
// River. BENCHMARKS.md has the figures.
func BenchmarkPublish10k(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "ed@example.org", false)
			shape, err := bench.Generate(ctx, d, u, "Bench", 10000)
			require.NoError(b, err)
			p := newPublisher(b, d, false)
			require.NoError(b, p.c.Start(ctx))
			defer func() { _ = p.c.Stop(ctx) }()
			b.ResetTimer()
			for range b.N {
				n, err := jobs.RequestPublish(ctx, d, p.c, u, shape.Channel.ID, "", false)
				require.NoError(b, err)
				evs := waitJob(b, d, n)
				require.Equal(b, models.JobCompleted, evs[len(evs)-1].State, evs[len(evs)-1].Error)
				b.ReportMetric(float64(len(evs)), "steps")
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/publish")
		})
	}
}

// waitJob waits for job n's final event and returns its events.
func waitJob(b *testing.B, d *db.DB, n int64) []*models.JobEvent {
	wake, stop := d.SubscribeJob(n)
	defer stop()
	for {
		evs, err := d.JobEvents(context.Background(), n, 0)
		require.NoError(b, err)
		if len(evs) > 0 && evs[len(evs)-1].State.Final() {
			return evs
		}
		select {
		case <-wake:
		case <-time.After(500 * time.Millisecond):
		}
	}
}
