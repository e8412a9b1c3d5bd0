package graph

import (
	"context"
	"strings"

	"studio/models"
)

type callerKey struct{}

// Caller is who sent the request, as the HTTP layer authenticated them.
type Caller struct {
	User *models.User // nil when anonymous
	// Token is the API token the request was sent with, for logout.
	Token string
	// ShowSQL adds the request's statement count to extensions.sqlQueries.
	ShowSQL bool
}

// WithCaller stores the caller for resolvers.
func WithCaller(ctx context.Context, c Caller) context.Context {
	if sink, ok := ctx.Value(sinkKey{}).(*Caller); ok {
		*sink = c
	}
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller; anonymous when none was stored.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

func userFrom(ctx context.Context) *models.User { return CallerFrom(ctx).User }

type sinkKey struct{}

// WithCallerSink asks WithCaller to also report the caller to *sink, for
// the request log written after the request.
func WithCallerSink(ctx context.Context, sink *Caller) context.Context {
	return context.WithValue(ctx, sinkKey{}, sink)
}

// TokenFromHeader is the API token an Authorization header carries, as
// "Bearer <token>" or as "Token <token>", which ricecooker sends (Django
// REST framework's TokenAuthentication); a scheme's case does not matter
// (RFC 9110). ok is false for any other scheme.
func TokenFromHeader(h string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "Token") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}
