package server_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db/dbtest"
	"studio/studiotest"
)

// BenchmarkFeedLatency measures, over HTTP and a graphql-transport-ws
// subscription, the time from sending a one-change applyChanges to
// receiving the change on the subscription: an upper bound on the time from
// commit to delivery. It reports p50 and p99 in milliseconds.
func BenchmarkFeedLatency(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			d := dbtest.Open(b, kind)
			e := newEditorAPI(b, d)
			ids := e.create(b, map[string]any{"parentId": e.root, "kind": "topic", "title": "Bench"})
			rev := e.OK(e.token, `query($c: ID!) { channel(id: $c) { serverRev } }`, map[string]any{"c": e.channel})
			ws, err := studiotest.Dial(b, e.url, e.token)
			require.NoError(b, err)
			defer ws.Close()
			ws.Subscribe("1", subscribeChanges, map[string]any{"c": e.channel, "since": get(rev, "channel", "serverRev")})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				e.sync(e.token, false, map[string]any{"type": "UPDATED", "table": "contentnode", "key": ids[0], "mods": map[string]any{"title": fmt.Sprint(i)}})
				m, err := ws.Next(10 * time.Second)
				require.NoError(b, err)
				require.Equal(b, "next", m.Type)
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkSyncBatches applies batches of 100 changes (title updates)
// through applyChanges over HTTP.
func BenchmarkSyncBatches(b *testing.B) {
	for _, kind := range dbtest.Kinds() {
		b.Run(string(kind), func(b *testing.B) {
			d := dbtest.Open(b, kind)
			e := newEditorAPI(b, d)
			inputs := make([]map[string]any, 100)
			for i := range inputs {
				inputs[i] = map[string]any{"parentId": e.root, "kind": "topic", "title": "T"}
			}
			ids := e.create(b, inputs...)
			b.ResetTimer()
			for i := range b.N {
				changes := make([]map[string]any, len(ids))
				for j, id := range ids {
					changes[j] = map[string]any{"type": "UPDATED", "table": "contentnode", "key": id, "mods": map[string]any{"title": fmt.Sprint(i)}}
				}
				r := e.sync(e.token, false, changes...)
				require.Len(b, r["allowed"], 100)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "batches/s")
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}
