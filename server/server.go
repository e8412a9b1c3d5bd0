// Package server wires HTTP: authentication, the GraphQL endpoint, the
// playground and health checks.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"studio/blobs"
	"studio/db"
	"studio/graph"
	"studio/jobs"
	"studio/models"
)

// Config configures a server.
type Config struct {
	Addr string
	// Debug reports every request's SQL statement count in extensions.sqlQueries.
	Debug  bool
	Logger *slog.Logger
	// LoaderWait is passed to graph.Options.
	LoaderWait time.Duration
	// Blobs keeps and serves files; MaxUpload bounds an upload (0: 500 MB).
	Blobs     *blobs.Store
	MaxUpload int64
	// NoIntrospection turns GraphQL schema introspection off.
	NoIntrospection bool
	// RiverUI, if set, is River's web UI, served at /riverui/ to admins.
	RiverUI http.Handler
	// Jobs enqueues publishes and reads jobs (nil: publishing is unavailable).
	Jobs *jobs.Client
	// AdminToken, if set, is the first admin's token, which the playground
	// offers to browsers on this machine (loopback requests) only, and only
	// when the server was started for local use: a loopback Addr, neither
	// BehindProxy nor PublicURL.
	AdminToken string
	// BehindProxy says that a reverse proxy relays requests to this server:
	// a loopback peer is then anyone on the internet.
	BehindProxy bool
	// PublicURL is the URL users reach the server at, when it is not Addr.
	PublicURL string
	// RequestTimeout bounds a request that is neither an upload nor a
	// subscription, reading its body included (0: 60 s); UploadTimeout
	// bounds an upload (0: 30 minutes).
	RequestTimeout time.Duration
	UploadTimeout  time.Duration
	// CORSOrigins are the other origins whose pages may call /graphql
	// (websockets included) and load /content/ (ParseOrigins; cors.go).
	CORSOrigins []string
}

// Default bounds of one request: a body that is not an upload may be 8 MB.
const (
	maxBody               = 8 << 20
	defaultRequestTimeout = 60 * time.Second
	defaultUploadTimeout  = 30 * time.Minute
)

// Server serves studio over HTTP.
type Server struct {
	db      *db.DB
	cfg     Config
	handler http.Handler
	// streams is done when shutdown begins: subscriptions (websockets, SSE)
	// end then, while other requests finish.
	streams     context.Context
	stopStreams context.CancelFunc
}

// New builds the server's routes.
func New(d *db.DB, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.UploadTimeout <= 0 {
		cfg.UploadTimeout = defaultUploadTimeout
	}
	s := &Server{db: d, cfg: cfg}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	m := newMetrics(d)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler())
	gql := graph.NewHandler(d, graph.Options{LoaderWait: cfg.LoaderWait, Logger: cfg.Logger,
		Authenticate: d.UserByToken, Blobs: cfg.Blobs, MaxUpload: cfg.MaxUpload, NoIntrospection: cfg.NoIntrospection,
		Observe: m.observe, Jobs: cfg.Jobs, RequestTimeout: cfg.RequestTimeout, CheckOrigin: s.originAllowed})
	mux.Handle("/graphql", s.cors("GET, POST, OPTIONS", s.bound(s.authenticate(streamUploads(gql, cfg.MaxUpload)))))
	if cfg.Blobs != nil {
		content := func(h http.HandlerFunc) http.Handler { return s.cors("GET, HEAD", inertContent(h)) }
		mux.Handle("GET /content/storage/{c0}/{c1}/{file}", content(s.serveBlob))
		mux.Handle("GET /content/databases/{file}", content(s.serveDatabase))
		mux.Handle("OPTIONS /content/", content(http.NotFound)) // preflights
	}
	mux.HandleFunc("GET /api/public/info/{$}", s.publicInfo)
	mux.HandleFunc("GET /api/public/info", s.publicInfo)
	mux.HandleFunc("GET /api/public/v1/channels/lookup/{identifier}", s.lookupChannel)
	mux.HandleFunc("GET /api/public/v1/channels", s.listChannels)
	s.mountPeer(mux) // /api/public/v2/: Kolibri browsing published channels (peer.go)
	s.mountChef(mux) // /api/internal/, /api/file/: ricecooker's uploads (ricecooker.go)
	s.mountPlayground(mux)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.RiverUI != nil {
		mux.Handle("/riverui/", s.adminOnly(cfg.RiverUI))
	}
	s.handler = s.logRequests(mux)
	return s
}

