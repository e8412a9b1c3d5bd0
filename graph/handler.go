package graph

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
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
	// Limits bound a query (nil: DefaultLimits); NoIntrospection turns
	// schema introspection off.
	Limits          *Limits
	NoIntrospection bool
	// Observe, if set, is told of every operation: its name (or its first
	// field), its outcome (ok, or the first error's code) and its duration.
	Observe func(operation, outcome string, took time.Duration)
	// Jobs enqueues publishes and reads jobs.
	Jobs *jobs.Client
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
	// SSE first: it matches POSTs that accept text/event-stream.
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: 15 * time.Second})
	srv.AddTransport(transport.Websocket{
		PingPongInterval:      15 * time.Second, // graphql-transport-ws
		KeepAlivePingInterval: 15 * time.Second, // the legacy graphql-ws protocol
		InitTimeout:           10 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			return websocketCaller(ctx, p, opts.Authenticate)
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	// Uploads: parts over MaxMemory go to temporary files, so an upload's
	// size does not become memory.
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: opts.MaxUpload + 1<<20, MaxMemory: 4 << 20})
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

// operationName names an operation for metrics: its name, or else its
// first field.
func operationName(oc *graphql.OperationContext) string {
	if oc.Operation != nil && oc.Operation.Name != "" {
		return oc.Operation.Name
	}
	if oc.Operation != nil {
		for _, sel := range oc.Operation.SelectionSet {
			if f, ok := sel.(*ast.Field); ok {
				return f.Name
			}
		}
	}
	return "unknown"
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
// connection_init payload ("Authorization": "Bearer <token>", or "token"),
// when there is one; otherwise the caller is who the upgrade request's
// header said. A bad token closes the connection.
func websocketCaller(ctx context.Context, p transport.InitPayload, auth func(context.Context, string) (*models.User, error)) (context.Context, *transport.InitPayload, error) {
	token := strings.TrimSpace(strings.TrimPrefix(p.Authorization(), "Bearer "))
	if token == "" {
		token = p.GetString("token")
	}
	if token == "" || auth == nil {
		return ctx, &p, nil
	}
	u, err := auth(ctx, token)
	if err != nil {
		return ctx, nil, err
	}
	c := CallerFrom(ctx)
	c.User = u
	return WithCaller(ctx, c), &p, nil
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
