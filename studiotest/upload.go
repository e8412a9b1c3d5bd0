package studiotest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// File is a file sent with an operation.
type File struct {
	Path string // where it goes in the operation: "variables.in.file"
	Name string // its file name
	Data []byte
}

// Upload sends query with vars and one file by the GraphQL multipart
// request spec (https://github.com/jaydenseric/graphql-multipart-request-spec):
// the file's variable is set to null in vars, and the map names its path.
// The body has a length, as a browser's does.
func (c *Client) Upload(token, query string, vars map[string]any, file File) Response {
	c.t.Helper()
	setNull(vars, file.Path)
	ops, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(c.t, err)
	uploadMap, err := json.Marshal(map[string][]string{"0": {file.Path}})
	require.NoError(c.t, err)
	body, contentType := Multipart(c.t, string(ops), string(uploadMap), file.Name, bytes.NewReader(file.Data))
	b, err := io.ReadAll(body)
	require.NoError(c.t, err)
	r, err := c.post(token, contentType, bytes.NewReader(b), nil)
	require.NoError(c.t, err, "HTTP %d: %.300s", r.Status, r.Body)
	return r
}

// setNull sets the value at path ("variables.a.b") in vars to null, where
// the maps on the way exist.
func setNull(vars map[string]any, path string) {
	keys := strings.Split(path, ".")
	if len(keys) < 2 || keys[0] != "variables" {
		return
	}
	m := vars
	for _, k := range keys[1 : len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	m[keys[len(keys)-1]] = nil
}

// Multipart is a multipart request's body and content type: the
// operations and map parts as given (malformed ones included), then file
// as part "0", named filename. The file is read as the body is, never held.
func Multipart(t testing.TB, operations, uploadMap, filename string, file io.Reader) (io.Reader, string) {
	t.Helper()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	require.NoError(t, mw.WriteField("operations", operations))
	require.NoError(t, mw.WriteField("map", uploadMap))
	_, err := mw.CreateFormFile("0", filename)
	require.NoError(t, err)
	headBytes := bytes.Clone(head.Bytes())
	head.Reset()
	require.NoError(t, mw.Close())
	return io.MultiReader(bytes.NewReader(headBytes), file, bytes.NewReader(bytes.Clone(head.Bytes()))), mw.FormDataContentType()
}

// Repeat is n bytes of b, made as they are read: a large body that takes
// no memory.
func Repeat(b byte, n int64) io.Reader { return &repeat{b: b, n: n} }

type repeat struct {
	b byte
	n int64
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.n -= k
	return int(k), nil
}