// Handler returns the routes, for tests that serve them with httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on cfg.Addr until ctx is done, then shuts down gracefully.
// ready, if not nil, receives the address once listening.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	// No ReadTimeout: bound gives each request's body its own deadline (an
	// upload may take far longer than a query). An idle keep-alive
	// connection is closed after two minutes.
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Shutdown waits for requests in flight, but streams (and hijacked
	// websockets, which it does not track) would hold it: they end at once.
	hs.RegisterOnShutdown(s.stopStreams)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.cfg.Logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// authenticate reads the API token (graph.TokenFromHeader: "Bearer" or
// ricecooker's "Token"), counts the request's SQL statements
// and hands the caller to the GraphQL layer. A bad token is refused outright
// rather than served as anonymous, so that a client never mistakes an
// expired token for an empty account.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if db.CounterFrom(ctx) == nil {
			ctx, _ = db.WithCounter(ctx)
		}
		ctx = graph.WithClientAddr(ctx, s.clientAddr(r))
		var u *models.User
		h := r.Header.Get("Authorization")
		if h == "" && isMultipart(r) {
			// Only users upload; refused before the body is read, an
			// anonymous upload costs neither disk nor descriptors.
			writeError(w, http.StatusUnauthorized, models.Errorf(models.CodeUnauthenticated,
				"log in to upload files: send Authorization: Bearer <token>"))
			return
		}
		var token string
		if h != "" {
			var err error
			u, token, err = s.userByHeader(ctx, h)
			switch {
			case models.CodeOf(err) == models.CodeUnauthenticated && graph.OnlyLogin(r):
				u, token = nil, "" // a stale token does not keep a client from logging in again
			case models.CodeOf(err) == models.CodeUnauthenticated:
				writeError(w, http.StatusUnauthorized, err)
				return
			case err != nil:
				s.cfg.Logger.ErrorContext(ctx, "authenticate", "err", err)
				writeError(w, http.StatusInternalServerError, models.Errorf(models.CodeInternal, "internal error; it has been logged"))
				return
			}
		}
		showSQL := s.cfg.Debug || (u != nil && u.IsAdmin && r.Header.Get("X-Studio-Debug") == "1")
		next.ServeHTTP(w, r.WithContext(graph.WithCaller(ctx, graph.Caller{User: u, Token: token, ShowSQL: showSQL})))
	})
}

// userByHeader is the user an Authorization header names, and its token.
func (s *Server) userByHeader(ctx context.Context, h string) (*models.User, string, error) {
	token, ok := graph.TokenFromHeader(h)
	if !ok {
		return nil, "", models.Errorf(models.CodeUnauthenticated, "the Authorization header must be \"Bearer <token>\" (or \"Token <token>\")")
	}
	u, err := s.db.UserByToken(ctx, token)
	return u, token, err
}

// bound limits a request's body and time. A body that is not an upload
// may be maxBody long; a websocket upgrade has none. Every request has
// RequestTimeout (an upload UploadTimeout) to arrive and be answered,
// except real subscriptions: a websocket, which lasts as long as its
// client, and an SSE request, which the GraphQL layer bounds unless its
// operation is a subscription (graph.Options.RequestTimeout). Those end when
// the server shuts down.
func (s *Server) bound(next http.Handler) http.Handler { return s.boundAs(next, isMultipart) }

// boundAs is bound, where isUpload says which requests are uploads.
func (s *Server) boundAs(next http.Handler, isUpload func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		websocket := r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
		upload := isUpload(r)
		timeout := s.cfg.RequestTimeout
		if upload {
			timeout = s.cfg.UploadTimeout
		}
		if !websocket {
			// A trickled body is cut when its time is up, whatever the
			// handler does meanwhile.
			readBy(w, r, time.Now().Add(timeout))
		}
		if !upload {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			r = graph.Negotiate(r) // stream or JSON, decided once
		}
		var ctx context.Context
		var cancel context.CancelFunc
		if websocket || graph.ServesStream(r) {
			ctx, cancel = context.WithCancel(r.Context())
			defer context.AfterFunc(s.streams, cancel)()
		} else {
			ctx, cancel = context.WithTimeout(r.Context(), timeout)
		}
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readBy sets the connection's read deadline for r's body, which must have
// arrived by then. net/http lifts it once the body has been read to its end
// (its background read, which notices a client hanging up, has no
// deadline), so a stream (SSE) lives on after its body.
func readBy(w http.ResponseWriter, r *http.Request, deadline time.Time) {
	if r.Body != nil && r.Body != http.NoBody {
		// The error is for writers that are not connections (a test's
		// recorder): there is no connection to bound then.
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
	}
}

// isMultipart says whether r is a multipart request, an upload, as gqlgen's
// multipart transport decides.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// streamUploads keeps uploads of unknown length (chunked requests) out of
// memory: gqlgen reads a file part into memory when the request's
// Content-Length is below its memory limit, and an unknown length (-1) is.
// Such a request is given the upload limit as its length, so that its files
// go to temporary files; the body is still cut at that limit.
func streamUploads(next http.Handler, limit int64) http.Handler {
	if limit <= 0 {
		limit = graph.DefaultMaxUpload
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 && isMultipart(r) {
			r.ContentLength = limit
		}
		next.ServeHTTP(w, r)
	})
}

// writeError answers with a GraphQL-shaped error body.
func writeError(w http.ResponseWriter, status int, err error) {
	var me *models.Error
	if !errors.As(err, &me) {
		me = models.Errorf(models.CodeInternal, "internal error")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // messages name "<md5>.<ext>"; chefs log the body as it is
	_ = enc.Encode(map[string]any{"errors": []any{map[string]any{
		"message": me.Message, "extensions": map[string]any{"code": me.Code},
	}}})
}

// readyz answers 200 when the database answers and its migrations are
// current: a load balancer sends this instance traffic then.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	pending, err := s.db.Pending(ctx)
	switch {
	case err != nil:
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
	case len(pending) > 0:
		http.Error(w, "migrations pending: "+strings.Join(pending, ", "), http.StatusServiceUnavailable)
	default:
		_, _ = w.Write([]byte("ready\n"))
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}
