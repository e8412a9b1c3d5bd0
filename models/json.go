package models

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// JSON is the Go side of the JSON scalar: whatever encoding/json makes of it.
type JSON = any

// MarshalJSON writes v for the JSON scalar; a nil map or slice is written
// as an empty one, never as null.
func MarshalJSON(v any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		switch x := v.(type) {
		case map[string]any:
			if x == nil {
				v = map[string]any{}
			}
		case []any:
			if x == nil {
				v = []any{}
			}
		case []string:
			if x == nil {
				v = []string{}
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte("null")
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalJSON accepts any GraphQL input value as JSON.
func UnmarshalJSON(v any) (any, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("%q is not a JSON number", n)
		}
		return f, nil
	}
	return v, nil
}
