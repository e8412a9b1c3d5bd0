package db

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"studio/models"
)

// notifyChannel is PostgreSQL's notification channel for committed changes;
// the payload is the changed channel's id.
const notifyChannel = "studio_changes"

// feed wakes the subscribers of channels' change logs when changes commit.
// A wake carries no data: subscribers read the log after the last rev they
// sent, so a wake that is lost, doubled or early loses and doubles nothing.
// On PostgreSQL writers NOTIFY in their transaction and every instance
// LISTENs; on SQLite (one process) writers wake subscribers directly.
type feed struct {
	mu     sync.Mutex
	subs   map[models.ID]map[chan struct{}]struct{}
	listen sync.Once
}

// Subscribe returns a channel that receives a value when changes to
// channelID may have committed, and a function that ends the subscription.
func (d *DB) Subscribe(channelID models.ID) (<-chan struct{}, func()) {
	if d.dialect.notify {
		d.feed.listen.Do(func() { go d.listenLoop() })
	}
	f := &d.feed
	wake := make(chan struct{}, 1)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[models.ID]map[chan struct{}]struct{}{}
	}
	if f.subs[channelID] == nil {
		f.subs[channelID] = map[chan struct{}]struct{}{}
	}
	f.subs[channelID][wake] = struct{}{}
	f.mu.Unlock()
	return wake, func() {
		f.mu.Lock()
		delete(f.subs[channelID], wake)
		if len(f.subs[channelID]) == 0 {
			delete(f.subs, channelID)
		}
		f.mu.Unlock()
	}
}

// wake wakes the subscribers of channels; all of them when channels is nil.
func (f *feed) wake(channels ...models.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	poke := func(subs map[chan struct{}]struct{}) {
		for w := range subs {
			select {
			case w <- struct{}{}:
			default: // already pending
			}
		}
	}
	if channels == nil {
		for _, subs := range f.subs {
			poke(subs)
		}
		return
	}
	for _, id := range channels {
		poke(f.subs[id])
	}
}

// announce tells every instance's subscribers of keys (channels, or jobs
// by their ids) that something for them commits with idb: this is the one
// NOTIFY. On PostgreSQL it runs inside the transaction, and is delivered
// when, and only if, that commits; on SQLite (one process) it does nothing,
// and the writer wakes this process's subscribers after the commit.
func (d *DB) announce(ctx context.Context, idb bun.IDB, keys ...models.ID) error {
	if !d.dialect.notify {
		return nil
	}
	for _, id := range keys {
		if _, err := idb.ExecContext(ctx, "SELECT pg_notify(?, ?)", notifyChannel, id.String()); err != nil {
			return fmt.Errorf("db: notify: %w", err)
		}
	}
	return nil
}

// listenLoop LISTENs on PostgreSQL for the life of the DB, reconnecting after
// errors; after each (re)connection it wakes every subscriber, since
// notifications may have been missed meanwhile.
func (d *DB) listenLoop() {
	ctx := d.closing
	for ctx.Err() == nil {
		err := d.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		slog.Warn("db: change feed listener stopped; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (d *DB) listenOnce(ctx context.Context) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	d.feed.wake() // anything committed before LISTEN took effect
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			// The connection's state is unknown: close it rather than
			// return it to the pool still listening.
			_ = conn.Conn().Close(context.Background())
			return err
		}
		if id, err := models.ParseID(n.Payload); err == nil {
			d.feed.wake(id)
		}
	}
}

// ChangesSince returns up to limit changes of a channel after rev since, in order.
func (d *DB) ChangesSince(ctx context.Context, channelID models.ID, since int64, limit int) ([]*models.Change, error) {
	var cs []*models.Change
	err := d.sql.NewSelect().Model(&cs).Where("chg.channel_id = ? AND chg.server_rev > ?", channelID, since).
		OrderExpr("chg.server_rev").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: changes: %w", err)
	}
	return cs, nil
}

// MaxRev returns the highest rev of a channel's log, 0 when it is empty.
func (d *DB) MaxRev(ctx context.Context, channelID models.ID) (int64, error) {
	revs, err := d.ServerRevs(ctx, []models.ID{channelID})
	return revs[channelID], err
}
