package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
)

// TestFindingErrorDetails (publish): a job that fails on an internal error
// shows clients a generic text, never the driver's ("sql: Scan error on
// column index 18…"); the details go to the log.
func TestFindingErrorDetails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := dbtest.User(t, d, "ed@example.org", false)
		ch, n := publishable(t, d, u, "Maths")
		// A row as an older version could store it: it no longer loads.
		q := `UPDATE content_nodes SET extra_fields = '{"x":1e400}' WHERE id = ?`
		if d.Kind == db.Postgres {
			q = `UPDATE content_nodes SET extra_fields = '{"x":1e400}'::jsonb WHERE id = ?`
		}
		_, err := d.ForTest(t).NewRaw(q, n["Intro"].ID).Exec(ctx)
		require.NoError(t, err)
		p := newPublisher(t, d, true)
		id, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "", false)
		require.NoError(t, err)

		wake, stop := d.SubscribeJob(id)
		defer stop()
		var failed *models.JobEvent
		for deadline := time.After(60 * time.Second); failed == nil; {
			evs, err := d.JobEvents(ctx, id, 0)
			require.NoError(t, err)
			for _, ev := range evs {
				if ev.Error != "" {
					failed = ev
				}
			}
			if failed == nil {
				select {
				case <-wake:
				case <-time.After(time.Second): // River's own updates do not wake subscribers
				case <-deadline:
					t.Fatal("the publish did not fail")
				}
			}
		}
		require.Equal(t, "internal error; it has been logged", failed.Error)
		js, err := jobs.Get(ctx, d, p.c, []int64{id})
		require.NoError(t, err)
		require.NotNil(t, js[id].Error)
		require.NotContains(t, *js[id].Error, "sql")
		require.NotContains(t, *js[id].Error, "Scan")
	})
}
