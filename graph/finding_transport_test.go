package graph

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
)

// addUpload runs gqlgen's AddUpload and says whether it placed the upload
// (false when it failed or panicked).
func addUpload(vars map[string]any, path string) (placed bool) {
	defer func() {
		if recover() != nil {
			placed = false
		}
	}()
	p := graphql.RawParams{Variables: vars}
	return p.AddUpload(graphql.Upload{}, "0", path) == nil
}

// FuzzUploadPath: checkUploadPath accepts exactly the paths where gqlgen's
// AddUpload places an upload, so that what it lets through never panics.
func FuzzUploadPath(f *testing.F) {
	for _, seed := range []struct{ vars, path string }{
		{`{"f":"str"}`, "variables.f.0"},
		{`{"in":{"file":null}}`, "variables.in.file"},
		{`{"l":[null,null]}`, "variables.l.1"},
		{`{"l":[null]}`, "variables.l.-1"},
		{`{"l":[[null]]}`, "variables.l.0.0"},
		{`null`, "variables.f"},
		{`{}`, "variables."},
		{`{}`, "variables.a.b"},
		{`{"a":5}`, "variables.a.b"},
		{`{"a":{"b":[]}}`, "variables.a.b.+0"},
	} {
		f.Add(seed.vars, seed.path)
	}
	f.Fuzz(func(t *testing.T, varsJSON, path string) {
		var vars map[string]any
		dec := json.NewDecoder(bytes.NewReader([]byte(varsJSON)))
		dec.UseNumber()
		if dec.Decode(&vars) != nil {
			t.Skip("not a variables object")
		}
		ok := checkUploadPath(vars, path) == ""
		// AddUpload changes vars; decode them afresh for it.
		var fresh map[string]any
		dec = json.NewDecoder(bytes.NewReader([]byte(varsJSON)))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&fresh))
		require.Equal(t, addUpload(fresh, path), ok, "vars %s, path %q", varsJSON, path)
	})
}

// TestFindingCheckParams: checkParams fails exactly where gqlgen's decoding
// of a JSON request would, so that no body reaches gqlgen's echoing error.
func TestFindingCheckParams(t *testing.T) {
	for _, body := range []string{
		``, `null`, `{}`, `{"query": "{ a }"}`, `{"query": 5}`, `{"variables": []}`, `{"variables": {"n": 1e400}}`,
		`{"extensions": "x"}`, `{"operationName": null}`, `{"operationName": {}}`, `[]`, `"x"`, `{"query": "a"} trailing`,
		`{"variables": 5, "variables": {}}`, `{"QUERY": 5}`, `{"query": "\ud800"}`, `{"variables": {"a": [1, {"b": null}]}}`,
	} {
		var p graphql.RawParams
		dec := json.NewDecoder(bytes.NewReader([]byte(body)))
		dec.UseNumber()
		gqlgenFails := dec.Decode(&p) != nil
		require.Equal(t, gqlgenFails, checkParams([]byte(body)) != nil, "%s", body)
	}
}
