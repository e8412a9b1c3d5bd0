package models

import (
	"encoding/json"
	"strings"
)

// This file applies Studio's UPDATE "mods" to JSON objects (extra_fields,
// metadata label maps, ...). A mod key is a dot path such as
// "options.completion_criteria.threshold.m"; a nil value removes the key and
// a map value is merged into an existing map rather than replacing it.

// SetPath applies one dot-path modification inside obj. path is relative to
// obj ("options.modality", not "extra_fields.options.modality").
//
//   - A nil value deletes the key; deleting a missing key (or one under a
//     missing object) is a no-op.
//   - A map value is merged recursively into an existing map at that key
//     (see MergeObject); with no map there it is stored, minus its nil keys.
//   - Any other value replaces what was there.
//
// Missing or null intermediate objects are created. An intermediate value
// that is not an object, or a path with an empty segment, is a
// BAD_USER_INPUT error. obj is changed in place, even when a later mod of
// the same update fails: edit a CloneObject copy to keep the original.
func SetPath(obj map[string]any, path string, value any) error {
	keys, err := splitModPath(path)
	if err != nil {
		return err
	}
	if obj == nil {
		if value == nil {
			return nil
		}
		return Errorf(CodeBadUserInput, "cannot set %q: there is no object to set it in", path)
	}
	cur := obj
	for i, k := range keys[:len(keys)-1] {
		switch next := cur[k].(type) {
		case map[string]any:
			if next == nil {
				if value == nil {
					return nil
				}
				next = map[string]any{}
				cur[k] = next
			}
			cur = next
		case nil:
			if value == nil {
				return nil // nothing to delete
			}
			m := map[string]any{}
			cur[k] = m
			cur = m
		default:
			return Errorf(CodeBadUserInput,
				"cannot set %q: %q is %s, not an object; set %q itself or remove it first",
				path, strings.Join(keys[:i+1], "."), jsonKindOf(next), strings.Join(keys[:i+1], "."))
		}
	}
	last := keys[len(keys)-1]
	switch v := value.(type) {
	case nil:
		delete(cur, last)
	case map[string]any:
		if existing, ok := cur[last].(map[string]any); ok && existing != nil {
			MergeObject(existing, v)
		} else {
			m := map[string]any{}
			MergeObject(m, v)
			cur[last] = m
		}
	default:
		cur[last] = cloneJSONValue(value)
	}
	return nil
}

// splitModPath splits a dot path into its keys, rejecting empty segments.
func splitModPath(path string) ([]string, error) {
	if path == "" {
		return nil, Errorf(CodeBadUserInput, "a modification path must not be empty; use a key such as \"options.modality\"")
	}
	keys := strings.Split(path, ".")
	for _, k := range keys {
		if k == "" {
			return nil, Errorf(CodeBadUserInput, "modification path %q has an empty segment; separate keys with single dots, as in \"options.modality\"", path)
		}
	}
	return keys, nil
}

// MergeObject merges src into dst recursively, as Studio merges dict
// fields: a nil value in src deletes that key from dst, a map in src is
// merged into the map at the same key of dst (or stored as a new map when
// dst has none there), and any other value replaces dst's. Values are
// deep-copied, so dst never shares maps or slices with src. dst must not be
// nil.
func MergeObject(dst, src map[string]any) {
	if dst == nil {
		return
	}
	for k, v := range src {
		switch sv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			if dm, ok := dst[k].(map[string]any); ok && dm != nil {
				MergeObject(dm, sv)
			} else {
				m := map[string]any{}
				MergeObject(m, sv)
				dst[k] = m
			}
		default:
			dst[k] = cloneJSONValue(v)
		}
	}
}

// CloneObject deep-copies a JSON-shaped object: nested maps and slices are
// copied, scalars are shared (they are immutable). nil stays nil.
func CloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSONValue(v)
	}
	return out
}

// cloneJSONValue deep-copies one JSON-shaped value.
func cloneJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return CloneObject(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSONValue(e)
		}
		return out
	case []map[string]any:
		if x == nil {
			return x
		}
		out := make([]map[string]any, len(x))
		for i, e := range x {
			out[i] = CloneObject(e)
		}
		return out
	case []string:
		if x == nil {
			return x
		}
		return append([]string(nil), x...)
	default:
		return v
	}
}

// jsonKindOf names the JSON type of v for error messages ("a string").
func jsonKindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string, []map[string]any:
		return "an array"
	case map[string]any:
		return "an object"
	case json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "a number"
	default:
		return "a non-object value"
	}
}
