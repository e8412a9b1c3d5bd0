package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGrowth(t *testing.T) {
	small := &Report{Database: "postgres", Nodes: 10000, Results: []Result{
		{Name: "move 1 node", P50: 2 * time.Millisecond, Nodes: 1, PerNode: 2 * time.Millisecond},
		{Name: "publish the channel", P50: time.Second, Nodes: 10000, PerNode: 100 * time.Microsecond},
		{Name: "only here", P50: time.Millisecond},
	}}
	large := &Report{Database: "postgres", Nodes: 100000, Results: []Result{
		{Name: "move 1 node", P50: 3 * time.Millisecond, Nodes: 1, PerNode: 3 * time.Millisecond},
		{Name: "publish the channel", P50: 12 * time.Second, Nodes: 100000, PerNode: 120 * time.Microsecond},
	}}
	require.Equal(t, "postgres: 10000 → 100000 nodes\n\n"+
		"| operation | small p50 | large p50 | per-node or per-op ratio |\n|---|---:|---:|---:|\n"+
		"| move 1 node | 2.0 ms | 3.0 ms | 1.50× |\n"+
		"| publish the channel | 1.00 s | 12.00 s | 1.20× |\n", Growth(small, large))
}
