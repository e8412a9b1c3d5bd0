package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"studio/blobs"
	"studio/db"
	"studio/jobs"
	"studio/models"
)

// Options configure the GraphQL handler.
type Options struct {
	// LoaderWait is how long loaders gather keys; 0 means 1 µs. Keys that
	// gqlgen asks for together arrive within that (an idle Go timer fires
	// after about a millisecond anyway), and a tree's levels are read ahead
	// whatever the timing (prefetch.go); a longer wait only adds a
	// millisecond or more to every level of every query.
	LoaderWait time.Duration
	Logger     *slog.Logger
	// Authenticate turns a bearer token sent in a websocket's
	// connection_init into a user.
	Authenticate func(ctx context.Context, token string) (*models.User, error)
	// Blobs keeps uploaded files; MaxUpload (0: DefaultMaxUpload) bounds them.
	Blobs     *blobs.Store
	MaxUpload int64
	// RequestTimeout bounds an operation over SSE or a websocket that is not
	// a subscription (0: none); the server bounds other requests itself.
	RequestTimeout time.Duration
	// Limits bound a query (nil: DefaultLimits); NoIntrospection turns
	// schema introspection off.
	Limits          *Limits
	NoIntrospection bool
	// Observe, if set, is told of every operation: its name (or its first
	// field), its outcome (ok, or the first error's code) and its duration.
	Observe func(operation, outcome string, took time.Duration)
	// Jobs enqueues publishes and reads jobs.
	Jobs *jobs.Client
	// CheckOrigin decides whether a websocket upgrade's Origin may connect
	// (nil: the server's own origin only).
	CheckOrigin func(*http.Request) bool
	// NoDirectReads leaves every field to gqlgen's executor, tree reads
	// included (direct.go); tests compare the two.
	NoDirectReads bool
}

// NewHandler serves the schema over GET and POST.
func NewHandler(d *db.DB, opts Options) *handler.Server {
	if opts.LoaderWait == 0 {
		opts.LoaderWait = time.Microsecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxUpload == 0 {
		opts.MaxUpload = DefaultMaxUpload
	}
	cfg := Config{Resolvers: &Resolver{DB: d, Blobs: opts.Blobs, MaxUpload: opts.MaxUpload, Jobs: opts.Jobs}}
	costs(&cfg.Complexity)
	srv := handler.New(NewExecutableSchema(cfg))
	// SSE first: it takes the JSON POSTs that negotiate a stream
	// (negotiate.go); POST takes the rest. JSON bodies are checked before
	// gqlgen decodes them (transport.go).
	srv.AddTransport(checkedJSON{boundedOperations{streamTransport{transport.SSE{KeepAlivePingInterval: 15 * time.Second}}, opts.RequestTimeout}})
	// A websocket carries queries and mutations too: each is bounded in time
	// as over POST (its messages are bounded by gqlgen's 1 MB read limit).
	srv.AddTransport(boundedOperations{originChecked{opts.CheckOrigin, transport.Websocket{
		PingPongInterval:      15 * time.Second, // graphql-transport-ws
		KeepAlivePingInterval: 15 * time.Second, // the legacy graphql-ws protocol
		InitTimeout:           10 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			return websocketCaller(ctx, p, opts.Authenticate, opts.Logger)
		},
	}}, opts.RequestTimeout})
	srv.Use(&subscriptionCaps{byUser: map[models.ID]int{}})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(checkedJSON{transport.POST{}})
	// Uploads: parts over MaxMemory go to temporary files, so an upload's
	// size does not become memory.
	srv.AddTransport(checkedMultipart{transport.MultipartForm{MaxUploadSize: opts.MaxUpload + 1<<20, MaxMemory: 4 << 20}})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.NoIntrospection {
		srv.Use(noIntrospection{})
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	limits := DefaultLimits
	if opts.Limits != nil {
		limits = *opts.Limits
	}
	srv.Use(&limits)

	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, NewLoaders(d, userFrom(ctx), opts.LoaderWait)))
	})
	if !opts.NoDirectReads {
		srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
			if m := directRead(ctx, d); m != nil {
				return m
			}
			return next(ctx)
		})
	}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		start := time.Now()
		resp := next(ctx)
		if opts.Observe != nil && resp != nil && graphql.HasOperationContext(ctx) {
			opts.Observe(operationName(graphql.GetOperationContext(ctx)), outcome(resp), time.Since(start))
		}
		if resp != nil && CallerFrom(ctx).ShowSQL {
			if n := db.CounterFrom(ctx); n != nil {
				if resp.Extensions == nil {
					resp.Extensions = map[string]any{}
				}
				resp.Extensions["sqlQueries"] = n.Load()
			}
		}
		return resp
	})
	srv.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		return presentError(ctx, opts.Logger, err)
	})
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		opts.Logger.ErrorContext(ctx, "graphql: panic", "panic", p, "stack", string(debug.Stack()))
		return errors.New("panic") // presented as an internal error
	})
	return srv
}

