package models

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

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

// UnmarshalJSON accepts any GraphQL input value as JSON, checked and
// normalised by NormalizeJSON, so that nothing is stored that cannot be read
// back.
func UnmarshalJSON(v any) (any, error) {
	return NormalizeJSON(v)
}

// NormalizeJSON checks a JSON value from a client (decoded with UseNumber,
// or a GraphQL literal) and returns it as the database will give it back:
// a number becomes an int64 when it is whole and fits one, a float64
// otherwise. A number that does not fit a float64 (1e400), one that is not
// finite, and a NUL character in a key or a string are BAD_USER_INPUT: either
// the database refuses them or every later read fails. Objects and lists are
// changed in place.
func NormalizeJSON(v any) (any, error) {
	out, err := normalizeJSON(v)
	if err != nil {
		return nil, err.toError()
	}
	return out, nil
}

// jsonPathError is a bad value and where it is; the path is collected, in
// reverse, as the walk unwinds, so that good values cost no path strings.
type jsonPathError struct {
	rpath []string
	msg   string
}

func (e *jsonPathError) toError() error {
	if len(e.rpath) == 0 {
		return Errorf(CodeBadUserInput, "%s", e.msg)
	}
	path := slices.Clone(e.rpath)
	slices.Reverse(path)
	return Errorf(CodeBadUserInput, "JSON value at %s: %s", strings.TrimPrefix(strings.Join(path, ""), "."), e.msg)
}

func normalizeJSON(v any) (any, *jsonPathError) {
	switch x := v.(type) {
	case nil, bool:
		return v, nil
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return nil, &jsonPathError{msg: NULMessage}
		}
		return v, nil
	case json.Number:
		return normalizeNumber(string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &jsonPathError{msg: fmt.Sprintf("number %v is not finite; use a number between about -1.8e308 and 1.8e308", x)}
		}
		return v, nil
	case float32:
		return normalizeJSON(float64(x))
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		return v, nil
	case uint, uint64:
		return normalizeNumber(fmt.Sprint(x))
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 {
				return nil, &jsonPathError{rpath: []string{"." + strconv.Quote(k)}, msg: "a key: " + NULMessage}
			}
			ne, err := normalizeJSON(e)
			if err != nil {
				err.rpath = append(err.rpath, "."+k)
				return nil, err
			}
			x[k] = ne
		}
		return x, nil
	case []any:
		for i, e := range x {
			ne, err := normalizeJSON(e)
			if err != nil {
				err.rpath = append(err.rpath, "["+strconv.Itoa(i)+"]")
				return nil, err
			}
			x[i] = ne
		}
		return x, nil
	case []string:
		for i, s := range x {
			if strings.IndexByte(s, 0) >= 0 {
				return nil, &jsonPathError{rpath: []string{"[" + strconv.Itoa(i) + "]"}, msg: NULMessage}
			}
		}
		return x, nil
	}
	// Other types come only from studio's own code (ids, times), which
	// encoding/json writes as it reads them.
	return v, nil
}

// normalizeNumber reads a JSON number's text as Go's decoder will read it
// back from the database.
func normalizeNumber(s string) (any, *jsonPathError) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if len(s) > 40 {
			s = s[:40] + "…"
		}
		return nil, &jsonPathError{msg: fmt.Sprintf("number %s does not fit a 64-bit float; use a number between about -1.8e308 and 1.8e308", s)}
	}
	if f == 0 {
		return 0.0, nil // -0e0 is 0: written as "-0" it would read back as the integer 0
	}
	return f, nil
}
