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

type countHook struct{}

func (countHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if c, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
	return ctx
}

func (countHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// CounterFrom returns the counter of WithCounter, or nil.
func CounterFrom(ctx context.Context) *atomic.Int64 {
	c, _ := ctx.Value(counterKey{}).(*atomic.Int64)
	return c
}
