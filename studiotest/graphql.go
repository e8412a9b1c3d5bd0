// Package studiotest is the client side of studio's tests: GraphQL over
// HTTP (and SSE), uploads by the GraphQL multipart request spec, and
// graphql-transport-ws. It takes a running server's URL or an http.Handler
// and never builds a server itself, so that any package's tests, server's
// included, can use it.
package studiotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Client posts GraphQL requests to one server. A transport error, or an
// answer that should be JSON and is not, fails the test.
type Client struct {
	t       testing.TB
	url     string       // the server's base URL, when it runs
	handler http.Handler // or the handler, served in process

	// Timeout bounds each request; 0 is none.
	Timeout time.Duration
}

// New is a client of the server at baseURL (http://host:port); requests go
// to baseURL/graphql.
func New(t testing.TB, baseURL string) *Client {
	return &Client{t: t, url: strings.TrimSuffix(baseURL, "/")}
}

// NewHandler is a client that serves each request to h directly, with no
// connection (httptest's requests: from 192.0.2.1, to example.com).
func NewHandler(t testing.TB, h http.Handler) *Client {
	return &Client{t: t, handler: h}
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is an answer: its status, headers and body as sent, and, when
// the body is JSON, its data, errors and extensions (sqlQueries, say).
type Response struct {
	Status     int            `json:"-"`
	Header     http.Header    `json:"-"`
	Body       []byte         `json:"-"`
	Data       map[string]any `json:"data"`
	Errors     []Error        `json:"errors"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the first error's extensions.code, "" when there is none.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Decode decodes the body's data into out, a struct the shape of the
// query, say (field names match case-insensitively).
func (r Response) Decode(out any) error {
	var body struct{ Data json.RawMessage }
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return err
	}
	return json.Unmarshal(body.Data, out)
}

// Parse decodes body as a GraphQL response, failing the test if it is not
// one.
func Parse(t testing.TB, body []byte) Response {
	t.Helper()
	var r Response
	require.NoError(t, json.Unmarshal(body, &r), "%.300s", body)
	r.Body = body
	return r
}

// Do posts query with vars as token's user ("" is anonymous); header is
// extra headers as name, value pairs.
func (c *Client) Do(token, query string, vars map[string]any, header ...string) Response {
	c.t.Helper()
	r, err := c.post(token, "application/json", bytes.NewReader(c.operation(query, vars)), header)
	require.NoError(c.t, err, "HTTP %d: %.300s", r.Status, r.Body)
	return r
}

// OK is Do, failing the test on any GraphQL error; it returns the data.
func (c *Client) OK(token, query string, vars map[string]any) map[string]any {
	c.t.Helper()
	r := c.Do(token, query, vars)
	require.Empty(c.t, r.Errors, "HTTP %d: %s\nquery: %s", r.Status, r.Body, query)
	return r.Data
}

// Into is OK, decoding the data into out (see Response.Decode).
func (c *Client) Into(token, query string, vars map[string]any, out any) {
	c.t.Helper()
	r := c.Do(token, query, vars)
	require.Empty(c.t, r.Errors, "HTTP %d: %s\nquery: %s", r.Status, r.Body, query)
	require.NoError(c.t, r.Decode(out), "%s", r.Body)
}

// Post sends body, as it is, to the GraphQL endpoint: for uploads and for
// requests malformed on purpose. The answer need not be JSON.
func (c *Client) Post(token, contentType string, body io.Reader, header ...string) Response {
	c.t.Helper()
	r, _ := c.post(token, contentType, body, header)
	return r
}

// post sends body and returns the answer and the error of decoding it.
func (c *Client) post(token, contentType string, body io.Reader, header []string) (Response, error) {
	c.t.Helper()
	ctx, cancel := c.context()
	defer cancel()
	req := c.request(ctx, token, body, append([]string{"Content-Type", contentType}, header...))
	var r Response
	if c.handler != nil {
		rec := httptest.NewRecorder()
		c.handler.ServeHTTP(rec, req)
		r = Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	} else {
		resp, err := http.DefaultClient.Do(req)
		require.NoError(c.t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(c.t, err)
		r = Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	err := json.Unmarshal(r.Body, &r)
	return r, err
}

// Request is the POST that Do would send, for a caller that sends it
// itself: over SSE to a handler, or a request that is meant to fail.
func (c *Client) Request(ctx context.Context, token, query string, vars map[string]any, header ...string) *http.Request {
	return c.request(ctx, token, bytes.NewReader(c.operation(query, vars)), append([]string{"Content-Type", "application/json"}, header...))
}

func (c *Client) operation(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(c.t, err)
	return b
}

func (c *Client) request(ctx context.Context, token string, body io.Reader, header []string) *http.Request {
	var req *http.Request
	if c.handler != nil {
		req = httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", body)
	} else {
		var err error
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/graphql", body)
		require.NoError(c.t, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func (c *Client) context() (context.Context, context.CancelFunc) {
	if c.Timeout > 0 {
		return context.WithTimeout(context.Background(), c.Timeout)
	}
	return context.WithCancel(context.Background())
}

// Stream is a subscription over SSE: a POST that accepts text/event-stream.
type Stream struct {
	// Response is the answer, whose body the stream reads.
	Response *http.Response
	lines    *bufio.Scanner
}

// Stream subscribes over SSE to the server at the client's URL; it lasts
// until ctx ends or Close.
func (c *Client) Stream(ctx context.Context, token, query string, vars map[string]any) *Stream {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(c.Request(ctx, token, query, vars, "Accept", "text/event-stream"))
	require.NoError(c.t, err)
	c.t.Cleanup(func() { resp.Body.Close() })
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(nil, 1<<24)
	return &Stream{Response: resp, lines: lines}
}

// Next returns the data of the next event, as sent; false when the stream
// has ended, or the server completed it.
func (s *Stream) Next() (string, bool) {
	for s.lines.Scan() {
		if s.lines.Text() == "event: complete" {
			return "", false
		}
		if data, ok := strings.CutPrefix(s.lines.Text(), "data:"); ok {
			return strings.TrimPrefix(data, " "), true
		}
	}
	return "", false
}

// Err is what ended the stream, nil for its end.
func (s *Stream) Err() error { return s.lines.Err() }

// Close leaves the stream.
func (s *Stream) Close() { s.Response.Body.Close() }
