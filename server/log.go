package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"studio/db"
	"studio/graph"
)

// logRequests writes one line a request: method, path, status, duration,
// SQL statements and the caller's id. Never a token, a password or a body.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, counter := db.WithCounter(r.Context())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		var caller graph.Caller
		next.ServeHTTP(rec, r.WithContext(graph.WithCallerSink(ctx, &caller)))
		path := r.URL.Path
		if strings.HasPrefix(path, uploadPath) {
			path = uploadPath + "…" // the rest is an upload URL's secret
		}
		attrs := []any{"method", r.Method, "path", path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond), "sql", counter.Load()}
		if caller.User != nil {
			attrs = append(attrs, "user", caller.User.ID.String())
		}
		s.cfg.Logger.InfoContext(r.Context(), "request", attrs...)
	})
}

// statusRecorder remembers the status written, and keeps the writer's
// optional interfaces that streams need (flushing for SSE, hijacking for
// websockets).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("server: the connection cannot be hijacked")
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
