package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/models"
)

// Benchmarks of the write path, on each test database. BENCHMARKS.md has
// the command and the figures.

// wideTree is a literal for a tree of about n nodes: topics of 10 topics of
// resources, like a large Kolibri channel.
func wideTree(n int) string {
	var b strings.Builder
	count := 0
	for i := 0; count < n; i++ {
		fmt.Fprintf(&b, "topic T%d\n", i)
		count++
		for j := 0; j < 10 && count < n; j++ {
			fmt.Fprintf(&b, "  topic T%d.%d\n", i, j)
			count++
			for k := 0; k < 98 && count < n; k++ {
				fmt.Fprintf(&b, "    video V%d.%d.%d\n", i, j, k)
				count++
			}
		}
	}
	return b.String()
}

// BenchmarkCreateNodes creates nodes in batches of 500 through Apply.
func BenchmarkCreateNodes(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "ed@example.org", false)
			ch := dbtest.Channel(b, d, u, "Bench")
			const batch = 500
			b.ResetTimer()
			for range b.N {
				cs := make([]db.Change, batch)
				for i := range cs {
					cs[i] = create(models.NewID(), ch.RootID, "video", "A video", resource)
				}
				_, err := d.Apply(ctx, u, cs, true)
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "nodes/s")
		})
	}
}

// BenchmarkCopy10k copies a 10,000-node subtree (with a file per resource).
func BenchmarkCopy10k(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			d := dbtest.Open(b, kind)
			u := dbtest.User(b, d, "ed@example.org", false)
			ch := dbtest.Channel(b, d, u, "Bench")
			src := dbtest.Tree(b, d, dbtest.Node(b, d, ch.RootID), "topic Source\n"+indent(wideTree(9999)))["Source"]
			dest := dbtest.Tree(b, d, dbtest.Node(b, d, ch.RootID), "topic Dest")["Dest"]
			b.ResetTimer()
			for range b.N {
				_, err := d.Apply(ctx, u, []db.Change{copyOf(models.NewID(), src.ID, dest.ID, db.LastChild)}, true)
				require.NoError(b, err)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/copy")
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ")
}

// BenchmarkMove moves a resource between two topics of a channel of 1,000
// and of 100,000 nodes: its cost must not grow with the channel.
func BenchmarkMove(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		for _, size := range []int{1000, 100000} {
			b.Run(fmt.Sprintf("%s/%d", kind, size), func(b *testing.B) {
				ctx := context.Background()
				d := dbtest.Open(b, kind)
				u := dbtest.User(b, d, "ed@example.org", false)
				ch := dbtest.Channel(b, d, u, "Bench")
				n := dbtest.Tree(b, d, dbtest.Node(b, d, ch.RootID), wideTree(size))
				from, to := n["T0.0"].ID, n["T0.1"].ID
				leaf := n["V0.0.0"].ID
				cctx, counter := db.WithCounter(ctx)
				b.ResetTimer()
				for i := range b.N {
					target := to
					if i%2 == 1 {
						target = from
					}
					_, err := d.Apply(cctx, u, []db.Change{move(leaf, target, db.FirstChild)}, true)
					require.NoError(b, err)
				}
				b.ReportMetric(float64(counter.Load())/float64(b.N), "statements/op")
			})
		}
	}
}
