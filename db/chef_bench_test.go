package db_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// BenchmarkChefUpload10k uploads a 10,110-node tree as ricecooker does (10
// units of 10 lessons of 99 documents, each with its file): add_nodes calls
// of at most 10 nodes, depth first, then finish.
// BenchmarkCreate10k makes the same tree through createContentNodes'
// changes, 1,000 a call (its documents without files: uploads are separate). BENCHMARKS.md has the command and the figures.
func BenchmarkChefUpload10k(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "chef@example.org", false)
			c := newChef(nil, d, u)
			doc := c.document("Doc") // one blob, named by every document
			calls := 0
			b.ResetTimer()
			for range b.N {
				_, root, err := d.BeginChefTree(ctx, u, c.ch)
				require.NoError(b, err)
				add := func(parent models.ID, ns []db.ChefNode) map[models.ID]models.ID {
					var all map[models.ID]models.ID
					for start := 0; start < len(ns); start += 10 {
						ids, err := d.AddChefNodes(ctx, u, parent, ns[start:min(start+10, len(ns))], c.has)
						require.NoError(b, err)
						calls++
						all = ids
					}
					return all
				}
				units := make([]db.ChefNode, 10)
				for i := range units {
					units[i] = topic("Unit")
				}
				ids := add(root, units)
				for _, unit := range units {
					var lessons []db.ChefNode
					for range 10 {
						lessons = append(lessons, topic("Lesson"))
					}
					lids := add(ids[unit.NodeID], lessons)
					for _, l := range lessons {
						docs := make([]db.ChefNode, 99)
						for i := range docs {
							docs[i] = doc
							docs[i].NodeID, docs[i].ContentID = models.NewID(), models.NewID()
						}
						add(lids[l.NodeID], docs)
					}
				}
				_, err = d.FinishChefTree(ctx, u, c.ch.ID, false)
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.N*10110)/b.Elapsed().Seconds(), "nodes/s")
			b.ReportMetric(float64(calls)/float64(b.N), "calls/tree")
		})
	}
}

func BenchmarkCreate10k(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "ed@example.org", false)
			ch := dbtest.Channel(b, d, u, "Bench")
			b.ResetTimer()
			for range b.N {
				var cs []db.Change
				flush := func() {
					_, err := d.Apply(ctx, u, cs, true)
					require.NoError(b, err)
					cs = nil
				}
				for range 10 {
					unit := models.NewID()
					cs = append(cs, create(unit, ch.RootID, "topic", "Unit", nil))
					for range 10 {
						lesson := models.NewID()
						cs = append(cs, create(lesson, unit, "topic", "Lesson", nil))
						for range 99 {
							cs = append(cs, create(models.NewID(), lesson, "document", "Doc", resource))
							if len(cs) == 1000 {
								flush()
							}
						}
					}
				}
				flush()
			}
			b.ReportMetric(float64(b.N*10110)/b.Elapsed().Seconds(), "nodes/s")
		})
	}
}
