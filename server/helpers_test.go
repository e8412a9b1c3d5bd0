package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/server"
	"studio/studiotest"
)

// api is a running server under test and a GraphQL client of it.
type api struct {
	*studiotest.Client
	t    testing.TB
	url  string
	d    *db.DB
	jobs *jobs.Client
}

func newAPI(t testing.TB, d *db.DB, cfg server.Config) *api {
	if cfg.Blobs == nil {
		store, err := blobs.Open(context.Background(), t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { store.Close() })
		cfg.Blobs = store
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Jobs == nil {
		// Enqueues only: tests that need jobs to run start their own.
		c, err := jobs.New(d, jobs.Config{})
		require.NoError(t, err)
		cfg.Jobs = c
	}
	ts := httptest.NewServer(server.New(d, cfg).Handler())
	t.Cleanup(ts.Close)
	return &api{Client: studiotest.New(t, ts.URL), t: t, url: ts.URL, d: d, jobs: cfg.Jobs}
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func ptr[T any](v T) *T { return &v }
