package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"studio/db"
	"studio/db/dbtest"
	"studio/jobs"
	"studio/models"
)

// BenchmarkPublish10k publishes a channel of about 10,000 nodes shaped like
// a large Kolibri channel (topics of 10 topics of 98 resources; every tenth
// resource an exercise with ten questions), end to end: from the request
// to the job's COMPLETED, through River. BENCHMARKS.md has the figures.
func BenchmarkPublish10k(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "ed@example.org", false)
			ch := dbtest.Channel(b, d, u, "Bench")
			nodes, files, items := realisticTree(dbtest.Node(b, d, ch.RootID), 10000)
			require.NoError(b, d.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if err := db.InsertNodes(ctx, tx, nodes); err != nil {
					return err
				}
				if _, err := tx.NewInsert().Model(&files).Exec(ctx); err != nil {
					return err
				}
				_, err := tx.NewInsert().Model(&items).Exec(ctx)
				return err
			}))
			p := newPublisher(b, d, false)
			require.NoError(b, p.c.Start(ctx))
			defer func() { _ = p.c.Stop(ctx) }()
			b.ResetTimer()
			for range b.N {
				n, err := jobs.RequestPublish(ctx, d, p.c, u, ch.ID, "", false)
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

// realisticTree makes about n nodes under parent, with their files and questions.
func realisticTree(parent *models.ContentNode, n int) ([]*models.ContentNode, []*models.File, []*models.AssessmentItem) {
	var lit strings.Builder
	count := 0
	for i := 0; count < n; i++ {
		fmt.Fprintf(&lit, "topic T%d\n", i)
		count++
		for j := 0; j < 10 && count < n; j++ {
			fmt.Fprintf(&lit, "  topic T%d.%d\n", i, j)
			count++
			for k := 0; k < 98 && count < n; k++ {
				kind := "video"
				if k%10 == 9 {
					kind = "exercise"
				}
				fmt.Fprintf(&lit, "    %s R%d.%d.%d\n", kind, i, j, k)
				count++
			}
		}
	}
	nodes, files := dbtest.BuildTree(parent, lit.String())
	var items []*models.AssessmentItem
	now := time.Now().UTC()
	for _, nd := range nodes {
		if nd.Kind != models.KindExercise {
			continue
		}
		nd.ExtraFields = map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
			"model": "mastery", "threshold": map[string]any{"mastery_model": "m_of_n", "m": 3.0, "n": 5.0}}}}
		for q := range 10 {
			items = append(items, &models.AssessmentItem{ID: models.NewID(), NodeID: nd.ID, AssessmentID: models.NewID(),
				Type: "single_selection", Question: fmt.Sprintf("What is %d + %d?", q, q), Order: q, Randomize: true,
				Answers: []any{map[string]any{"answer": fmt.Sprint(2 * q), "correct": true, "order": 1},
					map[string]any{"answer": fmt.Sprint(2*q + 1), "correct": false, "order": 2}},
				Hints: []any{}, CreatedAt: now, ModifiedAt: now})
		}
	}
	return nodes, files, items
}
