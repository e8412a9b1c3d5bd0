package db

import (
	"encoding/json"
	"testing"

	"studio/models"
)

// FuzzNodeFields feeds a change's field and value, as a client may send
// them, to the code that applies them to a node: it must refuse or apply,
// never panic, and what it applies must stay JSON.
func FuzzNodeFields(f *testing.F) {
	for _, seed := range [][2]string{
		{"title", `"A title"`}, {"extra_fields.options.modality", `"QUIZ"`}, {"categories.a.b", `true`},
		{"tags", `{"x": true, "y": null}`}, {"tags.x", `1`}, {"kind", `"video"`}, {"license", `1`},
		{"suggested_duration", `-3`}, {"language", `"pt-br"`}, {"parent", `"x"`}, {"complete", `"yes"`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			return
		}
		for _, creating := range []bool{true, false} {
			n := &models.ContentNode{Kind: models.KindVideo}
			normalizeNode(n)
			e := &nodeEdit{n: n}
			if err := e.set(key, v, creating); err != nil {
				if models.CodeOf(err) != models.CodeBadUserInput {
					t.Fatalf("%s = %s: error without BAD_USER_INPUT: %v", key, value, err)
				}
				continue
			}
			if _, err := json.Marshal(n); err != nil {
				t.Fatalf("%s = %s left a node that is not JSON: %v", key, value, err)
			}
		}
	})
}

// FuzzKeys feeds change keys to the code that reads them.
func FuzzKeys(f *testing.F) {
	f.Add(`"0123456789abcdef0123456789abcdef"`)
	f.Add(`["0123456789abcdef0123456789abcdef", "x"]`)
	f.Add(`[1, 2]`)
	f.Fuzz(func(t *testing.T, key string) {
		var v any
		if json.Unmarshal([]byte(key), &v) != nil {
			return
		}
		if _, err := keyID(v); err != nil && models.CodeOf(err) != models.CodeBadUserInput {
			t.Fatalf("%s: %v", key, err)
		}
		if _, _, err := keyPair(v); err != nil && models.CodeOf(err) != models.CodeBadUserInput {
			t.Fatalf("%s: %v", key, err)
		}
	})
}
