package db

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"studio/models"
)

// The door is the one way a write reaches the database. Every write
// transaction of studio's is opened by door, and door ends it the same way:
// it appends what the write logged to the change log, announces (pg_notify,
// PostgreSQL) every channel and job it touched, commits, and then wakes this
// process's subscribers of them. A write cannot forget any of these steps,
// because it does none of them itself.
//
// strayHook checks that this holds: a statement that writes outside a
// transaction the door opened is recorded (StrayWrites), and dbtest fails
// every test that leaves one.

// writeTx is a write transaction opened by the door.
type writeTx struct {
	bun.Tx
	log  []*models.Change
	keys map[models.ID]bool
}

// record adds entries to the change log, with the transaction; their
// channels' subscribers are woken.
func (w *writeTx) record(entries ...*models.Change) {
	w.log = append(w.log, entries...)
	for _, e := range entries {
		if e.ChannelID != nil {
			w.touch(*e.ChannelID)
		}
	}
}

// touch wakes the subscribers of keys (channels, or jobs by models.JobID)
// once the transaction commits.
func (w *writeTx) touch(keys ...models.ID) {
	if w.keys == nil {
		w.keys = map[models.ID]bool{}
	}
	for _, k := range keys {
		w.keys[k] = true
	}
}

func (w *writeTx) touched() []models.ID {
	out := make([]models.ID, 0, len(w.keys))
	for k := range w.keys {
		out = append(out, k)
	}
	return out
}

// door runs fn in one write transaction, again if PostgreSQL chose it as a
// deadlock victim (retryTx), and ends it as described above.
func (d *DB) door(ctx context.Context, fn func(ctx context.Context, w *writeTx) error) error {
	var keys []models.ID
	err := d.retryTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		w := &writeTx{Tx: tx}
		if err := fn(ctx, w); err != nil {
			return err
		}
		if err := appendChanges(ctx, tx, w.log...); err != nil {
			return err
		}
		keys = w.touched()
		return d.announce(ctx, tx, keys...)
	})
	if err == nil {
		d.feed.wake(keys...)
	}
	return err
}

// doorKey marks the context of a transaction the door opened, or of a
// migration (which changes the schema, not data).
type doorKey struct{}

func throughDoor(ctx context.Context) context.Context {
	return context.WithValue(ctx, doorKey{}, true)
}

// strayHook records statements that write outside the door.
type strayHook struct{ s *strays }

func (h strayHook) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if ctx.Value(doorKey{}) == nil && writes(ev.Query) {
		h.s.add(ev.Query)
	}
	return ctx
}

func (strayHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// writes says whether a statement may change data: anything but a read.
func writes(query string) bool {
	q := strings.ToUpper(strings.TrimSpace(query))
	first, _, _ := strings.Cut(q, " ")
	switch first {
	case "SELECT", "PRAGMA", "EXPLAIN", "SHOW", "VACUUM", "ANALYZE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return false
	case "WITH":
		for _, verb := range []string{"INSERT ", "UPDATE ", "DELETE "} {
			if strings.Contains(q, verb) {
				return true
			}
		}
		return false
	}
	return true
}

// strays holds what wrote around the door.
type strays struct {
	mu    sync.Mutex
	found []string
}

func (s *strays) add(query string) {
	if len(query) > 200 {
		query = query[:200] + "…"
	}
	slog.Error("db: a statement wrote outside the door", "query", query)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.found) < 100 {
		s.found = append(s.found, query)
	}
}

// StrayWrites lists the statements (at most 100) that wrote outside a
// transaction opened by the door since the DB was opened: none, unless
// code in this package goes around it. dbtest fails a test that leaves any.
func (d *DB) StrayWrites() []string {
	d.strays.mu.Lock()
	defer d.strays.mu.Unlock()
	return append([]string(nil), d.strays.found...)
}

// ForTest returns a handle on d's database for tests that read or corrupt
// rows directly. Its statements bypass the door, and are not recorded as
// stray: nothing but a test may use it (TestOnlyTestsUseForTest).
func (d *DB) ForTest(tb testing.TB) *bun.DB {
	tb.Helper()
	d.testOnce.Do(func() { d.test = bun.NewDB(d.sql.DB, d.sql.Dialect()).WithQueryHook(countHook{}) })
	return d.test
}
