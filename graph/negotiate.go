package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// How a POST is answered, as the GraphQL-over-HTTP spec says: in the
// client's most preferred acceptable media type. A query or a mutation is
// answered in JSON unless the client prefers text/event-stream to every JSON
// type it accepts (urql's default Accept lists text/event-stream last, after
// the JSON types, and must get JSON); a subscription is answered as a stream
// whenever the client accepts one, since it cannot be answered otherwise.

// @defer is not advertised: over JSON the deferred part would never arrive,
// and gqlgen has no multipart/mixed transport for incremental delivery. A
// query that uses it fails validation (unknown directive) instead.
func init() { delete(parsedSchema.Directives, "defer") }

type streamChoiceKey struct{}

// Negotiate decides once whether r is answered as an event stream (see
// ServesStream) and keeps the decision in r's context, so that the server's
// bounds and the transports agree and the body is read for it once.
func Negotiate(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), streamChoiceKey{}, decideStream(r)))
}

// ServesStream says whether a POST is answered as a text/event-stream: a
// JSON POST whose client prefers that stream to JSON, or accepts it and
// asks for a subscription.
func ServesStream(r *http.Request) bool {
	if v, ok := r.Context().Value(streamChoiceKey{}).(bool); ok {
		return v
	}
	return decideStream(r)
}

func decideStream(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" || r.Method != http.MethodPost {
		return false
	}
	switch preference(r.Header.Values("Accept")) {
	case preferStream:
		return true
	case acceptStream:
		return isSubscription(peekBody(r))
	default:
		return false
	}
}

type streamPreference int

const (
	noStream     streamPreference = iota // text/event-stream not acceptable
	acceptStream                         // acceptable, a JSON type preferred or as good
	preferStream                         // preferred to every JSON type
)

// preference ranks text/event-stream against the JSON types in Accept
// headers: by q value, and among equal q values by order (the client's
// listing order is the only preference it states then).
func preference(accept []string) streamPreference {
	streamQ, jsonQ := -1.0, -1.0
	streamAt, jsonAt := 0, 0
	i := 0
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			i++
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil {
					continue
				}
			}
			if q <= 0 {
				continue
			}
			switch mt {
			case "text/event-stream":
				if q > streamQ {
					streamQ, streamAt = q, i
				}
			case "application/json", "application/graphql-response+json", "application/*", "*/*":
				if q > jsonQ {
					jsonQ, jsonAt = q, i
				}
			}
		}
	}
	switch {
	case streamQ < 0:
		return noStream
	case jsonQ < 0 || streamQ > jsonQ || (streamQ == jsonQ && streamAt < jsonAt):
		return preferStream
	default:
		return acceptStream
	}
}

// peekBody reads r's body and puts it back, so that the transport reads it
// again; a read error is put back too, after what was read.
func peekBody(r *http.Request) []byte {
	body, err := io.ReadAll(r.Body)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	r.Body = io.NopCloser(rest)
	return body
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// isSubscription says whether a JSON request body asks for a subscription.
// urql asks this of every query (its Accept lists the stream), so a body
// that does not even spell the word is not parsed.
func isSubscription(body []byte) bool {
	if !bytes.Contains(body, []byte("subscription")) {
		return false
	}
	op := requestedOperation(body)
	return op != nil && op.Operation == ast.Subscription
}

// OnlyLogin says whether r is a JSON POST of a mutation that only logs
// in (login fields, __typename): one that needs no caller, so that a stale
// Authorization header need not stop it.
func OnlyLogin(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" || r.Method != http.MethodPost {
		return false
	}
	op := requestedOperation(peekBody(r))
	if op == nil || op.Operation != ast.Mutation || len(op.SelectionSet) == 0 {
		return false
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || (f.Name != "login" && f.Name != "__typename") {
			return false
		}
	}
	return true
}

// requestedOperation is the operation a JSON request body asks for: the
// one it names, or its only one. nil for a body that does not parse (it is
// refused later, as JSON) or that sends no query (a persisted query's hash).
func requestedOperation(body []byte) *ast.OperationDefinition {
	var p struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &p) != nil || p.Query == "" {
		return nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: p.Query})
	if err != nil {
		return nil
	}
	if op := doc.Operations.ForName(p.OperationName); op != nil {
		return op
	}
	if p.OperationName == "" && len(doc.Operations) == 1 {
		return doc.Operations[0]
	}
	return nil
}

// streamTransport is gqlgen's SSE transport for the requests ServesStream
// picks; the other JSON POSTs go to the POST transport.
type streamTransport struct{ transport.SSE }

func (streamTransport) Supports(r *http.Request) bool { return ServesStream(r) }

var _ graphql.Transport = streamTransport{}
