package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"studio/models"
)

// Guards around gqlgen's HTTP transports. A body is checked before gqlgen
// reads it: gqlgen echoes an undecodable JSON body in its error (and the SSE
// transport logs it), and a multipart map path that runs through a value of
// the wrong type panics in its AddUpload.

// Bounds of a multipart request's parts before its files. gqlgen opens a
// file's temporary copy once per path, so a map may list few paths.
const (
	maxOperationsPart = 8 << 20
	maxMapPart        = 1 << 20
	maxUploadPaths    = 100 // in all
	maxPathsPerFile   = 10  // the spec allows a file at several paths (say, one upload used twice)
)

// checkedJSON is a JSON transport (POST, SSE) whose body is read and
// checked first: a body gqlgen could not decode is refused with a short
// message rather than echoed.
type checkedJSON struct{ graphql.Transport }

func (t checkedJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		status, msg := bodyReadError(err)
		refuse(w, r, exec, status, msg)
		return
	}
	if err := checkParams(body); err != nil {
		refuse(w, r, exec, http.StatusBadRequest,
			`the request body is not valid JSON: send an object such as {"query": "{ me { id } }", "variables": {}}`)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	t.Transport.Do(w, r, exec)
}

// bodyReadError says why a body could not be read, in words for the client.
func bodyReadError(err error) (int, string) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is over %d bytes; send files as uploads (multipart)", tooLarge.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, "the request body took too long to arrive"
	default:
		return http.StatusBadRequest, "the request body could not be read"
	}
}

// refuse answers a request before gqlgen runs it, as a GraphQL error with
// code BAD_USER_INPUT.
func refuse(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, status int, msg string) {
	resp := exec.DispatchError(r.Context(), gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(models.CodeBadUserInput)}}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

// wireParams are the fields gqlgen decodes a JSON request into
// (graphql.RawParams), checked for their JSON types only. Each occurrence of
// a key is checked, as gqlgen decodes each.
type wireParams struct {
	Query         wireString `json:"query"`
	OperationName wireString `json:"operationName"`
	Variables     wireObject `json:"variables"`
	Extensions    wireObject `json:"extensions"`
}

type wireString struct{}

func (*wireString) UnmarshalJSON(b []byte) error {
	if b[0] == '"' || string(b) == "null" {
		return nil
	}
	return errors.New("not a string")
}

// wireObject accepts any object: decoded into map[string]any with numbers
// kept as json.Number, as gqlgen does, a well-formed object cannot fail.
type wireObject struct{}

func (*wireObject) UnmarshalJSON(b []byte) error {
	if b[0] == '{' || string(b) == "null" {
		return nil
	}
	return errors.New("not an object")
}

// checkParams fails where gqlgen's decoding of body would: it decodes the
// first JSON value the same way (json.Decoder, numbers as json.Number).
func checkParams(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var p wireParams
	return dec.Decode(&p)
}

// boundedOperations gives every operation a transport carries, except a
// subscription, at most timeout (0: no limit). It is for SSE and websockets,
// which carry queries and mutations as well as subscriptions: the server
// cannot tell them apart before the operation is parsed, so it leaves their
// time to this.
type boundedOperations struct {
	graphql.Transport
	timeout time.Duration
}

func (t boundedOperations) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r, timeoutExecutor{exec, t.timeout})
}

type timeoutExecutor struct {
	graphql.GraphExecutor
	timeout time.Duration
}

func (e timeoutExecutor) DispatchOperation(ctx context.Context, oc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	if e.timeout <= 0 || oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return e.GraphExecutor.DispatchOperation(ctx, oc)
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, oc)
	answered := false
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil && !answered && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// gqlgen ends a stream whose context is done without a word.
			resp = &graphql.Response{Errors: gqlerror.List{{Message: "the request was cancelled or took too long",
				Extensions: map[string]any{"code": string(models.CodeInternal)}}}}
		}
		answered = true
		if resp == nil {
			cancel() // the last response; otherwise the request's end cancels it
		}
		return resp
	}, ctx
}

// checkedMultipart is gqlgen's multipart transport behind a check of the
// operations and map parts, which it reads first and then hands on, with
// the rest of the body, as they came.
type checkedMultipart struct{ transport.MultipartForm }

