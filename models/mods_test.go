package models

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSetPath(t *testing.T) {
	for _, tc := range []struct {
		name  string
		obj   map[string]any
		path  string
		value any
		want  map[string]any
	}{
		{
			name:  "add nested creates options",
			obj:   map[string]any{"randomize": true},
			path:  "options.modality",
			value: "QUIZ",
			want:  map[string]any{"randomize": true, "options": map[string]any{"modality": "QUIZ"}},
		},
		{
			name:  "add deep path creates every level",
			obj:   map[string]any{},
			path:  "options.completion_criteria.threshold.m",
			value: 5,
			want: map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
				"threshold": map[string]any{"m": 5},
			}}},
		},
		{
			name:  "null intermediate is replaced by an object",
			obj:   map[string]any{"options": nil},
			path:  "options.modality",
			value: "SURVEY",
			want:  map[string]any{"options": map[string]any{"modality": "SURVEY"}},
		},
		{
			name:  "remove nested with nil keeps siblings",
			obj:   map[string]any{"options": map[string]any{"modality": "QUIZ", "entry": "index.html"}},
			path:  "options.modality",
			value: nil,
			want:  map[string]any{"options": map[string]any{"entry": "index.html"}},
		},
		{
			name:  "remove missing key is fine",
			obj:   map[string]any{"options": map[string]any{}},
			path:  "options.modality",
			value: nil,
			want:  map[string]any{"options": map[string]any{}},
		},
		{
			name:  "remove under missing object creates nothing",
			obj:   map[string]any{},
			path:  "options.completion_criteria.threshold",
			value: nil,
			want:  map[string]any{},
		},
		{
			name:  "remove top-level key",
			obj:   map[string]any{"randomize": true, "mastery_model": "do_all"},
			path:  "mastery_model",
			value: nil,
			want:  map[string]any{"randomize": true},
		},
		{
			name:  "scalar replaces",
			obj:   map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 10}}},
			path:  "options.completion_criteria.threshold",
			value: 20.5,
			want:  map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 20.5}}},
		},
		{
			name:  "map merges and keeps siblings",
			obj:   map[string]any{"options": map[string]any{"modality": "QUIZ", "completion_criteria": map[string]any{"model": "time", "threshold": 10}}},
			path:  "options",
			value: map[string]any{"completion_criteria": map[string]any{"threshold": 30, "learner_managed": true}},
			want: map[string]any{"options": map[string]any{"modality": "QUIZ", "completion_criteria": map[string]any{
				"model": "time", "threshold": 30, "learner_managed": true,
			}}},
		},
		{
			name:  "nil inside merged map deletes",
			obj:   map[string]any{"options": map[string]any{"modality": "QUIZ", "entry": "a.html"}},
			path:  "options",
			value: map[string]any{"modality": nil, "entry": "b.html"},
			want:  map[string]any{"options": map[string]any{"entry": "b.html"}},
		},
		{
			name:  "map over a scalar replaces it and drops nils",
			obj:   map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"threshold": 10}}},
			path:  "options.completion_criteria.threshold",
			value: map[string]any{"mastery_model": "m_of_n", "m": 3, "n": 5, "x": nil},
			want: map[string]any{"options": map[string]any{"completion_criteria": map[string]any{
				"threshold": map[string]any{"mastery_model": "m_of_n", "m": 3, "n": 5},
			}}},
		},
		{
			name:  "slice replaces, not merges",
			obj:   map[string]any{"list": []any{1, 2, 3}},
			path:  "list",
			value: []any{4},
			want:  map[string]any{"list": []any{4}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, SetPath(tc.obj, tc.path, tc.value))
			require.Equal(t, tc.want, tc.obj)
		})
	}
}

func TestSetPathCategoriesAccumulate(t *testing.T) {
	// A label map updated twice keeps both labels (Studio test
	// test_update_contentnode_add_multiple_nested_metadata_labels), and null
	// removes one.
	node := map[string]any{}
	require.NoError(t, SetPath(node, "categories", map[string]any{"math": true}))
	require.NoError(t, SetPath(node, "categories", map[string]any{"science": true}))
	require.Equal(t, map[string]any{"categories": map[string]any{"math": true, "science": true}}, node)

	require.NoError(t, SetPath(node, "categories.history", true))
	require.NoError(t, SetPath(node, "categories.math", nil))
	require.Equal(t, map[string]any{"categories": map[string]any{"science": true, "history": true}}, node)
}

func TestSetPathErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obj     map[string]any
		path    string
		value   any
		wantMsg string
	}{
		{"string intermediate", map[string]any{"options": "QUIZ"}, "options.modality", "QUIZ", `"options" is a string`},
		{"number intermediate", map[string]any{"a": map[string]any{"b": 3.0}}, "a.b.c", 1, `"a.b" is a number`},
		{"array intermediate", map[string]any{"a": []any{}}, "a.b", 1, `"a" is an array`},
		{"bool intermediate on delete", map[string]any{"a": true}, "a.b", nil, `"a" is a boolean`},
		{"empty path", map[string]any{}, "", 1, "must not be empty"},
		{"double dot", map[string]any{}, "a..b", 1, "empty segment"},
		{"leading dot", map[string]any{}, ".a", 1, "empty segment"},
		{"trailing dot", map[string]any{}, "a.", 1, "empty segment"},
		{"nil object", nil, "a", 1, "no object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := CloneObject(tc.obj)
			err := SetPath(tc.obj, tc.path, tc.value)
			require.Error(t, err)
			require.Equal(t, CodeBadUserInput, CodeOf(err))
			require.ErrorIs(t, err, ErrBadUserInput)
			require.Contains(t, err.Error(), tc.wantMsg)
			require.Equal(t, before, tc.obj, "a failed SetPath must not change obj")
		})
	}
	// Deleting from a nil object is a harmless no-op.
	require.NoError(t, SetPath(nil, "a.b", nil))
}

func TestSetPathErrorNamesPath(t *testing.T) {
	err := SetPath(map[string]any{"options": 1.0}, "options.completion_criteria.model", "time")
	require.ErrorContains(t, err, `"options.completion_criteria.model"`)
}

func TestMergeObject(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dst, src map[string]any
		want     map[string]any
	}{
		{"empty src", map[string]any{"a": 1}, map[string]any{}, map[string]any{"a": 1}},
		{"nil src", map[string]any{"a": 1}, nil, map[string]any{"a": 1}},
		{"add", map[string]any{"a": 1}, map[string]any{"b": 2}, map[string]any{"a": 1, "b": 2}},
		{"replace scalar", map[string]any{"a": 1}, map[string]any{"a": "x"}, map[string]any{"a": "x"}},
		{"delete", map[string]any{"a": 1, "b": 2}, map[string]any{"a": nil, "zz": nil}, map[string]any{"b": 2}},
		{
			"deep merge",
			map[string]any{"o": map[string]any{"p": map[string]any{"x": 1, "y": 2}, "q": 3}},
			map[string]any{"o": map[string]any{"p": map[string]any{"y": nil, "z": 4}}},
			map[string]any{"o": map[string]any{"p": map[string]any{"x": 1, "z": 4}, "q": 3}},
		},
		{
			"map replaces scalar",
			map[string]any{"o": "s"},
			map[string]any{"o": map[string]any{"a": 1, "b": nil}},
			map[string]any{"o": map[string]any{"a": 1}},
		},
		{
			"scalar replaces map",
			map[string]any{"o": map[string]any{"a": 1}},
			map[string]any{"o": false},
			map[string]any{"o": false},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			MergeObject(tc.dst, tc.src)
			require.Equal(t, tc.want, tc.dst)
		})
	}
	require.NotPanics(t, func() { MergeObject(nil, map[string]any{"a": 1}) })
}

func TestMergeObjectDoesNotAlias(t *testing.T) {
	src := map[string]any{"o": map[string]any{"a": []any{1}}}
	dst := map[string]any{}
	MergeObject(dst, src)
	src["o"].(map[string]any)["a"].([]any)[0] = 99
	src["o"].(map[string]any)["b"] = 2
	require.Equal(t, map[string]any{"o": map[string]any{"a": []any{1}}}, dst)
}

func TestCloneObject(t *testing.T) {
	require.Nil(t, CloneObject(nil))
	orig := map[string]any{
		"s":    "x",
		"n":    1.5,
		"obj":  map[string]any{"inner": map[string]any{"k": true}},
		"list": []any{map[string]any{"a": 1}, "b"},
		"strs": []string{"p", "q"},
		"null": nil,
	}
	c := CloneObject(orig)
	require.Equal(t, orig, c)

	c["obj"].(map[string]any)["inner"].(map[string]any)["k"] = false
	c["list"].([]any)[0].(map[string]any)["a"] = 2
	c["list"].([]any)[1] = "changed"
	c["strs"].([]string)[0] = "z"
	c["s"] = "y"
	require.Equal(t, true, orig["obj"].(map[string]any)["inner"].(map[string]any)["k"])
	require.Equal(t, 1, orig["list"].([]any)[0].(map[string]any)["a"])
	require.Equal(t, "b", orig["list"].([]any)[1])
	require.Equal(t, "p", orig["strs"].([]string)[0])
	require.Equal(t, "x", orig["s"])
}

func TestCloneThenSetPathKeepsOriginal(t *testing.T) {
	orig := map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 10}}}
	work := CloneObject(orig)
	require.NoError(t, SetPath(work, "options.completion_criteria.threshold", nil))
	require.NoError(t, SetPath(work, "options.modality", "QUIZ"))
	require.Equal(t, map[string]any{"options": map[string]any{"completion_criteria": map[string]any{"model": "time", "threshold": 10}}}, orig)
}
