package models

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeClient decodes JSON as gqlgen decodes request variables.
func decodeClient(t testing.TB, s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// marshalScalar writes v as the JSON scalar does.
func marshalScalar(v any) []byte {
	var b bytes.Buffer
	MarshalJSON(v).MarshalGQL(&b)
	return b.Bytes()
}

// TestFindingJSONScalarChecks: the JSON scalar refuses numbers that do not
// fit a float64 and NUL characters, anywhere in the value, and gives back
// numbers as the database read path does.
func TestFindingJSONScalarChecks(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // the accepted value, marshalled; "" when refused
	}{
		{`{"author":1e400}`, ""},
		{`{"a":[1,{"b":-1e400}]}`, ""},
		{`1e400`, ""},
		{`1.7976931348623159e308`, ""},
		{`{"k\u0000":1}`, ""},
		{`{"k":"a\u0000b"}`, ""},
		{`["\u0000"]`, ""},
		{`{"author":1e300}`, `{"author":1e+300}`},
		{`{"n":12,"f":1.5,"tiny":1e-400}`, `{"f":1.5,"n":12,"tiny":0}`},
		{`{"big":123456789012345678901234567890}`, `{"big":1.2345678901234568e+29}`},
		{`{"t":"x\\u0000y"}`, `{"t":"x\\u0000y"}`},
		{`{"t":"😀 \u00e9"}`, `{"t":"😀 é"}`},
		{`null`, `null`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := UnmarshalJSON(decodeClient(t, tc.in))
			if tc.want == "" {
				require.Error(t, err)
				require.Equal(t, CodeBadUserInput, CodeOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(marshalScalar(v)))
		})
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := UnmarshalJSON(f) // a GraphQL literal comes as a float64
		require.Equal(t, CodeBadUserInput, CodeOf(err))
	}
	_, err := UnmarshalJSON(map[string]any{"x": []any{math.Inf(1)}})
	require.ErrorContains(t, err, "x[0]")
}

func TestFindingTextChecks(t *testing.T) {
	require.NoError(t, ValidateText("title", `x\u0000y`))
	require.Equal(t, CodeBadUserInput, CodeOf(ValidateText("title", "x\x00y")))
	require.Equal(t, CodeBadUserInput, CodeOf(ValidateTag("a\x00")))
	require.NoError(t, ValidateTagCount(MaxTags))
	require.Equal(t, CodeBadUserInput, CodeOf(ValidateTagCount(MaxTags+1)))
}

// hasNUL reports whether a JSON value holds a NUL in a key or string.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.IndexByte(x, 0) >= 0
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// FuzzJSONScalar: no input makes the JSON scalar panic; what it accepts has
// no NUL, reads back with the database's decoder (float64 numbers), and
// round-trips through marshalling unchanged.
func FuzzJSONScalar(f *testing.F) {
	for _, s := range []string{`{"author":1e400}`, `{"a":"x\\u0000y"}`, `{"\u0000":1}`, `[1,2.5,-0,1e-400,"é"]`,
		`123456789012345678901234567890`, `{"a":{"b":[null,true,{"c":"😀"}]}}`, `"\ud800"`, `1E+308`} {
		f.Add(s, 1.5)
	}
	f.Add(`0`, math.Inf(1))
	f.Fuzz(func(t *testing.T, s string, lit float64) {
		if v, err := UnmarshalJSON(lit); err == nil {
			require.False(t, math.IsNaN(v.(float64)) || math.IsInf(v.(float64), 0))
		} else {
			require.Equal(t, CodeBadUserInput, CodeOf(err))
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var in any
		if dec.Decode(&in) != nil {
			return
		}
		v, err := UnmarshalJSON(in)
		if err != nil {
			require.Equal(t, CodeBadUserInput, CodeOf(err), "%v", err)
			return
		}
		require.False(t, hasNUL(v))
		b1 := marshalScalar(v)
		var read any
		require.NoError(t, json.Unmarshal(b1, &read), "%s does not read back", b1)
		again, err := UnmarshalJSON(decodeClient(t, string(b1)))
		require.NoError(t, err, "%s", b1)
		require.Equal(t, string(b1), string(marshalScalar(again)))
	})
}