func (t checkedMultipart) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	_, ps, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ps["boundary"] == "" {
		refuse(w, r, exec, http.StatusBadRequest, "the request is not multipart/form-data with a boundary")
		return
	}
	var seen bytes.Buffer
	body := r.Body
	mr := multipart.NewReader(io.TeeReader(body, &seen), ps["boundary"])
	if status, msg := checkMultipartHead(mr); msg != "" {
		refuse(w, r, exec, status, msg)
		return
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(&seen, body), body}
	t.MultipartForm.Do(w, r, exec)
}

// checkMultipartHead reads the operations and map parts of a multipart
// request (the GraphQL multipart request spec) and says what is wrong with
// them, if anything, as an HTTP status and a message.
func checkMultipartHead(mr *multipart.Reader) (int, string) {
	const spec = " (the GraphQL multipart request spec: operations, then map, then the files)"
	part, err := mr.NextPart()
	if err != nil {
		status, msg := bodyReadError(err)
		if status == http.StatusBadRequest {
			msg = "the multipart body could not be read" + spec
		}
		return status, msg
	}
	if part.FormName() != "operations" {
		return http.StatusUnprocessableEntity, "the first part must be operations" + spec
	}
	var params graphql.RawParams
	dec := json.NewDecoder(io.LimitReader(part, maxOperationsPart))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		if status, msg := bodyReadError(err); status != http.StatusBadRequest {
			return status, msg
		}
		return http.StatusUnprocessableEntity, fmt.Sprintf("operations must be one JSON object of at most %d bytes", maxOperationsPart)
	}
	if part, err = mr.NextPart(); err != nil || part.FormName() != "map" {
		return http.StatusUnprocessableEntity, "the second part must be map" + spec
	}
	var uploads map[string][]string
	if err := json.NewDecoder(io.LimitReader(part, maxMapPart)).Decode(&uploads); err != nil {
		if status, msg := bodyReadError(err); status != http.StatusBadRequest {
			return status, msg
		}
		return http.StatusUnprocessableEntity, `map must be a JSON object of file names to lists of paths, such as {"0": ["variables.input.file"]}`
	}
	if msg := checkUploadMap(params.Variables, uploads); msg != "" {
		return http.StatusUnprocessableEntity, msg
	}
	return 0, ""
}

// checkUploadMap checks a multipart map against the operation's variables:
// few paths, each leading to a place an upload can go, as gqlgen's
// AddUpload walks them (it panics where a path runs through a value of
// another type, or past a list's end).
func checkUploadMap(vars map[string]any, uploads map[string][]string) string {
	total := 0
	for _, paths := range uploads {
		total += len(paths)
		if len(paths) > maxPathsPerFile {
			return fmt.Sprintf("map lists a file at %d paths; a file may be at most at %d", len(paths), maxPathsPerFile)
		}
	}
	if total > maxUploadPaths || len(uploads) > maxUploadPaths {
		return fmt.Sprintf("map lists %d paths; a request may have at most %d", max(total, len(uploads)), maxUploadPaths)
	}
	for _, paths := range uploads {
		for _, p := range paths {
			if msg := checkUploadPath(vars, p); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func checkUploadPath(vars map[string]any, path string) string {
	rest, ok := strings.CutPrefix(path, "variables.")
	if !ok {
		return fmt.Sprintf("map path %q must start with \"variables.\"", truncate(path))
	}
	if vars == nil {
		return fmt.Sprintf("map path %q names a variable, and the operation has none", truncate(path))
	}
	var v any = vars
	steps := strings.Split(rest, ".")
	for i, step := range steps {
		last := i == len(steps)-1
		if index, err := strconv.Atoi(step); err == nil {
			list, ok := v.([]any)
			if !ok || index < 0 || index >= len(list) {
				return fmt.Sprintf("map path %q: %q is not an index of a list in the variables", truncate(path), truncate(step))
			}
			v = list[index]
		} else {
			obj, ok := v.(map[string]any)
			if !ok {
				return fmt.Sprintf("map path %q: %q is not a field of an object in the variables", truncate(path), truncate(step))
			}
			v = obj[step]
		}
		if v == nil && !last {
			return fmt.Sprintf("map path %q runs past the end of the variables", truncate(path))
		}
	}
	return ""
}

// truncate keeps a client's text short in a message.
func truncate(s string) string {
	if len(s) <= 100 {
		return s
	}
	return strings.ToValidUTF8(s[:100], "") + "…"
}
