package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/server"
)

// api is a running server under test and a client for it.
type api struct {
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
	return &api{t: t, url: ts.URL, d: d, jobs: cfg.Jobs}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Status     int
	Data       map[string]any `json:"data"`
	Errors     []gqlError     `json:"errors"`
	Extensions map[string]any `json:"extensions"`
}

// code is the first error's extensions.code, "" when there is none.
func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// call posts a GraphQL request; token "" is anonymous.
func (a *api) call(token, query string, vars map[string]any, header ...string) response {
	a.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(a.t, err)
	req, err := http.NewRequest(http.MethodPost, a.url+"/graphql", bytes.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	var r response
	require.NoError(a.t, json.NewDecoder(resp.Body).Decode(&r))
	r.Status = resp.StatusCode
	return r
}

// ok calls and requires no errors.
func (a *api) ok(token, query string, vars map[string]any) map[string]any {
	a.t.Helper()
	r := a.call(token, query, vars)
	require.Empty(a.t, r.Errors, "query: %s", query)
	return r.Data
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
