package db

import (
	"encoding/base64"
	"encoding/json"

	"studio/models"
)

// encodeCursor makes an opaque Relay cursor from the keys a row sorts by.
func encodeCursor(keys ...any) string {
	b, _ := json.Marshal(keys)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor back into pointers to the same key types.
func decodeCursor(c string, keys ...any) error {
	bad := models.Errorf(models.CodeBadUserInput, "after %q is not a cursor from this listing; pass an endCursor or cursor you were given", c)
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return bad
	}
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil || len(raw) != len(keys) {
		return bad
	}
	for i, r := range raw {
		if json.Unmarshal(r, keys[i]) != nil {
			return bad
		}
	}
	return nil
}

// checkFirst refuses a page size outside 0..max.
func checkFirst(first, max int) error {
	if first < 0 || first > max {
		return models.Errorf(models.CodeBadUserInput, "first must be between 0 and %d, got %d; page through with after", max, first)
	}
	return nil
}
