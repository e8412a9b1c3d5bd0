package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"studio/db"
	"studio/db/dbtest"
)

// The Accept headers that real clients send by default.
const (
	urqlAccept   = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	apolloAccept = "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"
)

// TestAcceptNegotiation: a POST is answered in the most preferred media
// type the client accepts, a subscription as a stream whenever the client
// accepts one.
func TestAcceptNegotiation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		query := `{ me { email } }`
		sub := `subscription($c: ID!) { channelChanges(channelId: $c, since: 0) { rev } }`
		both := `query Q { me { email } } subscription S($c: ID!) { channelChanges(channelId: $c, since: 0) { rev } }`
		const stream, js = "text/event-stream", "JSON"
		cases := []struct {
			name, accept, query, op, want string
		}{
			{"urql's default, a query", urqlAccept, query, "", js},
			{"urql's default, a subscription", urqlAccept, sub, "", stream},
			{"Apollo's default, a query", apolloAccept, query, "", js},
			{"a stream only", "text/event-stream", query, "", stream},
			{"a stream first", "text/event-stream, application/json", query, "", stream},
			{"a stream preferred by q", "application/json;q=0.5, text/event-stream", query, "", stream},
			{"JSON preferred by q", "text/event-stream;q=0.5, application/json", query, "", js},
			{"anything", "*/*", query, "", js},
			{"no Accept", "", query, "", js},
			{"a stream refused", "application/json, text/event-stream;q=0", sub, "", js},
			{"the named operation is the subscription", urqlAccept, both, "S", stream},
			{"the named operation is the query", urqlAccept, both, "Q", js},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				body, err := json.Marshal(map[string]any{"query": c.query, "operationName": c.op, "variables": map[string]any{"c": e.channel}})
				require.NoError(t, err)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/graphql", bytes.NewReader(body))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+e.token)
				if c.accept != "" {
					req.Header.Set("Accept", c.accept)
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
				require.NoError(t, err)
				if c.want == js {
					require.Contains(t, []string{"application/json", "application/graphql-response+json"}, mt, "Accept: %s", c.accept)
				} else {
					require.Equal(t, c.want, mt, "Accept: %s", c.accept)
				}
			})
		}
	})
}

// TestDeferNotAdvertised: @defer is neither in the schema nor accepted,
// since no transport here delivers the deferred part.
func TestDeferNotAdvertised(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEditorAPI(t, d)
		data := e.OK(e.token, `{ __schema { directives { name } } }`, nil)
		for _, dir := range get(data, "__schema", "directives").([]any) {
			require.NotEqual(t, "defer", get(dir, "name"))
		}
		for _, accept := range []string{apolloAccept, "application/json"} {
			r := e.Do(e.token, `query($c: ID!) { channel(id: $c) { name ... @defer { root { title } } } }`, map[string]any{"c": e.channel}, "Accept", accept)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.Code(), "%s", r.Body)
			require.Nil(t, r.Data, "nothing runs")
		}
	})
}
