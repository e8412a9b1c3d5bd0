package models

import (
	"encoding/json"
	"testing"
)

// Fuzz tests: run with `go test -fuzz FuzzX ./models/`; plain `go test`
// runs their seeds.

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"0123456789abcdef0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdef", "", "zz", "0123456789ABCDEF0123456789ABCDEF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if CodeOf(err) != CodeBadUserInput {
				t.Fatalf("%q: error without BAD_USER_INPUT: %v", s, err)
			}
			return
		}
		again, err := ParseID(id.String())
		if err != nil || again != id {
			t.Fatalf("%q: %s does not parse back", s, id)
		}
	})
}

func FuzzSetPath(f *testing.F) {
	f.Add("options.modality", `"QUIZ"`)
	f.Add("a..b", `1`)
	f.Add("options", `{"x": null, "y": {"z": 1}}`)
	f.Add("options.completion_criteria.threshold.m", `null`)
	f.Fuzz(func(t *testing.T, path, value string) {
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			return
		}
		obj := map[string]any{"options": map[string]any{"modality": "QUIZ"}, "randomize": true}
		if err := SetPath(obj, path, v); err != nil {
			if CodeOf(err) != CodeBadUserInput {
				t.Fatalf("%q: error without BAD_USER_INPUT: %v", path, err)
			}
			return
		}
		if _, err := json.Marshal(obj); err != nil {
			t.Fatalf("%q = %s left an object that is not JSON: %v", path, value, err)
		}
	})
}