// operationName names an operation for metrics by its first root field, a
// name from the schema (the operation has been validated when it is set),
// never by the client's operation name, which would make a series per name.
func operationName(oc *graphql.OperationContext) string {
	if oc.Operation != nil {
		if name := firstField(oc.Operation.SelectionSet, 0); name != "" {
			return name
		}
	}
	return "unknown"
}

// firstField is the name of a selection set's first field, looking into
// fragments.
func firstField(set ast.SelectionSet, depth int) string {
	if depth > 10 {
		return ""
	}
	for _, sel := range set {
		var name string
		switch sel := sel.(type) {
		case *ast.Field:
			return sel.Name
		case *ast.InlineFragment:
			name = firstField(sel.SelectionSet, depth+1)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				name = firstField(sel.Definition.SelectionSet, depth+1)
			}
		}
		if name != "" {
			return name
		}
	}
	return ""
}

// outcome is ok, or the first error's code.
func outcome(resp *graphql.Response) string {
	if len(resp.Errors) == 0 {
		return "ok"
	}
	if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return code
	}
	return string(models.CodeInternal)
}

// websocketCaller authenticates a websocket by the token in its
// connection_init payload ("Authorization": "Bearer <token>" or "Token
// <token>", or "token"),
// when there is one; otherwise the caller is who the upgrade request's
// header said. The ack carries no payload: echoing the init payload would
// send the token back. A bad token closes the connection with 4401, which
// graphql-transport-ws clients take as "do not retry".
func websocketCaller(ctx context.Context, p transport.InitPayload, auth func(context.Context, string) (*models.User, error), logger *slog.Logger) (context.Context, *transport.InitPayload, error) {
	ctx = context.WithValue(ctx, wsConnKey{}, &wsConn{})
	token, ok := TokenFromHeader(p.Authorization())
	if !ok {
		token = strings.TrimSpace(p.Authorization()) // not a token: refused below
	}
	if token == "" {
		token = p.GetString("token")
	}
	if token == "" || auth == nil {
		return ctx, nil, nil
	}
	u, err := auth(ctx, token)
	switch {
	case models.CodeOf(err) == models.CodeUnauthenticated:
		ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, 4401), "Unauthorized")
		return ctx, nil, err
	case err != nil:
		// The legacy graphql-ws protocol sends the error's text: keep the
		// database's out of it.
		logger.ErrorContext(ctx, "websocket: authenticate", "err", err)
		ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, 4500), "Internal server error")
		return ctx, nil, models.Errorf(models.CodeInternal, "internal error; it has been logged")
	}
	c := CallerFrom(ctx)
	c.User, c.Token = u, token
	return WithCaller(ctx, c), nil, nil
}

// Caps on live subscriptions: each holds goroutines, a wake-up channel and
// database reads, so a client may not open them without bound. Anonymous
// callers can hold none today (both subscriptions need membership), but
// their sockets get a small cap all the same.
const (
	maxSubscriptionsPerSocket     = 100
	maxSubscriptionsPerUser       = 500 // over all of a user's sockets and SSE streams, on this instance
	maxAnonSubscriptionsPerSocket = 10
)

type wsConnKey struct{}

// wsConn is one websocket's state, in the context of everything it runs.
type wsConn struct {
	subs int // active subscriptions, guarded by subscriptionCaps.mu
}

func wsConnFrom(ctx context.Context) *wsConn {
	c, _ := ctx.Value(wsConnKey{}).(*wsConn)
	return c
}

// subscriptionCaps counts active subscriptions per socket and per user, and
// refuses one over either cap with TOO_COMPLEX: the request is well formed
// but asks for more than the server serves at once, as an over-cost query.
type subscriptionCaps struct {
	mu     sync.Mutex
	byUser map[models.ID]int
}

