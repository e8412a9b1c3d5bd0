package db

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

type counterKey struct{}

// WithCounter returns a context in which every statement run through a DB is
// counted in the returned counter. The API reports it as extensions.sqlQueries;
// tests assert on it instead of timing.
func WithCounter(ctx context.Context) (context.Context, *atomic.Int64) {
	c := new(atomic.Int64)
	return context.WithValue(ctx, counterKey{}, c), c
}

type hookKey struct{}

// WithQueryHook returns a context in which every statement run through a DB
// passes h too: a test's probe on the statements of one call, which sees
// nothing else and needs no change to the handle that others use meanwhile.
func WithQueryHook(ctx context.Context, h bun.QueryHook) context.Context {
	return context.WithValue(ctx, hookKey{}, h)
}

// countHook counts statements for WithCounter and calls WithQueryHook's hook.
type countHook struct{}

func (countHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if c, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
	if h, ok := ctx.Value(hookKey{}).(bun.QueryHook); ok {
		ctx = h.BeforeQuery(ctx, ev)
	}
	return ctx
}

func (countHook) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	if h, ok := ctx.Value(hookKey{}).(bun.QueryHook); ok {
		h.AfterQuery(ctx, ev)
	}
}

// CounterFrom returns the counter of WithCounter, or nil.
func CounterFrom(ctx context.Context) *atomic.Int64 {
	c, _ := ctx.Value(counterKey{}).(*atomic.Int64)
	return c
}
