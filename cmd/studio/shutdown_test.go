package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
	"studio/studiotest"
)

// TestSIGTERMDuringCopy stops the server while it copies 5,000 nodes: the
// copy is one transaction, so the channel ends up with all of it or none,
// and the process exits cleanly.
func TestSIGTERMDuringCopy(t *testing.T) {
	bin := buildStudio(t)
	for _, kind := range dbtest.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			url := dbtest.URL(t, kind)
			d := dbtest.OpenURL(t, url)
			u := dbtest.User(t, d, "ed@example.org", false)
			token := dbtest.Token(t, d, u)
			ch := dbtest.Channel(t, d, u, "Big")
			var lit strings.Builder
			lit.WriteString("topic Source\n")
			for i := range 50 {
				fmt.Fprintf(&lit, "  topic T%d\n", i)
				for j := range 99 {
					fmt.Fprintf(&lit, "    video V%d.%d\n", i, j)
				}
			}
			lit.WriteString("topic Dest\n")
			n := dbtest.Tree(t, d, dbtest.Node(t, d, ch.RootID), lit.String())
			before, err := d.CountChannelNodes(ctx, ch.ID, db.NodeQuery{})
			require.NoError(t, err)

			p := startStudio(t, bin, "--database-url", url)
			cmd, base := p.cmd, p.base

			// Sent by hand: the server stops under it, and that is no failure.
			req := studiotest.New(t, base).Request(ctx, token, `mutation($in: [CopyContentNodeInput!]!) { copyContentNodes(input: $in) { id } }`,
				map[string]any{"in": []any{map[string]any{"sourceId": n["Source"].ID, "target": n["Dest"].ID}}})
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			time.Sleep(150 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			require.NoError(t, cmd.Wait(), "the server did not exit cleanly")
			<-done

			after, err := d.CountChannelNodes(ctx, ch.ID, db.NodeQuery{})
			require.NoError(t, err)
			copied := after - before
			require.Contains(t, []int{0, 1 + 50 + 50*99}, copied, "a copy was left half done")
			t.Logf("the copy %s", map[bool]string{true: "completed before the server stopped", false: "was not made"}[copied > 0])
			dbtest.CheckTree(t, d)
		})
	}
}