var (
	_ graphql.OperationContextMutator = (*subscriptionCaps)(nil)
	_ graphql.OperationInterceptor    = (*subscriptionCaps)(nil)
)

func (s *subscriptionCaps) ExtensionName() string                   { return "SubscriptionCaps" }
func (s *subscriptionCaps) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses a subscription over a cap before gqlgen
// starts a goroutine for it. It runs in the socket's read loop, so a flood
// of subscribes is answered one by one, no faster than the client reads.
func (s *subscriptionCaps) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full(ctx)
}

// InterceptOperation holds a subscription's places while it runs: they are
// taken here, where the subscription starts, and given back when its stream
// ends (or, failing that, when its context does).
func (s *subscriptionCaps) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	conn, u := wsConnFrom(ctx), userFrom(ctx)
	s.mu.Lock()
	if err := s.full(ctx); err != nil {
		s.mu.Unlock()
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
	}
	if conn != nil {
		conn.subs++
	}
	if u != nil {
		s.byUser[u.ID]++
	}
	s.mu.Unlock()
	var once sync.Once
	release := func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if conn != nil {
				conn.subs--
			}
			if u != nil {
				if s.byUser[u.ID]--; s.byUser[u.ID] <= 0 {
					delete(s.byUser, u.ID)
				}
			}
		})
	}
	context.AfterFunc(ctx, release)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil {
			release() // at once, so that the next subscribe on this socket finds the place free
		}
		return resp
	}
}

// full says which cap, if any, the caller has reached; s.mu is held.
func (s *subscriptionCaps) full(ctx context.Context) *gqlerror.Error {
	conn, u := wsConnFrom(ctx), userFrom(ctx)
	perSocket := maxSubscriptionsPerSocket
	if u == nil {
		perSocket = maxAnonSubscriptionsPerSocket
	}
	var msg string
	switch {
	case conn != nil && conn.subs >= perSocket:
		msg = fmt.Sprintf("this connection already has %d active subscriptions, the most it may have; complete one before subscribing again", perSocket)
	case u != nil && s.byUser[u.ID] >= maxSubscriptionsPerUser:
		msg = fmt.Sprintf("you already have %d active subscriptions, the most a user may have; complete one before subscribing again", maxSubscriptionsPerUser)
	default:
		return nil
	}
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(models.CodeTooComplex)}}
}

// presentError turns an error into what the client sees: a models.Error
// keeps its message and code; gqlgen's own parse and validation errors pass
// through as BAD_USER_INPUT unless they have a code; anything else is
// logged and hidden behind INTERNAL_SERVER_ERROR.
func presentError(ctx context.Context, logger *slog.Logger, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	var me *models.Error
	switch {
	case errors.As(err, &me):
		me = inputNames(ctx, me)
		gerr.Message = me.Message
		gerr.Extensions = map[string]any{"code": string(me.Code)}
		if len(me.Items) > 0 {
			gerr.Extensions["items"] = me.Items
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		gerr.Message = "the request was cancelled or took too long"
		gerr.Extensions = map[string]any{"code": string(models.CodeInternal)}
	case gerr.Err == nil:
		// gqlgen's own errors: parse, validation, complexity, input coercion.
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		if _, ok := gerr.Extensions["code"]; !ok {
			gerr.Extensions["code"] = string(models.CodeBadUserInput)
		}
	default:
		logger.ErrorContext(ctx, "graphql: internal error", "path", gerr.Path.String(), "err", err)
		gerr.Message = "internal error; it has been logged"
		gerr.Extensions = map[string]any{"code": string(models.CodeInternal)}
	}
	return gerr
}

// originChecked refuses a websocket upgrade from an origin check does not
// allow, with 403 before gqlgen's transport answers (which would write its
// own status after the library's). An allowed one is accepted whatever its
// origin, check having decided.
type originChecked struct {
	check func(*http.Request) bool
	transport.Websocket
}

func (t originChecked) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if t.check != nil {
		if !t.check(r) {
			http.Error(w, "this origin may not open a websocket here: start studio with --cors-origins to allow it", http.StatusForbidden)
			return
		}
		t.Implementation = transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true}}
	}
	t.Websocket.Do(w, r, exec)
}
